"""The account itself: finding it by id, its profile, and what a signed-in reader changes."""

from __future__ import annotations

import unicodedata

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select, update

from auth_service.errors import FlowError, InvalidInput
from auth_service.extensions import db
from auth_service.flows import credentials, sessions
from auth_service.flows.audit import Client, record
from auth_service.models import AuditEvent, Identity, OutboxMessage, Session, User
from auth_service.oidc import signout
from auth_service.security.passwords import verify_password

MAX_NAME_LENGTH = 100


def get(user_id: object) -> User | None:
    """The account with this id, or None for anything that is not a known id."""
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    return db.session.get(User, user_id)


def clean_display_name(raw: str | None) -> str | None:
    """Strip a display name and refuse control characters; empty means none."""
    name = " ".join((raw or "").split())
    if not name:
        return None
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput("name.too_long",
                           _l("Use at most %(num)d characters.", num=MAX_NAME_LENGTH),
                           field="display_name")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise InvalidInput("name.invalid", _l("The name contains characters that are not allowed."),
                           field="display_name")
    return name


def set_language(user: User, code: str) -> None:
    """Save the language the reader chose for their pages and emails; commits."""
    user.language = code
    db.session.commit()


def change_password(user: User, current: str, new: str, *, keep_session: str | None,
                    client: Client | None = None) -> None:
    """Set a new password after checking the current one; commits.

    Every other session of the account ends (this browser's, ``keep_session``,
    stays signed in) and the owner is told by email. Raises InvalidInput.
    """
    if user.password_hash is None or not verify_password(user.password_hash, current):
        raise InvalidInput("account.wrong_password", _l("Your current password is not right."),
                           field="current_password")
    credentials.set_password(user, new, event="account.password_changed",
                             reason="password_changed", keep_session=keep_session,
                             client=client)
    db.session.commit()


def unlink(user: User, identity_id: int, *, session: Session | None,
           client: Client | None = None) -> Identity:
    """Remove one of ``user``'s social identities, from a recent sign-in (``session``); commits.

    Raises ReauthRequired, or FlowError ``account.identity_unknown`` or
    ``account.last_method`` (an account must keep a way to sign in: set a password
    before unlinking the last provider).
    """
    sessions.require_recent(session, then=f"unlink:{identity_id}")
    identity = db.session.get(Identity, identity_id)
    if identity is None or identity.user_id != user.id:
        raise FlowError("account.identity_unknown", _l("That sign-in method is not linked."),
                        status=404)
    others = db.session.scalar(select(func.count()).select_from(Identity).where(
        Identity.user_id == user.id, Identity.id != identity.id))
    if user.password_hash is None and not others:
        raise FlowError("account.last_method",
                        _l("This is your only way to sign in. Set a password first."),
                        status=409)
    db.session.delete(identity)
    record("social.unlinked", user=user, client=client, provider=identity.provider)
    db.session.commit()
    return identity


def identities(user: User) -> list[Identity]:
    """The social accounts linked to ``user``, oldest first."""
    return list(db.session.scalars(
        select(Identity).where(Identity.user_id == user.id).order_by(Identity.created_at)))


def delete_own(user: User, typed_email: str, *, session: Session | None,
               client: Client | None = None) -> None:
    """The reader deletes their own account (:func:`delete`); commits.

    They type their address again (the "are you sure" a stray click cannot give)
    and need a recent sign-in, so that a browser left signed in cannot erase its
    owner's account. Raises InvalidInput ``account.delete_unconfirmed`` or ReauthRequired.
    """
    if typed_email.strip().lower() != user.email:
        raise InvalidInput("account.delete_unconfirmed",
                           _l("Type %(email)s to confirm.", email=user.email), field="email")
    sessions.require_recent(session, then="delete")
    delete(user, client=client)


def delete(user: User, *, client: Client | None = None) -> None:
    """Delete the account and its personal data; commits. The reader's "Delete account"
    and the admins' ``users delete`` both end here.

    Sessions and identities go with it (foreign-key cascade), so every device is
    signed out on its next request, and the OpenID Connect clients that hold
    tokens for them get a back-channel logout; unsent mail to it is dropped and sent mail's
    recipient blanked; the audit log keeps its events with the account reference,
    IP and user agent removed, plus one "account.deleted" event. Nothing is sent
    afterwards: the address is not kept anywhere to send to.
    """
    email, user_id = user.email, user.id
    # The sessions go with the account (cascade): sites holding tokens for them are told now.
    signout.sessions_ended(user_id, list(db.session.scalars(select(Session.id).where(
        Session.user_id == user_id, Session.revoked_at.is_(None)))), everywhere=True)
    db.session.execute(sql_delete(OutboxMessage).where(OutboxMessage.to_address == email,
                                                       OutboxMessage.status != "sent"))
    db.session.execute(update(OutboxMessage).where(OutboxMessage.to_address == email)
                       .values(to_address="(deleted account)"))
    db.session.execute(update(AuditEvent).where(AuditEvent.user_id == user_id)
                       .values(user_id=None, ip=None, user_agent=None))
    db.session.delete(user)
    record("account.deleted", client=client, account_id=user_id)
    db.session.commit()
