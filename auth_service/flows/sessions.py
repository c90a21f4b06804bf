"""Server-side sessions: start one at sign-in, find it from its token, revoke it.

The token (256 random bits) is given to the browser once; only its SHA-256 is
stored, so a copy of the database signs nobody in. A session ends when it is
revoked, idle for SESSION_IDLE_TIMEOUT, older than SESSION_MAX_AGE, or when its
account is disabled — checked on every request, so revocation is immediate.

Two readers share those rules: :func:`lookup` loads the ORM objects the pages
work with, :func:`check` reads only the columns ``GET /api/session`` reports, on
the hot path where the ORM's per-object bookkeeping would be most of the cost.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import weakref
from collections import namedtuple
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Connection, Dialect, Engine, Row, Update, bindparam, event, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from auth_service import clock
from auth_service.extensions import db
from auth_service.flows.audit import Client, record
from auth_service.models import Session, User
from auth_service.oidc import signout

# last_seen is written at most this often per session, so the check stays a read.
TOUCH_INTERVAL = timedelta(seconds=60)
MAX_TOKEN_LENGTH = 128
# Linking or unlinking a provider needs a sign-in at most this old.
REAUTH_WINDOW = timedelta(minutes=10)


def hash_token(token: str) -> str:
    """The stored form of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Started:
    """A new session and the token to give the browser (never stored)."""

    session: Session
    token: str


@dataclass(frozen=True)
class Active:
    """A live session and its account, as found from a token."""

    session: Session
    user: User


def start(user: User, *, method: str, client: Client | None = None) -> Started:
    """Create a session for ``user``; commits. ``method`` is "password" or a provider name."""
    now = clock.now()
    config = current_app.config
    client = client or Client()
    token = secrets.token_urlsafe(32)
    session = Session(
        id=secrets.token_hex(16),
        token_hash=hash_token(token),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        idle_expires_at=now + timedelta(seconds=config["SESSION_IDLE_TIMEOUT"]),
        expires_at=now + timedelta(seconds=config["SESSION_MAX_AGE"]),
        ip=client.ip,
        user_agent=(client.user_agent or "")[:255] or None,
        method=method,
    )
    db.session.add(session)
    db.session.commit()
    return Started(session=session, token=token)


@dataclass(frozen=True)
class Check:
    """A live session as ``GET /api/session`` reports it: plain values, no ORM objects."""

    session_id: str
    ends_at: datetime
    user_id: int
    email: str
    email_verified: bool
    name: str
    avatar_url: str | None
    roles: list[str]


