"""What a signed-in reader changes about their own account."""

from __future__ import annotations

from auth_service import clock, links
from auth_service.errors import InvalidInput
from auth_service.extensions import db
from auth_service.flows import sessions
from auth_service.flows.audit import Client, record
from auth_service.mail.outbox import enqueue
from auth_service.models import User
from auth_service.security.passwords import check_policy, hash_password, verify_password


def change_password(user: User, current: str, new: str, *, keep_session: str | None,
                    client: Client | None = None) -> None:
    """Set a new password after checking the current one; commits.

    Every other session of the account ends (this browser's, ``keep_session``,
    stays signed in) and the owner is told by email. Raises InvalidInput.
    """
    if user.password_hash is None or not verify_password(user.password_hash, current):
        raise InvalidInput("account.wrong_password", "Your current password is not right.",
                           field="current_password")
    check_policy(new, email=user.email)
    now = clock.now()
    user.password_hash = hash_password(new)
    user.password_changed_at = now
    sessions.revoke_all(user, reason="password_changed", keep=keep_session, client=client)
    enqueue("recovery/password_changed", to=user.email, user=user,
            forgot_url=links.forgot(), changed_at=now)
    record("account.password_changed", user=user, client=client)
    db.session.commit()
