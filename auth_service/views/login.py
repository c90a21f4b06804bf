"""Sign in with email and password; sign out."""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from auth_service.errors import FlowError, InvalidInput, Unconfirmed
from auth_service.flows import login as login_flow
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

bp = Blueprint("login", __name__)


@bp.route("/login", methods=["GET", "POST"])
@limits.per_ip
@limits.per_address
def login() -> Response | tuple[str, int]:
    form = LoginForm()
    if request.method == "GET":
        form.return_to.data = request.args.get("return_to", "")
        if current_user.is_authenticated:
            return go_back(form.return_to.data)
    error: FlowError | None = None
    if form.validate_on_submit():
        try:
            user = login_flow.authenticate(form.email.data, form.password.data, client=client())
        except InvalidInput as exc:
            attach(form, exc)
        except Unconfirmed as exc:
            keep_proof(exc.proof)  # the confirmation link, opened here, keeps this password
            error = exc
        except FlowError as exc:
            error = exc
        else:
            session_cookie.start(user, method="password")
            return go_back(form.return_to.data)
    status = error.status if error else None
    return show("login/login.html", form, status=status, error=error)


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
