"""Sign in with email and password; sign out."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from auth_service.errors import FlowError, InvalidInput, Unconfirmed
from auth_service.flows import login as login_flow
from auth_service.flows import sessions as session_flow
from auth_service.views import limits, session_cookie
from auth_service.views.common import (
    attach,
    client,
    go_back,
    keep_proof,
    show,
    trusted_return_to,
)
from auth_service.views.forms import ButtonForm, LoginForm
from auth_service.views.two_factor import after_first_factor

bp = Blueprint("login", __name__)


@bp.route("/login", methods=["GET", "POST"])
@limits.per_ip
@limits.per_address
def login() -> Response | tuple[str, int]:
    form = LoginForm()
    if request.method == "GET":
        form.return_to.data = request.args.get("return_to", "")
        form.email.data = request.args.get("login_hint", "")[:320] or None
        if current_user.is_authenticated and _recent_enough(request.args.get("max_age")):
            return go_back(form.return_to.data)
    error: FlowError | None = None
    if form.validate_on_submit():
        try:
            result = login_flow.authenticate(form.email.data, form.password.data,
                                             client=client(), return_to=form.return_to.data)
        except InvalidInput as exc:
            attach(form, exc)
        except Unconfirmed as exc:
            keep_proof(exc.proof)  # the confirmation link, opened here, keeps this password
            error = exc
        except FlowError as exc:
            error = exc
        else:
            return after_first_factor(result)
    status = error.status if error else None
    return show("login/login.html", form, status=status, error=error)


def _recent_enough(max_age: str | None) -> bool:
    """Whether the reader's sign-in is fresh enough for ``max_age`` (seconds; 0: sign in again).

    A site (``auth_service.client.step_up_url``, or the OpenID provider for
    prompt=login and max_age) asks for a fresh sign-in this way: the session's
    auth_time must be at most that old. Without it, a signed-in reader goes straight back.
    """
    if max_age is None or not max_age.isdigit() or len(max_age) > 9:
        return True
    seconds = int(max_age)
    return seconds > 0 and session_flow.recently_authenticated(
        session_cookie.current_session(), timedelta(seconds=seconds))


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response | tuple[str, int]:
    """GET asks (a link or a prefetch must not sign anyone out); POST does it."""
    form = ButtonForm()
    if request.method == "GET":
        form.return_to.data = request.args.get("return_to", "")
        return show("login/logout.html", form)
    if form.validate_on_submit():
        session_cookie.end()
        target = trusted_return_to(form.return_to.data) or url_for("login.login")
        return redirect(target, code=303)
    return show("login/logout.html", form)
