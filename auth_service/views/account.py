"""The signed-in reader's page: profile, password, and the sessions they have open."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from auth_service.errors import InvalidInput
from auth_service.flows import account as account_flow
from auth_service.flows import sessions as session_flow
from auth_service.views import sessions
from auth_service.views.common import attach, client, show
from auth_service.views.devices import describe
from auth_service.views.forms import ButtonForm, ChangePasswordForm

bp = Blueprint("account", __name__, url_prefix="/account")


def _page(password_form: ChangePasswordForm | None = None, *, status: int | None = None,
          notice: str | None = None) -> tuple[str, int]:
    current = sessions.current_session()
    active = session_flow.active_for(current_user)
    return show("account/index.html", ButtonForm(), status=status, user=current_user,
                password_form=password_form or ChangePasswordForm(formdata=None),
                sessions=[(s, describe(s.user_agent), current is not None and s.id == current.id)
                          for s in active],
                notice=notice)


@bp.get("")
@login_required
def index() -> tuple[str, int]:
    notices = {"password": "Your password was changed. Other devices were signed out.",
               "revoked": "That session was signed out."}
    return _page(notice=notices.get(request.args.get("done", "")))


@bp.post("/password")
@login_required
def change_password() -> Response | tuple[str, int]:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        current = sessions.current_session()
        try:
            account_flow.change_password(current_user, form.current_password.data,
                                         form.new_password.data,
                                         keep_session=current.id if current else None,
                                         client=client())
        except InvalidInput as exc:
            attach(form, exc)
        else:
            return redirect(url_for("account.index", done="password"), code=303)
    return _page(form, status=400)


@bp.post("/sessions/<session_id>/revoke")
@login_required
def revoke_session(session_id: str) -> Response:
    if not ButtonForm().validate_on_submit():
        abort(400)
    target = session_flow.find_for(current_user, session_id)
    if target is None:
        abort(404)
    current = sessions.current_session()
    if current is not None and target.id == current.id:
        sessions.end(reason="revoked")
        return redirect(url_for("login.login"), code=303)
    session_flow.revoke(target, reason="revoked", client=client())
    return redirect(url_for("account.index", done="revoked"), code=303)


@bp.post("/sessions/revoke-all")
@login_required
def sign_out_everywhere() -> Response:
    if not ButtonForm().validate_on_submit():
        abort(400)
    session_flow.revoke_all(current_user, reason="signed_out_everywhere", client=client())
    sessions.end(reason="signed_out_everywhere")
    return redirect(url_for("login.login"), code=303)
