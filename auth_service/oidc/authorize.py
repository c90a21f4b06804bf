"""``/oauth/authorize``: the reader's side of the code flow.

Authlib validates the request (client, exact redirect URI, response type,
scope, PKCE, nonce, ``prompt=none`` without a session). This view adds what
only the service knows: the reader's session (a signed-out reader goes through
``/login``, or straight to a "continue with" provider named by ``provider=``,
and comes back here), a fresh sign-in for ``prompt=login`` and ``max_age``, and
the consent page for sites that are not first-party.

Errors for an unknown client or an unregistered redirect URI are a 400 page,
never a redirect (RFC 6749 §4.1.2.1); every other error goes back to the site
with ``error``, ``state`` and ``iss`` (RFC 9207).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oidc.core.errors import ConsentRequiredError, LoginRequiredError
from flask import Blueprint, redirect, render_template, request, url_for
from flask import session as browser_state
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from auth_service import clock
from auth_service.extensions import db
from auth_service.models import Session
from auth_service.oidc import consents
from auth_service.oidc.server import Issuer, Server, server
from auth_service.providers import registry
from auth_service.views import session_cookie
from auth_service.views.forms import ButtonForm

bp = Blueprint("oidc_authorize", __name__)

# Flask's signed cookie remembers when a fresh sign-in was asked for which request,
# so that coming back from /login with the same URL does not ask again.
FRESH_LOGIN_KEY = "oidc_fresh_login"
SCOPE_WORDS = {
    "openid": _l("Know who you are on this service (your account id)"),
    "profile": _l("See your name, picture and roles"),
    "email": _l("See your email address"),
    "offline_access": _l("Stay connected to your account when you are not using the site"),
}


def _request_key() -> str:
    return hashlib.sha256(request.full_path.encode()).hexdigest()[:32]


def _max_age(data: Any) -> int | None:
    raw = data.get("max_age")
    if raw is None or raw == "":
        return None
    if not str(raw).isdigit() or len(str(raw)) > 9:
        raise InvalidRequestError("max_age must be a whole number of seconds.")
    return int(raw)


def _needs_fresh_login(session: Session, prompts: set[str], max_age: int | None) -> bool:
    """Whether this sign-in is too old for the request (prompt=login, or older than max_age)."""
    age = clock.now() - session.authenticated_at
    if max_age is not None and age > timedelta(seconds=max_age):
        return True
    if "login" in prompts:
        asked = browser_state.get(FRESH_LOGIN_KEY) or {}
        return not (asked.get("request") == _request_key()
                    and session.authenticated_at.timestamp() >= asked.get("at", float("inf")))
    return False


def _to_login(data: Any, *, fresh: bool, max_age: int | None) -> Response:
    """Send the reader to sign in, then back to this very authorization request."""
    return_to = request.full_path.rstrip("?")
    if fresh:
        browser_state[FRESH_LOGIN_KEY] = {"request": _request_key(),
                                          "at": clock.now().timestamp()}
    provider = registry.get(str(data.get("provider") or ""))
    if provider is not None:
        return redirect(url_for("social_login.start", name=provider.name, return_to=return_to))
    query: dict[str, str | int] = {"return_to": return_to}
    if fresh:
        query["max_age"] = 0 if max_age is None else max_age
    hint = str(data.get("login_hint") or "")
    if hint and len(hint) <= 320:
        query["login_hint"] = hint
    return redirect(f"{url_for('login.login')}?{urlencode(query)}")


def _error(srv: Server, error: OAuth2Error) -> Response | tuple[str, int]:
    """Back to the site with the error, or a 400 page when the site cannot be trusted with it."""
    if not error.redirect_uri:
        return render_template("oidc/problem.html",
                               message=error.description
                               or _l("This sign-in request is not valid."),
                               error=error.error), 400
    response = srv.handle_error_response(None, error)
    Issuer().add_issuer_parameter(srv, response)
    return response


def _fail(srv: Server, grant: Any, error: OAuth2Error) -> Response | tuple[str, int]:
    error.redirect_uri = grant.redirect_uri
    error.state = grant.request.payload.state
    return _error(srv, error)


@bp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize() -> Response | tuple[str, int]:
    srv = server()
    user = current_user._get_current_object() if current_user.is_authenticated else None
    try:
        grant = srv.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return _error(srv, error)
    data = grant.request.payload.data
    prompts = set(str(data.get("prompt") or "").split())
    try:
        max_age = _max_age(data)
    except OAuth2Error as error:
        return _fail(srv, grant, error)
    session = session_cookie.current_session()
    if user is None or session is None:
        return _to_login(data, fresh=False, max_age=None)
    if _needs_fresh_login(session, prompts, max_age):
        if "none" in prompts:
            return _fail(srv, grant, LoginRequiredError())
        return _to_login(data, fresh=True, max_age=max_age)

    client = grant.client
    scope = grant.request.scope or ""
    asks = "consent" in prompts or not (client.first_party or consents.covers(user, client, scope))
    if asks:
        if "none" in prompts:
            return _fail(srv, grant, ConsentRequiredError())
        form = ButtonForm()
        if request.method != "POST":
            return render_template("oidc/consent.html", form=form, client=client,
                                   scopes=[SCOPE_WORDS[s] for s in scope.split()
                                           if s in SCOPE_WORDS],
                                   action=request.full_path.rstrip("?"), user=user), 200
        if not form.validate_on_submit():
            return render_template("oidc/problem.html", error="csrf",
                                   message=_l("This form has expired. Go back and try again.")), 400
        if request.form.get("decision") != "allow":
            return srv.create_authorization_response(grant=grant, grant_user=None)
    consents.remember(user, client, scope)
    db.session.commit()
    browser_state.pop(FRESH_LOGIN_KEY, None)
    grant.request.auth_session = session
    return srv.create_authorization_response(grant=grant, grant_user=user)
