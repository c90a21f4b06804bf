"""Two-step sign-in: the authenticator app on /account/two-factor, and /login/two-factor.

Every sign-in whose first factor passed comes through :func:`after_first_factor`:
signed in at once, or sent to /login/two-factor with the key of its pending
sign-in in Flask's signed cookie (the state itself is on the server,
flows/pending_sign_in.py). Recovery codes are shown once, in the answer that
makes them; "download" posts them back and gets them as a text file.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    redirect,
    request,
    session,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from werkzeug.wrappers import Response as BaseResponse

from auth_service.errors import FlowError, InvalidInput
from auth_service.extensions import limiter
from auth_service.flows import pending_sign_in, two_factor
from auth_service.flows.pending_sign_in import Completed, SignIn
from auth_service.views import limits, session_cookie
from auth_service.views.common import attach, client, go_back, show
from auth_service.views.forms import ButtonForm, CodeForm

bp = Blueprint("two_factor", __name__)

# In Flask's signed cookie: the pending sign-in's key and its account's id (for the limit).
PENDING_KEY = "auth_pending_sign_in"


def _pending_key() -> str | None:
    held = session.get(PENDING_KEY)
    return held.get("key") if isinstance(held, dict) else None


def _account_key() -> str:
    """The account being signed in to (from the signed cookie), else the client's address."""
    held = session.get(PENDING_KEY)
    if isinstance(held, dict) and isinstance(held.get("uid"), int):
        return f"account:{held['uid']}"
    return f"ip:{get_remote_address()}"


# The same allowance per account as passwords get, shared by all its pending sign-ins.
per_pending_account = limiter.limit(limits.PER_ACCOUNT, methods=["POST"], key_func=_account_key)


# What an account that must enrol (AUTH_REQUIRE_2FA_ROLES) may still reach: enrolment
# itself (the app, or a passkey), signing out, and what is not a page.
ENROL_ENDPOINTS = {"two_factor.manage", "two_factor.download", "two_factor.login",
                   "login.logout", "static", "brand.stylesheet"}
ENROL_BLUEPRINTS = {"passkeys", "api", "session_token"}
NOT_PAGES = ("/api/", "/healthz", "/readyz", "/metrics", "/oauth/jwks", "/.well-known/")


def init_app(app: Flask) -> None:
    """Install the hook that sends accounts that must enrol to /account/two-factor."""
    app.before_request(enrol_first)


def enrol_first() -> BaseResponse | None:
    """An account of a role that requires two-step sign-in goes nowhere else until it has one."""
    if not current_app.config["REQUIRE_2FA_ROLES"] or request.path.startswith(NOT_PAGES):
        return None
    if request.endpoint in ENROL_ENDPOINTS or request.blueprint in ENROL_BLUEPRINTS:
        return None
    if not current_user.is_authenticated:
        return None
    if not two_factor.must_enrol(current_user._get_current_object()):
        return None
    return redirect(url_for("two_factor.manage", required=1), code=303)


def hold(key: str, user_id: int) -> Response:
    """Keep a pending sign-in's key in this browser and ask for the second factor."""
    session[PENDING_KEY] = {"key": key, "uid": user_id}
    return redirect(url_for("two_factor.login"), code=303)


def after_first_factor(result: SignIn) -> BaseResponse:
    """Signed in (a session, then back to return_to), or on to the second factor."""
    if result.pending:
        return hold(result.pending, result.user.id)
    session_cookie.start(result.user, method=result.method, amr=result.amr)
    return go_back(result.return_to)


def after_reauth_first_factor(key: str | None, next_step: str) -> BaseResponse:
    """A re-authentication done, or waiting for the second factor."""
    if key:
        return hold(key, current_user.id)
    return redirect(url_for("account.after_reauth", next=next_step), code=303)


def finish(done: Completed) -> BaseResponse:
    """The second factor passed: start the session, or carry on after a re-authentication."""
    session.pop(PENDING_KEY, None)
    if done.purpose == pending_sign_in.REAUTH:
        return redirect(url_for("account.after_reauth", next=done.return_to or ""), code=303)
    session_cookie.start(done.user, method=done.method, amr=done.amr)
    return go_back(done.return_to)


def _expired(error: FlowError) -> tuple[str, int]:
    session.pop(PENDING_KEY, None)
    return show("two_factor/expired.html", status=error.status, error=error)


@bp.route("/login/two-factor", methods=["GET", "POST"])
@limits.per_ip
@per_pending_account
def login() -> BaseResponse | tuple[str, int]:
    """The second step: a code from the app, a recovery code, or a passkey."""
    form = CodeForm()
    key = _pending_key()
    try:
        waiting = pending_sign_in.waiting(key)
    except FlowError as exc:
        return _expired(exc)
    if form.validate_on_submit():
        try:
            done = pending_sign_in.complete_with_code(key, form.code.data, client=client())
        except InvalidInput as exc:
            attach(form, exc)
        except FlowError as exc:
            return _expired(exc)
        else:
            return finish(done)
    recovery = request.values.get("use") == "recovery" or not waiting.totp
    return show("two_factor/login.html", form, waiting=waiting, recovery=recovery)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
@limits.per_ip
@limits.per_account
def manage() -> BaseResponse | tuple[str, int]:
    """Enrol the app (QR code, secret, a code to confirm), or see and change it."""
    user = current_user._get_current_object()
    if two_factor.enrolled(user):
        return show("two_factor/manage.html", ButtonForm(), user=user,
                    left=two_factor.recovery_codes_left(user))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.confirm(user, form.code.data, client=client())
        except InvalidInput as exc:
            attach(form, exc)
        else:
            return show("two_factor/codes.html", ButtonForm(), codes=codes, new=True)
    return show("two_factor/enrol.html", form, enrolment=two_factor.enrolment(user),
                user=user, required=two_factor.must_enrol(user))


@bp.post("/account/two-factor/recovery-codes")
@login_required
def regenerate() -> tuple[str, int]:
    """New recovery codes (after a recent sign-in), the old ones dead."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    codes = two_factor.regenerate_recovery_codes(
        current_user._get_current_object(), session=session_cookie.current_session(),
        client=client())
    return show("two_factor/codes.html", ButtonForm(), codes=codes, new=False)


@bp.post("/account/two-factor/recovery-codes.txt")
@login_required
def download() -> Response:
    """The codes the page just showed, back as a text file to keep."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    text = two_factor.recovery_codes_text(current_user._get_current_object(),
                                          request.form.getlist("codes"))
    return Response(text, mimetype="text/plain", headers={
        "Content-Disposition": 'attachment; filename="recovery-codes.txt"',
        "Cache-Control": "no-store"})


@bp.post("/account/two-factor/disable")
@login_required
def disable() -> BaseResponse:
    """Turn the app off (after a recent sign-in)."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    two_factor.disable(current_user._get_current_object(),
                       session=session_cookie.current_session(), client=client())
    return redirect(url_for("account.section", name="security", done="two_factor_off",
                            _anchor="two-factor-heading"), code=303)
