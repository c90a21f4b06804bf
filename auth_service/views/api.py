"""``GET /api/session``: the check the content site or its proxy makes on every page view.

It is a read: 200 with the reader, or 401. It never redirects and never sets a
cookie, and answers CORS only for AUTH_TRUSTED_ORIGINS (with credentials).
This is the hot path, so it bypasses Flask-Login and the page machinery.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, current_app, json, request

from auth_service.flows import sessions as session_flow
from auth_service.flows.sessions import Active

bp = Blueprint("api", __name__, url_prefix="/api")

UNAUTHENTICATED = json.dumps({"error": "unauthenticated"})


def _token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.cookies.get(current_app.config["SESSION_COOKIE"])


def _body(active: Active) -> dict[str, object]:
    user, session = active.user, active.session
    return {
        "user": {
            "id": str(user.id),
            "email": user.email,
            "email_verified": user.email_confirmed,
            "name": user.name,
            "avatar_url": user.avatar_url,
            "roles": user.roles,
        },
        "session": {
            "id": session.id,
            "expires_at": session.ends_at.isoformat().replace("+00:00", "Z"),
        },
    }


def _cors(response: Response) -> Response:
    response.headers["Vary"] = "Origin, Cookie, Authorization"
    origin = request.headers.get("Origin")
    if origin and origin in current_app.config["TRUSTED_ORIGINS"]:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
    return response


@bp.route("/session", methods=["GET", "OPTIONS"])
def session() -> Response:
    if request.method == "OPTIONS":  # CORS preflight (e.g. a fetch with an Authorization header)
        response = _cors(Response(status=204))
        if "Access-Control-Allow-Origin" in response.headers:
            response.headers["Access-Control-Allow-Methods"] = "GET"
            response.headers["Access-Control-Allow-Headers"] = "Authorization"
            response.headers["Access-Control-Max-Age"] = "600"
        return response
    active = session_flow.lookup(_token())
    if active is None:
        response = Response(UNAUTHENTICATED, status=401, mimetype="application/json")
        response.headers["WWW-Authenticate"] = 'Bearer realm="auth_service"'
    else:
        response = Response(json.dumps(_body(active)), mimetype="application/json")
        response.headers["X-Auth-User-Id"] = str(active.user.id)
        response.headers["X-Auth-Email"] = active.user.email
        # Header values must be ASCII; names are not, so this one is percent-encoded UTF-8.
        response.headers["X-Auth-Name"] = quote(active.user.name, safe=" ")
    response.headers["Cache-Control"] = "no-store"
    return _cors(response)
