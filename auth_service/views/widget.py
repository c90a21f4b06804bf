"""``/widget/login-buttons``: the "Continue with …" block a content site embeds.

It takes the options of the site's current shortcode (size, type, show_face,
redirect, hide_if_logged); unknown values fall back to the defaults. Only the
trusted origins may frame it, and its links open in the top window.
"""

from __future__ import annotations

from flask import Blueprint, current_app, make_response, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from auth_service.providers import registry
from auth_service.security.headers import CSP
from auth_service.views.common import trusted_return_to

bp = Blueprint("widget", __name__, url_prefix="/widget")

SIZES = ("small", "medium", "large")
VERBS = {"continue_with": "Continue with", "login_with": "Log in with",
         "sign_in_with": "Sign in with"}
TRUE = {"1", "true", "yes", "on"}


def _choice(name: str, choices: tuple[str, ...] | dict[str, str], default: str) -> str:
    value = request.args.get(name, "").strip().lower()
    return value if value in choices else default


@bp.get("/login-buttons")
def login_buttons() -> Response:
    size = _choice("size", SIZES, "medium")
    kind = _choice("type", VERBS, "continue_with")
    show_face = request.args.get("show_face", "").strip().lower() in TRUE
    hide_if_logged = request.args.get("hide_if_logged", "").strip().lower() in TRUE
    return_to = trusted_return_to(request.args.get("redirect"))
    signed_in = current_user.is_authenticated
    body = render_template(
        "widget/login_buttons.html",
        providers=registry.all_providers(), size=size, verb=VERBS[kind],
        show_face=show_face and signed_in, hide=hide_if_logged and signed_in,
        return_to=return_to, reader=current_user if signed_in else None)
    response = make_response(body)
    ancestors = " ".join(current_app.config["TRUSTED_ORIGINS"])
    response.headers["Content-Security-Policy"] = CSP.replace(
        "frame-ancestors 'none'", f"frame-ancestors {ancestors}")
    # No X-Frame-Options: it cannot list several origins; browsers follow the CSP above.
    response.headers["Vary"] = "Cookie"
    return response
