"""The session cookie: Flask-Login finds the reader through it, sign-in sets it, sign-out ends it.

Flask-Login loads the user from our server-side session (a request loader), not
from Flask's signed cookie, so revoking the row signs the reader out everywhere
on their next request.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from auth_service.extensions import login_manager
from auth_service.flows import sessions as session_flow
from auth_service.models import Session, User
from auth_service.views.common import client


def init_app(app: Flask) -> None:
    """Install the cookie loader and the hook that writes the cookie."""
    login_manager.request_loader(load_from_cookie)
    # Our cookie is the session; Flask-Login's own fingerprinting would only get in the way.
    login_manager.session_protection = None
    app.after_request(write_cookie)


def load_from_cookie(req: object) -> User | None:
    """Flask-Login's request loader: the reader whose live session the cookie names."""
    token = request.cookies.get(current_app.config["SESSION_COOKIE"])
    active = session_flow.lookup(token)
    if active is None:
        if token is not None:
            g.auth_clear_cookie = True  # expired or revoked: tidy the browser up
        return None
    g.auth_session = active.session
    return active.user


def current_session() -> Session | None:
    """The live session of this request, if the browser has one."""
    if "auth_session" not in g:
        _ = current_user.is_authenticated  # makes Flask-Login run load_from_cookie
    return g.get("auth_session")


def start(user: User, method: str, amr: list[str] | None = None) -> None:
    """Sign ``user`` in on this browser with a fresh session (the old one is revoked)."""
    old = current_session()
    if old is not None:
        session_flow.revoke(old, reason="replaced", client=client())
    started = session_flow.start(user, method=method, amr=amr, client=client())
    g.auth_session = started.session
    g.auth_new_token = started.token
    g._login_user = user  # Flask-Login's per-request cache of the current user


def end(reason: str = "logout") -> None:
    """Sign the reader out of this browser: revoke the session, clear the cookie."""
    session = current_session()
    if session is not None:
        session_flow.revoke(session, reason=reason, client=client())
    forget()


def forget() -> None:
    """Clear this browser's cookie, its session gone already (the account was deleted)."""
    g.auth_session = None
    g.auth_clear_cookie = True
    logout_user()


def write_cookie(response: Response) -> Response:
    """Set or clear the session cookie: HttpOnly, SameSite=Lax, Secure over https, its domain."""
    config = current_app.config
    attributes = {
        "path": "/",
        "domain": config["COOKIE_DOMAIN"],
        "secure": config["BASE_URL"].startswith("https://"),
        "httponly": True,
        "samesite": "Lax",
    }
    token = g.get("auth_new_token")
    if token is not None:
        session: Session = g.auth_session
        max_age = int((session.expires_at - session.created_at).total_seconds())
        response.set_cookie(config["SESSION_COOKIE"], token, max_age=max_age, **attributes)
    elif g.get("auth_clear_cookie"):
        response.delete_cookie(config["SESSION_COOKIE"], **attributes)
    return response
