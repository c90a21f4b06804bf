"""What an administrator does to accounts: the CLI's logic, with the web's rules.

Creating, confirming, resetting and disabling go through the same checks, audit
log and outbox as the reader's own flows.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select

from auth_service import clock
from auth_service.errors import FlowError
from auth_service.extensions import db
from auth_service.flows import account, credentials, recovery, sessions, verification
from auth_service.flows.account import clean_display_name
from auth_service.flows.addresses import find_by_email, normalize_email
from auth_service.flows.audit import CLI, record
from auth_service.models import User
from auth_service.security.passwords import check_policy, hash_password


class UnknownAccount(FlowError):
    def __init__(self, email: str) -> None:
        super().__init__("admin.unknown_account", f"no account with the address {email}",
                         status=404)


def get_account(raw_email: str) -> User:
    """The account with this address; raises InvalidInput or UnknownAccount."""
    email = normalize_email(raw_email)
    user = find_by_email(email)
    if user is None:
        raise UnknownAccount(email)
    return user


def new_address(raw_email: str) -> str:
    """The address an account is about to be made for, normalised; checked before anything
    is asked (a password) so a mistake shows first. Raises InvalidInput or ``admin.exists``."""
    email = normalize_email(raw_email)
    if find_by_email(email) is not None:
        raise FlowError("admin.exists", f"{email} is already registered", status=409)
    return email


def create_account(raw_email: str, password: str | None, *, name: str | None = None,
                   admin: bool = False, confirmed: bool = False) -> User:
    """Create an account; commits.

    Without a password the owner gets the link to set one (confirmed or not:
    following it proves the address too, so one email does both); with one, an
    unconfirmed account gets the confirmation email. Raises InvalidInput
    (address, name, password policy) or FlowError ``admin.exists``.
    """
    email = new_address(raw_email)
    if password is not None:
        check_policy(password, email=email)
    user = User(email=email, display_name=clean_display_name(name), is_admin=admin,
                password_hash=hash_password(password) if password is not None else None,
                email_confirmed_at=clock.now() if confirmed else None)
    db.session.add(user)
    db.session.flush()
    if password is None:
        recovery.send_reset(user)
    elif not confirmed:
        verification.send_confirmation(user)
    record("registration.created", user=user, client=CLI, method="cli", admin=admin)
    db.session.commit()
    return user


def set_disabled(user: User, disabled: bool) -> bool:
    """Disable (ending every session at once) or enable an account; commits.

    Returns False, changing and auditing nothing, when it already was so.
    """
    if user.disabled == disabled:
        return False
    if disabled:
        user.disabled_at = user.disabled_at or clock.now()
        sessions.revoke_all(user, reason="disabled", client=CLI)
    else:
        user.disabled_at = None
    record("account.disabled" if disabled else "account.enabled", user=user, client=CLI)
    db.session.commit()
    return True


def set_admin(user: User, admin: bool) -> None:
    user.is_admin = admin
    record("account.promoted" if admin else "account.demoted", user=user, client=CLI)
    db.session.commit()


def set_password(user: User, password: str) -> None:
    """Set a new password (policy-checked), end every session, tell the owner; commits."""
    credentials.set_password(user, password, event="account.password_changed",
                             reason="password_changed", client=CLI, by="admin")
    db.session.commit()


def confirm(user: User) -> None:
    if user.email_confirmed_at is None:
        user.email_confirmed_at = clock.now()
        record("verification.confirmed", user=user, client=CLI, by="admin")
        db.session.commit()


def send_reset(user: User) -> None:
    recovery.send_reset(user)
    record("recovery.requested", user=user, client=CLI, account=True, by="admin")
    db.session.commit()


def revoke_sessions(user: User) -> int:
    count = sessions.revoke_all(user, reason="admin", client=CLI)
    db.session.commit()
    return count


def delete_account(user: User) -> None:
    """Delete the account and its personal data; commits (flows.account.delete)."""
    account.delete(user, client=CLI)


def search(*, query: str | None = None, disabled: bool = False, unconfirmed: bool = False,
           admin: bool = False, limit: int = 50, offset: int = 0) -> list[User]:
    """Accounts matching the filters, oldest first."""
    statement = select(User).order_by(User.id).limit(limit).offset(offset)
    if query:
        like = f"%{query.lower()}%"
        statement = statement.where(or_(func.lower(User.email).like(like),
                                        func.lower(User.display_name).like(like)))
    if disabled:
        statement = statement.where(User.disabled_at.is_not(None))
    if unconfirmed:
        statement = statement.where(User.email_confirmed_at.is_(None))
    if admin:
        statement = statement.where(User.is_admin.is_(True))
    return list(db.session.scalars(statement))
