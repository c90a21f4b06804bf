"""``/api/session`` through Flask: the CORS preflight, HEAD, and other methods (405).

A GET never gets here: views/session_check.py answers it in front of Flask, with
the same :func:`~auth_service.views.session_check.answer` this view gives.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from auth_service.extensions import limiter
from auth_service.views.session_check import answer, cors

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.route("/session", methods=["GET", "OPTIONS"])
# A proxy asks from one address on behalf of every reader: a limit per IP would lock the site out.
@limiter.exempt
def session() -> Response:
    config = current_app.config
    if request.method == "OPTIONS":
        return preflight()
    status, body, headers = answer(request.environ, config)
    response = Response(body, status=status, mimetype="application/json")
    response.headers.extend(headers)
    return response


def preflight() -> Response:
    """The CORS preflight (a fetch with an Authorization header) of a GET-only API path:
    allowed for the trusted origins only, never ``*``."""
    response = Response(status=204)
    response.headers.extend(cors(request.environ, current_app.config))
    if "Access-Control-Allow-Origin" in response.headers:
        response.headers["Access-Control-Allow-Methods"] = "GET"
        response.headers["Access-Control-Allow-Headers"] = "Authorization"
        response.headers["Access-Control-Max-Age"] = "600"
    return response
