"""Between two factors: the password (or the provider's round trip) passed, the second not yet.

Every first factor ends here: :func:`first_factor_passed` signs the reader in at
once when the account has no second factor, or keeps a *pending sign-in* on the
server (five minutes, a handful of wrong codes) and returns a random key for the
browser's signed cookie; only the key's SHA-256 is stored. The second factor
(a code: :func:`complete_with_code`; a passkey: flows/passkeys.py) spends the
row, so neither a copy of the cookie nor a second tab can use it again. The
re-authentication asked before sensitive changes goes the same way, marking
the reader's own session instead of starting one.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete

from auth_service import clock
from auth_service.errors import FlowError, InvalidInput
from auth_service.extensions import db
from auth_service.flows import sessions, two_factor
from auth_service.flows.audit import Client, record
from auth_service.models import PendingSignIn, Session, User
from auth_service.oidc import claims

PENDING_TTL = timedelta(minutes=5)
# Wrong codes before the pending sign-in is dropped (the password must be given again),
# and the one at which the owner is told by email that someone is trying.
MAX_FAILURES = 5
NOTIFY_AT = 3
LOGIN = "login"
REAUTH = "reauth"
# What each kind of second factor adds to the session's amr (RFC 8176).
FACTOR_AMR = {"totp": "otp", "recovery": "otp", "passkey": "hwk"}


@dataclass(frozen=True)
class SignIn:
    """Where a first factor leaves the reader: signed in, or (``pending`` set) half-way.

    ``pending`` is the key to keep in the browser's cookie for /login/two-factor.
    """

    user: User
    method: str
    amr: list[str] = field(default_factory=list)
    return_to: str | None = None
    pending: str | None = None


@dataclass(frozen=True)
class Completed:
    """A second factor passed: start a session (``purpose`` "login") or carry on (reauth)."""

    user: User
    purpose: str
    method: str
    amr: list[str]
    return_to: str | None


def first_factor_passed(user: User, *, method: str, client: Client | None = None,
                        return_to: str | None = None) -> SignIn:
    """The sign-in's first factor was good (password, provider); commits.

    Without a second factor the sign-in is complete (audited ``login.succeeded``);
    with one, a pending sign-in is kept and its key returned.
    """
    amr = claims.amr_for(method)
    if two_factor.has_second_factor(user):
        key = _begin(user, purpose=LOGIN, method=method, amr=amr, return_to=return_to)
        record("login.second_factor_asked", user=user, client=client, method=method)
        db.session.commit()
        return SignIn(user, method, amr, return_to, pending=key)
    user.last_login_at = clock.now()
    record("login.succeeded", user=user, client=client, method=method, amr=amr)
    db.session.commit()
    return SignIn(user, method, amr, return_to)


def reauthenticated(user: User, session: Session, *, method: str, next_step: str,
                    client: Client | None = None) -> str | None:
    """A re-authentication's first factor was good; commits.

    Returns None when that is enough (the session is marked), else the key of a
    pending re-authentication that the second factor completes.
    """
    amr = claims.amr_for(method)
    if two_factor.has_second_factor(user):
        key = _begin(user, purpose=REAUTH, method=method, amr=amr, return_to=next_step,
                     session_id=session.id)
        db.session.commit()
        return key
    record("account.reauthenticated", user=user, client=client, method=method)
    sessions.mark_reauthenticated(session, amr)
    return None


def reauthenticate(user: User, session: Session, password: str, *, next_step: str,
                   client: Client | None = None) -> str | None:
    """The reader proves it is them again with their password (then maybe a second factor).

    Returns as :func:`reauthenticated`; raises InvalidInput ``account.wrong_password``.
    """
    sessions.check_password_again(user, password, client=client)
    return reauthenticated(user, session, method="password", next_step=next_step, client=client)


def find(key: str | None) -> PendingSignIn:
    """The live pending sign-in a key names.

    Raises FlowError ``two_factor.expired`` for a key that is missing, spent or too old.
    """
    row = db.session.get(PendingSignIn, _hash(key)) if key and len(key) <= 128 else None
    if row is None or row.expires_at <= clock.now():
        raise FlowError("two_factor.expired",
                        _l("That sign-in took too long or was already finished. Please sign in "
                           "again."), status=400)
    return row


@dataclass(frozen=True)
class Waiting:
    """What the second-factor page offers for a pending sign-in."""

    purpose: str
    totp: bool
    passkeys: bool
    user_id: int


def waiting(key: str | None) -> Waiting:
    """What a live pending sign-in can be finished with; raises ``two_factor.expired``."""
    pending = find(key)
    user = user_of(pending)
    return Waiting(purpose=pending.purpose, totp=two_factor.enrolled(user),
                   passkeys=two_factor.has_passkey(user), user_id=user.id)


def user_of(pending: PendingSignIn) -> User:
    """The account a pending sign-in is for; raises ``two_factor.expired`` if it is disabled."""
    user = db.session.get(User, pending.user_id)
    if user is None or user.disabled:
        raise FlowError("two_factor.expired", _l("Please sign in again."), status=400)
    return user


def complete_with_code(key: str | None, code: str, *, client: Client | None = None
                       ) -> Completed:
    """Finish a pending sign-in with a code from the app or a recovery code; commits.

    Raises FlowError ``two_factor.expired``, InvalidInput ``two_factor.wrong_code``
    (audited; the owner is mailed at the third) or FlowError ``two_factor.too_many``
    (the pending sign-in is dropped after the fifth).
    """
    pending = find(key)
    user = user_of(pending)
    try:
        kind = two_factor.check_code(user, code, client=client)
    except InvalidInput:
        _failed(pending, user, client, factor="code")
        raise
    return complete(pending, user, kind, client=client)


def complete(pending: PendingSignIn, user: User, kind: str, *,
             client: Client | None = None) -> Completed:
    """The second factor ``kind`` ("totp", "recovery", "passkey") passed; commits."""
    amr = list(dict.fromkeys([*pending.amr, FACTOR_AMR[kind]]))
    done = Completed(user=user, purpose=pending.purpose, method=pending.method, amr=amr,
                     return_to=pending.return_to)
    session_id = pending.session_id
    db.session.delete(pending)
    if done.purpose == REAUTH:
        session = db.session.get(Session, session_id) if session_id else None
        if session is None or session.user_id != user.id:
            db.session.commit()
            raise FlowError("two_factor.expired", _l("Please sign in again."), status=400)
        record("account.reauthenticated", user=user, client=client, method=done.method,
               factor=kind)
        sessions.mark_reauthenticated(session, amr)
        return done
    user.last_login_at = clock.now()
    record("login.succeeded", user=user, client=client, method=done.method, amr=amr,
           factor=kind)
    db.session.commit()
    return done


def failed(key: str | None, *, factor: str, client: Client | None = None) -> None:
    """A second factor other than a code failed (a passkey's answer); commits.

    Raises FlowError ``two_factor.too_many`` when that was one failure too many.
    """
    pending = find(key)
    _failed(pending, user_of(pending), client, factor=factor)


def _failed(pending: PendingSignIn, user: User, client: Client | None, *, factor: str) -> None:
    pending.failures += 1
    record("two_factor.failed", user=user, client=client, factor=factor,
           purpose=pending.purpose, failures=pending.failures)
    if pending.failures == NOTIFY_AT:
        two_factor.notify(user, "failed", failures=pending.failures)
    if pending.failures >= MAX_FAILURES:
        db.session.delete(pending)
        db.session.commit()
        raise FlowError("two_factor.too_many",
                        _l("Too many wrong codes. Please sign in again."), status=429)
    db.session.commit()


def _begin(user: User, *, purpose: str, method: str, amr: list[str],
           return_to: str | None, session_id: str | None = None) -> str:
    """Keep a pending sign-in (no commit); returns its key. Stale ones are tidied away."""
    now = clock.now()
    db.session.execute(delete(PendingSignIn).where(PendingSignIn.expires_at <= now))
    key = secrets.token_urlsafe(32)
    db.session.add(PendingSignIn(key_hash=_hash(key), user_id=user.id, purpose=purpose,
                                 method=method, amr=amr, return_to=(return_to or None),
                                 session_id=session_id, created_at=now,
                                 expires_at=now + PENDING_TTL))
    return key


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
