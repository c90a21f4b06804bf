"""Forgot password → emailed link → new password."""

from __future__ import annotations

from flask import Blueprint, request
from werkzeug.wrappers import Response

from auth_service.errors import InvalidInput, TokenError
from auth_service.flows import recovery
from auth_service.views import limits, session_cookie
from auth_service.views.common import attach, client, show
from auth_service.views.forms import EmailForm, NewPasswordForm

bp = Blueprint("recovery", __name__, url_prefix="/password")


@bp.route("/forgot", methods=["GET", "POST"])
@limits.per_ip
@limits.per_address
def forgot() -> Response | tuple[str, int]:
    form = EmailForm()
    if form.validate_on_submit():
        try:
            recovery.request_recovery(form.email.data, client=client())
        except InvalidInput as exc:
            attach(form, exc)
        else:
            return show("recovery/sent.html")
    return show("recovery/forgot.html", form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limits.per_ip
def reset(token: str) -> Response | tuple[str, int]:
    """GET shows the form and spends nothing; POST sets the password and spends the link."""
    form = NewPasswordForm()
    try:
        user = recovery.check(token)
        if form.validate_on_submit():
            try:
                recovery.complete_recovery(token, form.password.data, client=client())
            except InvalidInput as exc:
                attach(form, exc)
            else:
                session_cookie.end(reason="password_reset")
                return show("recovery/done.html")
    except TokenError as exc:
        return show("recovery/problem.html", EmailForm(formdata=None), status=exc.status,
                    error=exc)
    return show("recovery/reset.html", form, user=user,
                confirmed=request.args.get("confirmed") == "1" and user.email_confirmed)
