"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) at /oauth/logout.

Authlib's EndSessionEndpoint checks ``id_token_hint`` (signed by one of our
keys), ``client_id`` against its audience, and follows
``post_logout_redirect_uri`` only when it is registered exactly (with
``state``). The reader's session ends without a question only when the hint
names the reader who is signed in; otherwise (no hint, someone else's, or one
we cannot read) a page asks first, so a link cannot sign anyone out.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oidc.rpinitiated import EndSessionRequest
from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from auth_service.oidc.server import server
from auth_service.views import session_cookie
from auth_service.views.forms import ButtonForm

bp = Blueprint("oidc_logout", __name__)


def _hint_is_this_reader(end: EndSessionRequest) -> bool:
    claims = end.id_token_claims
    return bool(claims) and current_user.is_authenticated and str(claims.get("sub")) == str(
        current_user.id)


@bp.route("/oauth/logout", methods=["GET", "POST"])
def logout() -> Response | tuple[Any, int]:
    try:
        end = server().validate_endpoint_request("end_session")
    except OAuth2Error as exc:
        # Never a redirect on a bad request (§4): say so here.
        return _page("oidc/logout_problem.html", 400,
                     message=exc.description or _l("This sign-out request is not valid."))
    form = ButtonForm()
    confirmed = request.method == "POST" and form.validate_on_submit()
    if request.method == "POST" and not confirmed:
        return _page("oidc/logout_problem.html", 400,
                     message=_l("This form has expired. Go back and try again."))
    client_name = end.client.name if end.client is not None else None
    signed_in = session_cookie.current_session() is not None
    if signed_in and not (confirmed or _hint_is_this_reader(end)):
        return _page("oidc/logout.html", 200, form=form, client_name=client_name,
                     action=request.full_path.rstrip("?"))
    response = server().create_endpoint_response("end_session", end)
    if response is not None:
        return response
    return _page("oidc/signed_out.html", 200, client_name=client_name)


def _page(template: str, status: int, **context: Any) -> tuple[str, int]:
    return render_template(template, **context), status
