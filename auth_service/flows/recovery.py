"""Password recovery: the emailed reset link, its check, and setting the new password.

The token carries a stamp of the current password hash, so it dies on use and
on any other password change; the final write is conditional on that hash, so
two racing uses of one link cannot both succeed.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from auth_service import links
from auth_service.errors import TokenError
from auth_service.extensions import db
from auth_service.flows import address_proof, credentials
from auth_service.flows.account import get
from auth_service.flows.addresses import find_by_email, normalize_email
from auth_service.flows.audit import Client, record
from auth_service.mail.outbox import expires_in, render
from auth_service.models import OutboxMessage, User
from auth_service.security import tokens
from auth_service.security.tokens import Purpose


def reset_token(user: User) -> str:
    """A signed reset token bound to ``user``'s current password."""
    return tokens.dumps(Purpose.RESET, {"uid": user.id, "stamp": user.credential_stamp})


def send_reset(user: User) -> None:
    """Put a reset email for ``user`` in the outbox (no commit)."""
    db.session.add(_reset_email(user))


def _reset_email(user: User) -> OutboxMessage:
    lifetime = expires_in(current_app.config["RESET_MAX_AGE"])
    return render("recovery/reset", to=user.email, user=user, expires_in=lifetime,
                  reset_url=links.reset(reset_token(user)))


def send_password_setup(user: User, *, client: Client | None = None) -> None:
    """A signed-in account without a password gets one the safe way: a reset link to its
    address (whoever holds this browser may not read that mailbox); commits."""
    send_reset(user)
    record("recovery.requested", user=user, client=client, account=True, by="account")
    db.session.commit()


def request_recovery(raw_email: str, *, client: Client | None = None) -> None:
    """Email a reset link if the address has an account; commits. Same outcome either way.

    An unknown address does the same work (render, audit row, commit) minus the
    outbox row, so the answer's timing does not tell the two apart.
    """
    email = normalize_email(raw_email)
    user = find_by_email(email)
    if user is None or user.disabled:
        _reset_email(User(id=0, email=email))
        record("recovery.requested", client=client, account=False)
    else:
        send_reset(user)
        record("recovery.requested", user=user, client=client, account=True)
    db.session.commit()


def check(token: str) -> User:
    """The account a reset link is for, without spending it.

    Raises TokenError ``recovery.token_invalid`` or ``recovery.token_expired``;
    a used link is invalid (its stamp no longer matches).
    """
    try:
        payload = tokens.loads(Purpose.RESET, token, current_app.config["RESET_MAX_AGE"])
    except tokens.Expired:
        raise TokenError("recovery.token_expired",
                         _l("This reset link has expired. Ask for a new one below.")) from None
    except tokens.Invalid:
        raise _invalid() from None
    user = get(payload.get("uid"))
    if user is None or user.disabled or payload.get("stamp") != user.credential_stamp:
        raise _invalid()
    return user


def complete_recovery(token: str, new_password: str, *, client: Client | None = None) -> User:
    """Set the new password; commits. Raises TokenError or InvalidInput (weak password).

    Following the emailed link proves the reader controls the address, so an
    unconfirmed address becomes confirmed here, and the provider accounts linked
    to it that never proved that address are unlinked (flows/address_proof.py).
    """
    user = check(token)
    proves_address = not user.email_confirmed
    try:
        credentials.set_password(user, new_password, event="recovery.completed",
                                 reason="password_reset", confirm_address=proves_address,
                                 client=client)
    except credentials.StaleCredentials:  # the link was used a moment ago
        raise _invalid() from None
    if proves_address:
        address_proof.drop_unproven_identities(user, reason="unconfirmed_account_recovered",
                                               client=client)
    db.session.commit()
    db.session.refresh(user)
    return user


def _invalid() -> TokenError:
    return TokenError("recovery.token_invalid",
                      _l("This reset link is not valid or has already been used. "
                         "Ask for a new one below."))
