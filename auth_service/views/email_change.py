"""Change of address from /account: ask (signed in, recently), then confirm from the link.

The link's page only shows a button, like every emailed link here (mail scanners
follow links); the POST from it changes the address. It works without being
signed in, as mail is often read on another device: the link itself proves the
new address, and it could only be asked for from a recent sign-in.
"""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from auth_service.errors import FlowError, InvalidInput
from auth_service.flows import email_change
from auth_service.views import account, limits, session_cookie
from auth_service.views.common import attach, client, show
from auth_service.views.forms import ButtonForm, ChangeEmailForm

bp = Blueprint("email_change", __name__, url_prefix="/account/email")


@bp.post("")
@login_required
@limits.per_ip
@limits.per_address  # the new address: how much mail one address can be sent
def request_change() -> Response | tuple[str, int]:
    form = ChangeEmailForm()
    if not form.validate_on_submit():
        return account.page("profile", email_form=form, status=400)
    try:
        email_change.request_change(current_user, form.email.data,
                                    session=session_cookie.current_session(), client=client())
    except InvalidInput as exc:
        attach(form, exc)
        return account.page("profile", email_form=form, status=400)
    return account.back("email_sent")


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@limits.per_ip
def confirm(token: str) -> Response | tuple[str, int]:
    form = ButtonForm()
    try:
        if form.validate_on_submit():
            user = email_change.confirm(token, client=client())
            return show("email_change/changed.html", user=user,
                        signed_in=current_user.is_authenticated and current_user.id == user.id)
        user, new = email_change.check(token)
    except FlowError as exc:
        return show("email_change/problem.html", status=exc.status, error=exc)
    return show("email_change/confirm.html", form, user=user, new_email=new)
