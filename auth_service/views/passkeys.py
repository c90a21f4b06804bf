"""Passkeys: JSON endpoints for auth_service/static/passkeys.js, and removal from /account.

``/account/passkeys/*`` registers one (signed in); ``/login/passkey/*`` signs in
with one alone (the button, or the browser's autofill) or as the second factor
of a pending sign-in. Every POST carries the CSRF token (an ``X-CSRFToken``
header from the script). The challenge's key waits in Flask's signed cookie,
one per ceremony, so an answer counts only in the browser that asked.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, redirect, request, session, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from auth_service.errors import FlowError
from auth_service.flows import passkeys
from auth_service.security.redirects import MAX_LENGTH as MAX_RETURN_TO
from auth_service.views import limits, session_cookie
from auth_service.views.common import client, trusted_return_to
from auth_service.views.forms import ButtonForm
from auth_service.views.two_factor import PENDING_KEY, finish, per_pending_account

bp = Blueprint("passkeys", __name__)

CHALLENGES_KEY = "auth_webauthn"


def _keep(purpose: str, ceremony: passkeys.Ceremony) -> Response:
    held = session.get(CHALLENGES_KEY)
    session[CHALLENGES_KEY] = {**(held if isinstance(held, dict) else {}),
                               purpose: ceremony.key}
    response = Response(ceremony.options, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _spend(purpose: str) -> str | None:
    held = session.get(CHALLENGES_KEY)
    if not isinstance(held, dict):
        return None
    key = held.pop(purpose, None)
    session[CHALLENGES_KEY] = held
    return key if isinstance(key, str) else None


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _problem(error: FlowError) -> tuple[Response, int]:
    return jsonify(error=error.code, message=error.message), error.status


def _go(url: str) -> Response:
    return jsonify(redirect=url)


@bp.post("/account/passkeys/options")
@login_required
def register_options() -> Response:
    return _keep(passkeys.REGISTER,
                 passkeys.registration_options(current_user._get_current_object()))


@bp.post("/account/passkeys")
@login_required
@limits.per_account
def register() -> Response | tuple[Response, int]:
    data = _body()
    try:
        credential = passkeys.register(current_user._get_current_object(),
                                       _spend(passkeys.REGISTER), data.get("credential"),
                                       str(data.get("name") or ""), client=client())
    except FlowError as exc:
        return _problem(exc)
    return jsonify(id=credential.id, name=credential.name,
                   redirect=url_for("account.section", name="security", done="passkey_added",
                                    _anchor="passkeys-heading")), 201


@bp.post("/account/passkeys/<int:credential_id>/remove")
@login_required
def remove(credential_id: int) -> BaseResponse:
    """A form on /account (not JSON): remove one passkey, after a recent sign-in."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    passkeys.remove(current_user._get_current_object(), credential_id,
                    session=session_cookie.current_session(), client=client())
    return redirect(url_for("account.section", name="security", done="passkey_removed",
                            _anchor="passkeys-heading"), code=303)


@bp.post("/login/passkey/options")
@limits.per_ip
def login_options() -> Response:
    return _keep(passkeys.LOGIN, passkeys.login_options())


@bp.post("/login/passkey")
@limits.per_ip
def login() -> Response | tuple[Response, int]:
    """Sign in with a passkey alone; answers where to go next."""
    data = _body()
    return_to = str(data.get("return_to") or "")[:MAX_RETURN_TO]
    try:
        result = passkeys.sign_in(_spend(passkeys.LOGIN), data.get("credential"),
                                  return_to=return_to, client=client())
    except FlowError as exc:
        return _problem(exc)
    session_cookie.start(result.user, method=result.method, amr=result.amr)
    return _go(trusted_return_to(result.return_to) or url_for("account.index"))


def _pending() -> str | None:
    held = session.get(PENDING_KEY)
    return held.get("key") if isinstance(held, dict) else None


@bp.post("/login/passkey/second-factor/options")
@limits.per_ip
def second_factor_options() -> Response | tuple[Response, int]:
    try:
        return _keep(passkeys.SECOND, passkeys.second_factor_options(_pending()))
    except FlowError as exc:
        return _problem(exc)


@bp.post("/login/passkey/second-factor")
@limits.per_ip
@per_pending_account
def second_factor_verify() -> Response | tuple[Response, int]:
    """A passkey as the second factor: the pending sign-in completes."""
    try:
        done = passkeys.second_factor(_pending(), _spend(passkeys.SECOND),
                                      _body().get("credential"), client=client())
    except FlowError as exc:
        return _problem(exc)
    return _go(finish(done).headers["Location"])
