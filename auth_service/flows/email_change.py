"""Changing an account's address: a link to the new address, confirmed from there.

The request needs a recent sign-in; the address changes
only when the link sent to the new address is used, so nobody can move an
account to an address they do not read. The token names the account, its
current address, the new one and the account's credential stamp: it works once
(the current address no longer matches afterwards), and dies if the password
changes in between. Asking for an address that already has an account sends
that address a notice instead of a link, and the asker sees the same answer.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from auth_service import clock, links
from auth_service.errors import FlowError, InvalidInput, TokenError
from auth_service.extensions import db
from auth_service.flows import sessions
from auth_service.flows.account import get
from auth_service.flows.addresses import find_by_email, normalize_email
from auth_service.flows.audit import Client, record
from auth_service.mail.outbox import enqueue, expires_in
from auth_service.models import Session, User
from auth_service.security import tokens
from auth_service.security.tokens import Purpose


def request_change(user: User, raw_email: str, *, session: Session | None,
                   client: Client | None = None) -> str:
    """Mail the new address a link (or, if it has an account, a notice); commits.

    Needs a recent sign-in (``session``). Returns the new address, normalised.
    Raises InvalidInput for an invalid address or the current one, or
    ReauthRequired. The answer is the same whether or not the new address has an
    account.
    """
    new = normalize_email(raw_email)
    sessions.require_recent(session, then="email")
    if new == user.email:
        raise InvalidInput("email_change.same", _l("That is already your address."), field="email")
    lifetime = expires_in(current_app.config["CONFIRM_MAX_AGE"])
    owner = find_by_email(new)
    if owner is None:
        token = tokens.dumps(Purpose.EMAIL_CHANGE, {"uid": user.id, "old": user.email,
                                                    "new": new, "stamp": user.credential_stamp})
        enqueue("email_change/confirm", to=new, user=user, new_email=new,
                confirm_url=links.email_change(token), expires_in=lifetime)
        record("email_change.requested", user=user, client=client, sent=True)
    else:
        enqueue("email_change/address_taken", to=new, language=owner.language,
                new_email=new, expires_in=lifetime,
                login_url=links.login())
        record("email_change.requested", user=user, client=client, sent=False)
    db.session.commit()
    return new


def check(token: str) -> tuple[User, str]:
    """The account and new address a link is for, without using it. Raises TokenError."""
    try:
        payload = tokens.loads(Purpose.EMAIL_CHANGE, token, current_app.config["CONFIRM_MAX_AGE"])
    except tokens.Expired:
        raise TokenError("email_change.token_expired",
                         _l("This link has expired. Ask for a new one from your account "
                            "page.")) from None
    except tokens.Invalid:
        raise _invalid() from None
    user = get(payload.get("uid"))
    new = payload.get("new")
    if user is None or user.disabled or not isinstance(new, str):
        raise _invalid()
    if user.email == new:
        raise _used(new)
    if user.email != payload.get("old") or user.credential_stamp != payload.get("stamp"):
        raise _invalid()
    return user, new


def confirm(token: str, *, client: Client | None = None) -> User:
    """Move the account to the new address, now confirmed; commits. Tells the old address.

    Raises TokenError, or FlowError ``email_change.taken`` (409) if the address got
    an account since the link was sent.
    """
    user, new = check(token)
    old, now = user.email, clock.now()
    if find_by_email(new) is not None:
        raise _taken()
    result = db.session.execute(
        update(User).where(User.id == user.id, User.email == old)
        .values(email=new, email_confirmed_at=now)
    )
    if result.rowcount != 1:  # a second click racing the first
        db.session.rollback()
        raise _used(new)
    enqueue("email_change/changed", to=old, user=user, old_email=old, new_email=new,
            changed_at=now)
    record("email_change.confirmed", user=user, client=client)
    try:
        db.session.commit()
    except IntegrityError:  # the address was registered between the check and the write
        db.session.rollback()
        raise _taken() from None
    db.session.refresh(user)
    return user


def _invalid() -> TokenError:
    return TokenError("email_change.token_invalid",
                      _l("This link is not valid any more. It may have been cut short when it "
                         "was copied, or the account changed since it was sent."))


def _used(new: str) -> TokenError:
    return TokenError("email_change.token_used",
                      _l("Your address is already %(email)s.", email=new))


def _taken() -> FlowError:
    return FlowError("email_change.taken",
                     _l("This address now belongs to another account, so it can't be moved here."),
                     status=409)
