"""Server-side sessions: start one at sign-in, find it from its token, revoke it.

The token (256 random bits) is given to the browser once; only its SHA-256 is
stored, so a copy of the database signs nobody in. A session ends when it is
revoked, idle for SESSION_IDLE_TIMEOUT, older than SESSION_MAX_AGE, or when its
account is disabled — checked on every request, so revocation is immediate.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from auth_service import clock
from auth_service.extensions import db
from auth_service.flows.audit import Client, record
from auth_service.models import Session, User

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


def lookup(token: str | None) -> Active | None:
    """The live session a token belongs to, or None; refreshes last_seen once a minute."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
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
    if (session.revoked_at is not None or user.disabled_at is not None
            or now >= session.expires_at or now >= session.idle_expires_at):
        return None
    if now - session.last_seen_at >= TOUCH_INTERVAL:
        _touch(session, now)
    return Active(session=session, user=user)


def _touch(session: Session, now: object) -> None:
    idle = timedelta(seconds=current_app.config["SESSION_IDLE_TIMEOUT"])
    db.session.execute(
        update(Session)
        .where(Session.id == session.id)
        .values(last_seen_at=now, idle_expires_at=min(now + idle, session.expires_at))
    )
    db.session.commit()


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
    db.session.commit()
    return bool(result.rowcount)


def revoke_all(user: User, *, reason: str, keep: str | None = None,
               client: Client | None = None) -> int:
    """End every session of ``user`` except ``keep`` (a session id); no commit. Returns how many."""
    condition = [Session.user_id == user.id, Session.revoked_at.is_(None)]
    if keep is not None:
        condition.append(Session.id != keep)
    result = db.session.execute(
        update(Session).where(*condition).values(revoked_at=clock.now(), revoked_reason=reason)
    )
    if result.rowcount:
        record("session.revoked_all", user=user, client=client, reason=reason,
               count=result.rowcount)
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
