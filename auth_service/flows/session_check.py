"""The check ``GET /api/session`` makes on every page view of the content site.

The same rules as flows/sessions.py's :func:`~auth_service.flows.sessions.lookup`
(a session ends when it is revoked, idle, too old, or its account is disabled),
read for the hot path: only the columns the answer reports, in one statement run
on the driver's cursor, on a kept autocommit connection. Nothing is cached, so a
revocation anywhere counts on the very next check.
"""

from __future__ import annotations

import threading
import weakref
from collections import namedtuple
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, bindparam, event, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from auth_service import clock
from auth_service.extensions import db
from auth_service.flows.sessions import (
    TOUCH_INTERVAL,
    hash_token,
    is_alive,
    plausible_token,
    touch_statement,
)
from auth_service.models import Session, User

__all__ = ["check"]


@dataclass(frozen=True)
class Check:
    """A live session as ``GET /api/session`` reports it: plain values, no ORM objects."""

    session_id: str
    ends_at: datetime
    # How (RFC 8176 values) and when the reader last proved who they are.
    amr: list[str]
    auth_time: datetime
    user_id: int
    email: str
    email_verified: bool
    name: str
    avatar_url: str | None
    roles: list[str]


# Only the columns /api/session needs, in a statement built once: SQLAlchemy
# caches its compiled form, and rows come back as tuples rather than objects.
_CHECK = (
    select(
        Session.id, Session.user_id, Session.last_seen_at, Session.idle_expires_at,
        Session.expires_at, Session.revoked_at, Session.amr, Session.auth_time, User.email,
        User.display_name, User.avatar_url, User.email_confirmed_at, User.is_admin,
        User.disabled_at,
    )
    .join_from(Session, User, User.id == Session.user_id)
    .where(Session.token_hash == bindparam("token_hash"))
)


def check(token: str | None) -> Check | None:
    """What /api/session reports for a token, or None; refreshes last_seen once a minute.

    The same rules as :func:`lookup`, read without the ORM session on a kept
    connection (see _kept_connection). If the database dropped that connection
    (a restart, a failover), the check is made once more on a new one.
    """
    if not plausible_token(token):
        return None
    try:
        return _check(token)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    _drop_kept(db.engine)  # they all predate the disconnect
    return _check(token)


def _check(token: str) -> Check | None:
    with _kept_connection() as connection:
        row = _read(connection, hash_token(token))
        if row is None:
            return None
        now = clock.now()
        if not is_alive(row, row.disabled_at, now):
            return None
        if now - row.last_seen_at >= TOUCH_INTERVAL:
            connection.execute(touch_statement(row, now))
            connection.commit()  # a no-op on a kept (autocommit) connection
    # The row has the attribute names the models' properties read, so their rules apply as is.
    return Check(
        session_id=row.id,
        ends_at=Session.ends_at.fget(row),
        amr=list(row.amr or ()),
        auth_time=row.auth_time,
        user_id=row.user_id,
        email=row.email,
        email_verified=User.email_confirmed.fget(row),
        name=User.name.fget(row),
        avatar_url=row.avatar_url,
        roles=User.roles.fget(row),
    )


# A row of _CHECK, named after its columns (the names the models' properties read),
# so the two can never list them differently.
_CheckRow = namedtuple("_CheckRow", _CHECK.selected_columns.keys())


@dataclass(frozen=True)
class _Compiled:
    """_CHECK as the driver takes it, and how to turn its columns into Python values."""

    sql: str
    positional: bool
    processors: tuple[Callable[[Any], Any] | None, ...]

    @classmethod
    def of(cls, dialect: Dialect) -> _Compiled:
        compiled = _CHECK.compile(dialect=dialect)
        return cls(
            sql=compiled.string,
            positional=compiled.positional,
            processors=tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                             for column in _CHECK.selected_columns),
        )


# Per dialect (one per engine); forgotten with the engine.
_compiled: weakref.WeakKeyDictionary[Dialect, _Compiled] = weakref.WeakKeyDictionary()


def _read(connection: Connection, token_hash: str) -> Any:  # a _CheckRow, or None
    """Run _CHECK on the driver's cursor: the same statement, types and values as
    ``connection.execute(_CHECK)``, for about a tenth of its Python overhead.

    Executing through SQLAlchemy costs some 120 µs a call on the benchmark machine
    (cache-key lookup, execution context, result metadata), eight times what the
    database takes; on the hot path that was most of a check. SQLAlchemy still
    compiles the statement and converts every column (its own result processors,
    so a UTCDateTime reads back the same). A driver error is left to SQLAlchemy:
    the statement is run again through it, which tells a dropped connection
    (check() retries on a new one) from an error that Flask turns into a 503.
    """
    dialect = connection.dialect
    compiled = _compiled.get(dialect)
    if compiled is None:
        compiled = _compiled[dialect] = _Compiled.of(dialect)
    params = (token_hash,) if compiled.positional else {"token_hash": token_hash}
    try:
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute(compiled.sql, params)
            values = cursor.fetchone()
        finally:
            cursor.close()
    except dialect.loaded_dbapi.Error:
        values = connection.execute(_CHECK, {"token_hash": token_hash}).first()
        return None if values is None else _CheckRow(*values)
    if values is None:
        return None
    return _CheckRow(*(value if process is None else process(value)
                       for process, value in zip(compiled.processors, values, strict=True)))


# check() keeps up to _KEPT_CONNECTIONS connections per engine open between
# requests, in autocommit mode. A check is then one statement: no ping at checkout,
# no BEGIN, no ROLLBACK on return (each a round trip to PostgreSQL, and together
# about half a check's time on SQLite), and no transaction, snapshot or lock held
# between checks, so every check reads what was committed last: a revocation
# anywhere counts on the very next request. They are closed when the engine is
# disposed; like the pool's, they are opened after gunicorn has forked. Pools
# that share one connection (SQLite in memory) get a plain connection instead.
_KEPT_CONNECTIONS = 4
_kept: dict[Engine, list[Connection]] = {}
_kept_lock = threading.Lock()


@contextmanager
def _kept_connection() -> Iterator[Connection]:
    """A kept autocommit connection, or a new one; kept afterwards unless it failed."""
    engine = db.engine
    if isinstance(engine.pool, SingletonThreadPool | StaticPool):
        # These pools hand the same connection to everyone (SQLite in memory):
        # keeping it in autocommit mode would change it under the ORM's feet.
        with engine.connect() as connection:
            yield connection
        return
    kept = _kept.get(engine)
    if kept is None:
        kept = _keep_for(engine)
    try:
        connection = kept.pop()  # atomic: no two threads get the same one
    except IndexError:
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        yield connection
    except BaseException:
        connection.close()
        raise
    if len(kept) < _KEPT_CONNECTIONS and _kept.get(engine) is kept:
        kept.append(connection)
    else:
        connection.close()


def _keep_for(engine: Engine) -> list[Connection]:
    with _kept_lock:
        if engine not in _kept:
            _kept[engine] = []
            event.listen(engine, "engine_disposed", _forget)
        return _kept[engine]


def _drop_kept(engine: Engine) -> None:
    """Close the kept connections of ``engine`` (their database connections at once)."""
    kept = _kept.get(engine, [])
    while kept:
        connection = kept.pop()
        connection.invalidate()
        connection.close()


def _forget(engine: Engine) -> None:
    """On Engine.dispose(): nothing of the old pool is kept."""
    _drop_kept(engine)
    _kept.pop(engine, None)