def lookup(token: str | None) -> Active | None:
    """The live session a token belongs to, or None; refreshes last_seen once a minute."""
    if not _plausible(token):
        return None
    row = db.session.execute(
        select(Session, User)
        .join(User, User.id == Session.user_id)
        .where(Session.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    session, user = row
    now = clock.now()
    if not _alive(session, user.disabled_at, now):
        return None
    if now - session.last_seen_at >= TOUCH_INTERVAL:
        db.session.execute(_touch_statement(session, now))
        db.session.commit()
    return Active(session=session, user=user)


# Only the columns /api/session needs, in a statement built once: SQLAlchemy
# caches its compiled form, and rows come back as tuples rather than objects.
_CHECK = (
    select(
        Session.id, Session.user_id, Session.last_seen_at, Session.idle_expires_at,
        Session.expires_at, Session.revoked_at, User.email, User.display_name,
        User.avatar_url, User.email_confirmed_at, User.is_admin, User.disabled_at,
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
    if not _plausible(token):
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
        if not _alive(row, row.disabled_at, now):
            return None
        if now - row.last_seen_at >= TOUCH_INTERVAL:
            connection.execute(_touch_statement(row, now))
            connection.commit()  # a no-op on a kept (autocommit) connection
    # The row has the attribute names the models' properties read, so their rules apply as is.
    return Check(
        session_id=row.id,
        ends_at=Session.ends_at.fget(row),
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


# check() keeps up to KEPT_CONNECTIONS connections per engine open between
# requests, in autocommit mode. A check is then one statement: no ping at checkout,
# no BEGIN, no ROLLBACK on return (each a round trip to PostgreSQL, and together
# about half a check's time on SQLite), and no transaction, snapshot or lock held
# between checks, so every check reads what was committed last: a revocation
# anywhere counts on the very next request. They are closed when the engine is
# disposed; like the pool's, they are opened after gunicorn has forked. Pools
# that share one connection (SQLite in memory) get a plain connection instead.
KEPT_CONNECTIONS = 4
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
    if len(kept) < KEPT_CONNECTIONS and _kept.get(engine) is kept:
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


def _plausible(token: str | None) -> bool:
    """Worth a database query: present and not absurdly long."""
    return bool(token) and len(token) <= MAX_TOKEN_LENGTH


def _alive(session: Session | Row, disabled_at: datetime | None, now: datetime) -> bool:
    """Not revoked, not expired (idle or absolute), account not disabled."""
    return (session.revoked_at is None and disabled_at is None
            and now < session.expires_at and now < session.idle_expires_at)


def _touch_statement(session: Session | Row, now: datetime) -> Update:
    """Record use: last_seen now, idle expiry pushed back (never past the absolute one)."""
    idle = timedelta(seconds=current_app.config["SESSION_IDLE_TIMEOUT"])
    return (
        update(Session)
        .where(Session.id == session.id)
        .values(last_seen_at=now, idle_expires_at=min(now + idle, session.expires_at))
    )


def revoke(session: Session, *, reason: str, client: Client | None = None) -> bool:
    """End one session; commits. Returns False if it had already ended."""
    result = db.session.execute(
        update(Session)
        .where(Session.id == session.id, Session.revoked_at.is_(None))
        .values(revoked_at=clock.now(), revoked_reason=reason)
    )
    if result.rowcount:
        record("session.revoked", user=db.session.get(User, session.user_id), client=client,
               session=session.id, reason=reason)
        signout.sessions_ended(session.user_id, [session.id])
    db.session.commit()
    return bool(result.rowcount)


def revoke_all(user: User, *, reason: str, keep: str | None = None,
               client: Client | None = None) -> int:
    """End every session of ``user`` except ``keep`` (a session id); no commit. Returns how many."""
    condition = [Session.user_id == user.id, Session.revoked_at.is_(None)]
    if keep is not None:
        condition.append(Session.id != keep)
    ending = list(db.session.scalars(select(Session.id).where(*condition)))
    result = db.session.execute(
        update(Session).where(*condition).values(revoked_at=clock.now(), revoked_reason=reason)
    )
    if result.rowcount:
        record("session.revoked_all", user=user, client=client, reason=reason,
               count=result.rowcount)
    # Even with no session left to end, what sites hold for the account goes too.
    signout.sessions_ended(user.id, ending, everywhere=True, keep=keep)
    return result.rowcount


def active_for(user: User) -> list[Session]:
    """The account's sessions that still work, most recently used first."""
    now = clock.now()
    return list(db.session.scalars(
        select(Session)
        .where(Session.user_id == user.id, Session.revoked_at.is_(None),
               Session.expires_at > now, Session.idle_expires_at > now)
        .order_by(Session.last_seen_at.desc())
    ))


def find_for(user: User, session_id: str) -> Session | None:
    """One of ``user``'s sessions by its public id (someone else's is None)."""
    session = db.session.get(Session, session_id) if len(session_id) <= 32 else None
    return session if session is not None and session.user_id == user.id else None


def mark_reauthenticated(session: Session) -> None:
    """The reader just proved who they are again in this session; commits."""
    db.session.execute(update(Session).where(Session.id == session.id)
                       .values(reauthenticated_at=clock.now()))
    db.session.commit()


def recently_authenticated(session: Session | None, within: timedelta = REAUTH_WINDOW) -> bool:
    """Whether the reader signed in or re-authenticated lately (asked before sensitive changes)."""
    return session is not None and clock.now() - session.authenticated_at <= within
