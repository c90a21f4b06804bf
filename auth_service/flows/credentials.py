"""A new password, whoever sets it: the reader from /account, the emailed reset link, an admin.

What follows any new password is the same everywhere and lives here once: the
write is conditional on the password it replaces (two changes racing cannot
both win), every session of the account ends but the one kept, the owner gets
the "your password was changed" email, and the audit log says who did it.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from auth_service import clock, links
from auth_service.errors import FlowError
from auth_service.extensions import db
from auth_service.flows import sessions
from auth_service.flows.audit import Client, record
from auth_service.mail.outbox import enqueue
from auth_service.models import User
from auth_service.security.passwords import check_policy, hash_password


class StaleCredentials(FlowError):
    """The password changed since it was read: this change lost the race."""

    def __init__(self) -> None:
        super().__init__("account.password_changed_meanwhile",
                         _l("Your password was changed meanwhile. Please start again."), status=409)


def set_password(user: User, new_password: str, *, event: str, reason: str,
                 client: Client | None = None, keep_session: str | None = None,
                 confirm_address: bool = False, **details: Any) -> None:
    """Give ``user`` a new password and do what follows (module docstring); no commit.

    ``event`` is the audit event (with ``details``), ``reason`` why the other
    sessions end; ``keep_session`` stays signed in (the browser that changed it).
    ``confirm_address``: the change itself proved the address (a reset link).
    Raises InvalidInput (the password policy) or StaleCredentials.
    """
    check_policy(new_password, email=user.email)
    now = clock.now()
    values: dict[str, object] = {"password_hash": hash_password(new_password),
                                 "password_changed_at": now, "updated_at": now}
    if confirm_address:
        values["email_confirmed_at"] = now
    replaced = (User.password_hash.is_(None) if user.password_hash is None
                else User.password_hash == user.password_hash)
    result = db.session.execute(update(User).where(User.id == user.id, replaced).values(values))
    if result.rowcount != 1:
        db.session.rollback()
        raise StaleCredentials()
    db.session.expire(user)  # the row changed under the ORM's copy
    sessions.revoke_all(user, reason=reason, keep=keep_session, client=client)
    enqueue("recovery/password_changed", to=user.email, user=user, forgot_url=links.forgot(),
            changed_at=now)
    record(event, user=user, client=client, **details)
