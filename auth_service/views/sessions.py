"""Signing a reader in and out of this browser, through Flask-Login.

The cookie names the account and a stamp of its password hash, so a password
change or reset ends every browser's sign-in; a disabled account is refused on
its next request.
"""

from __future__ import annotations

from flask import Flask
from flask_login import login_user, logout_user

from auth_service.extensions import login_manager
from auth_service.flows import accounts
from auth_service.models import User


def init_app(app: Flask) -> None:
    """Teach Flask-Login how to find the reader from the cookie."""
    login_manager.user_loader(load_user)


def load_user(cookie_id: str) -> User | None:
    """The signed-in account, or None if it is gone, disabled or its password changed."""
    raw_id, _, stamp = cookie_id.partition(".")
    user = accounts.get(int(raw_id)) if raw_id.isdigit() else None
    if user is None or user.disabled or user.credential_stamp[:16] != stamp:
        return None
    return user


def start(user: User) -> None:
    """Sign ``user`` in on this browser."""
    login_user(user)


def end() -> None:
    """Sign the reader out of this browser."""
    logout_user()
