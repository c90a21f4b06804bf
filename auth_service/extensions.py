"""The only singletons: each Flask extension, created unbound and wired by ``init_app``."""

from __future__ import annotations

import sqlite3

from flask import Flask
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import event

from auth_service.models.base import Base

db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
mail = Mail()
csrf = CSRFProtect()
# Wired by views/languages.py, which chooses each page's language.
babel = Babel()
# Limits are declared per route (views/limits.py); none applies by default.
limiter = Limiter(key_func=get_remote_address)


def init_app(app: Flask) -> None:
    """Bind every extension to ``app``."""
    db.init_app(app)
    with app.app_context():
        event.listen(db.engine, "connect", _sqlite_pragmas)
    login_manager.init_app(app)
    login_manager.login_view = "login.login"
    login_manager.login_message = None
    mail.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)


def _sqlite_pragmas(connection: object, record: object) -> None:
    """SQLite defaults that a service needs: enforced foreign keys, WAL, and waiting on locks.

    Without foreign_keys, deleting an account would leave its sessions and identities.
    """
    if isinstance(connection, sqlite3.Connection):
        cursor = connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()
