"""``GET /api/session/token``: the session as a short-lived signed JWT a site verifies offline.

It takes the session cookie or ``Authorization: Bearer <session token>``, like
``/api/session``, and is only ever issued for a live session. The JWT is signed
with the provider's current key (verifiable against /oauth/jwks), lives at most
AUTH_SESSION_TOKEN_TTL seconds (never past the session's own end), names the
session (``sid``), and carries ``aud`` only for an origin in
AUTH_TRUSTED_ORIGINS asked for with ``?audience=``. Its ``typ`` header
(``auth-session+jwt``) tells it from an ID token, so neither passes for the other.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, current_app, jsonify, request

from auth_service import clock
from auth_service.extensions import db, limiter
from auth_service.flows import sessions as session_flow
from auth_service.oidc import claims, keys
from auth_service.views.api import preflight
from auth_service.views.session_check import cors, token_from

bp = Blueprint("session_token", __name__)

TOKEN_TYPE = "auth-session+jwt"  # noqa: S105 (a JWT type, not a secret)


def _answer(body: dict[str, object], status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    response.headers.extend(cors(request.environ, current_app.config))
    return response


@bp.route("/api/session/token", methods=["GET", "OPTIONS"])
# Proxies and edge functions ask for many readers from one address, as for /api/session.
@limiter.exempt
def session_token() -> Response:
    config = current_app.config
    if request.method == "OPTIONS":
        return preflight()
    audience = request.args.get("audience")
    if audience is not None and audience.rstrip("/") not in config["TRUSTED_ORIGINS"]:
        return _answer({"error": "invalid_audience",
                        "message": "audience must be one of the service's trusted origins"}, 400)
    active = session_flow.lookup(token_from(request.environ, config["SESSION_COOKIE"]))
    if active is None:
        response = _answer({"error": "unauthenticated"}, 401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="auth_service"'
        return response
    now = clock.now()
    expires = min(now + timedelta(seconds=config["SESSION_TOKEN_TTL"]), active.session.ends_at)
    token = keys.sign(claims.session_token_claims(
        active.user, active.session, issuer=config["BASE_URL"],
        issued_at=now, expires_at=expires,
        audience=audience.rstrip("/") if audience else None), typ=TOKEN_TYPE)
    db.session.commit()
    return _answer({"token": token, "token_type": "Bearer",
                    "expires_in": max(int((expires - now).total_seconds()), 0)}, 200)
