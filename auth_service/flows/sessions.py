"""Server-side sessions: start one at sign-in, find it from its token, revoke it.

The token (256 random bits) is given to the browser once; only its SHA-256 is
stored, so a copy of the database signs nobody in. A session ends when it is
revoked, idle for SESSION_IDLE_TIMEOUT, older than SESSION_MAX_AGE, or when its
account is disabled — checked on every request, so revocation is immediate.

Two readers share those rules: :func:`lookup` here loads the ORM objects the
pages work with; ``flows/session_check.py`` reads only the columns
``GET /api/session`` reports, on the hot path.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, Update, select, update

from auth_service import clock
from auth_service.errors import FlowError, InvalidInput, ReauthRequired
from auth_service.extensions import db
from auth_service.flows.audit import Client, record
from auth_service.models import Session, User
from auth_service.oidc import claims, signout
from auth_service.security.passwords import verify_password

# last_seen is written at most this often per session, so the check stays a read.
TOUCH_INTERVAL = timedelta(seconds=60)
MAX_TOKEN_LENGTH = 128
# Linking or unlinking a provider, a change of address or deleting the account need a
# sign-in (or a re-authentication) at most this old.
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


def start(user: User, *, method: str, amr: list[str] | None = None,
          client: Client | None = None) -> Started:
    """Create a session for ``user``; commits.

    ``method`` is "password", a provider name or "passkey"; ``amr`` how the reader
    proved it (RFC 8176: ["pwd", "otp"]…), by default what ``method`` alone says.
    """
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
        amr=list(amr or claims.amr_for(method)),
        auth_time=now,
    )
    db.session.add(session)
    db.session.commit()
    return Started(session=session, token=token)


def lookup(token: str | None) -> Active | None:
    """The live session a token belongs to, or None; refreshes last_seen once a minute."""
    if not plausible_token(token):
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
    if not is_alive(session, user.disabled_at, now):
        return None
    if now - session.last_seen_at >= TOUCH_INTERVAL:
        db.session.execute(touch_statement(session, now))
        db.session.commit()
    return Active(session=session, user=user)


def plausible_token(token: str | None) -> bool:
    """Worth a database query: present and not absurdly long."""
    return bool(token) and len(token) <= MAX_TOKEN_LENGTH


def is_alive(session: Session | Row, disabled_at: datetime | None, now: datetime) -> bool:
    """Not revoked, not expired (idle or absolute), account not disabled."""
    return (session.revoked_at is None and disabled_at is None
            and now < session.expires_at and now < session.idle_expires_at)


def touch_statement(session: Session | Row, now: datetime) -> Update:
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


def mark_reauthenticated(session: Session, amr: list[str] | None = None) -> None:
    """The reader just proved who they are again in this session; commits.

    ``auth_time`` moves to now; ``amr`` (how they proved it), when given, replaces
    the session's, so a site asking for a second factor sees the newest proof.
    """
    now = clock.now()
    values: dict[str, object] = {"reauthenticated_at": now, "auth_time": now}
    if amr:
        values["amr"] = list(amr)
    db.session.execute(update(Session).where(Session.id == session.id).values(values))
    db.session.commit()


def require_recent(session: Session | None, *, then: str) -> None:
    """Raise ReauthRequired unless the reader signed in or proved it is them lately.

    Asked before what a browser left signed in must not do on its own: link or
    unlink a provider, change the address, delete the account. ``then`` says what
    to carry on with afterwards.
    """
    if not recently_authenticated(session):
        raise ReauthRequired(then)


def check_password_again(user: User, password: str, *, client: Client | None = None) -> None:
    """The password of a re-authentication (flows/pending_sign_in.py carries on from here).

    Raises InvalidInput ``account.wrong_password`` (audited as a failed sign-in; commits).
    """
    if user.password_hash is None or not verify_password(user.password_hash, password):
        record("login.failed", user=user, client=client, reason="bad_credentials",
               method="reauth")
        db.session.commit()
        raise InvalidInput("account.wrong_password", _l("That password is not right."),
                           field="password")


def revoke_own(user: User, session_id: str, *, client: Client | None = None) -> Session:
    """End one of ``user``'s sessions by its public id; commits. Returns it.

    Raises FlowError ``account.session_unknown`` (404) for an id that is not theirs.
    """
    session = find_for(user, session_id)
    if session is None:
        raise FlowError("account.session_unknown", _l("That session is not one of yours."),
                        status=404)
    revoke(session, reason="revoked", client=client)
    return session


def sign_out_everywhere(user: User, *, client: Client | None = None) -> int:
    """End every session of ``user``, this one included; commits. Returns how many."""
    count = revoke_all(user, reason="signed_out_everywhere", client=client)
    db.session.commit()
    return count


def recently_authenticated(session: Session | None, within: timedelta = REAUTH_WINDOW) -> bool:
    """Whether the reader signed in or re-authenticated lately (asked before sensitive changes)."""
    return session is not None and clock.now() - session.authenticated_at <= within
