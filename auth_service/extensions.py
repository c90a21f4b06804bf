"""The only singletons: each Flask extension, created unbound and wired by ``init_app``."""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from auth_service.models.base import Base

db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
mail = Mail()
csrf = CSRFProtect()
# Limits are declared per route (views/limits.py); none applies by default.
limiter = Limiter(key_func=get_remote_address)


def init_app(app: Flask) -> None:
    """Bind every extension to ``app``."""
    db.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "login.login"
    login_manager.login_message = None
    mail.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
