"""The provider's machine endpoints: discovery, JWKS, token, userinfo, revocation.

Clients call these from their servers (or, for discovery and keys, from
anywhere): no cookies, no CSRF token, JSON answers. The token endpoint is rate
limited per client and address; the published documents may be cached.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask_limiter.util import get_remote_address

from auth_service import links
from auth_service.extensions import csrf, db, limiter
from auth_service.models.oidc import SCOPES
from auth_service.oidc import keys
from auth_service.oidc.server import server
from auth_service.providers import registry
from auth_service.views.limits import breach_counter

bp = Blueprint("oidc", __name__)
csrf.exempt(bp)

# A site's server signs every reader in from one address: generous per client, but
# a stolen client id guessing secrets or codes is slowed down.
TOKEN_LIMIT = "300 per minute"  # noqa: S105 (a rate, not a secret)
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
CLAIMS = ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "sid", "amr", "at_hash",
          "email", "email_verified", "name", "picture", "roles"]


def _client_key() -> str:
    client_id = request.form.get("client_id") or (request.authorization.username
                                                  if request.authorization else "")
    return f"token:{(client_id or '')[:64]}:{get_remote_address()}"


def metadata() -> dict[str, Any]:
    """OpenID Connect Discovery 1.0 (and RFC 8414) metadata of this provider."""
    return {
        "issuer": current_app.config["BASE_URL"],
        "authorization_endpoint": links.external("oidc_authorize.authorize"),
        "token_endpoint": links.external("oidc.token"),
        "userinfo_endpoint": links.external("oidc.userinfo"),
        "jwks_uri": links.external("oidc.jwks"),
        "revocation_endpoint": links.external("oidc.revoke"),
        "end_session_endpoint": links.external("oidc_logout.logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "scopes_supported": list(SCOPES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(keys.ALGORITHMS),
        "userinfo_signing_alg_values_supported": list(keys.ALGORITHMS),
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_supported": CLAIMS,
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
        # Not a standard field: the "continue with" providers, so a site can draw its own
        # buttons and pass provider=<name> to /oauth/authorize.
        "auth_service_providers": [{"name": p.name, "label": p.label}
                                   for p in registry.all_providers()],
    }


def _public(response: Response) -> Response:
    """A document anyone may read and cache for a while (no credentials involved)."""
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/.well-known/openid-configuration")
@limiter.exempt
def discovery() -> Response:
    return _public(jsonify(metadata()))


@bp.get("/oauth/jwks")
@limiter.exempt
def jwks() -> Response:
    document = keys.jwks()
    db.session.commit()  # the first key may just have been made
    return _public(jsonify(document))


@bp.post("/oauth/token")
@limiter.limit(TOKEN_LIMIT, key_func=_client_key, on_breach=breach_counter("oidc_token"))
def token() -> Response:
    response = server().create_token_response()
    db.session.commit()
    return response


@bp.route("/oauth/userinfo", methods=["GET", "POST"])
def userinfo() -> Response:
    response = server().create_endpoint_response("userinfo")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/oauth/revoke")
@limiter.limit(TOKEN_LIMIT, key_func=_client_key, on_breach=breach_counter("oidc_token"))
def revoke() -> Response:
    response = server().create_endpoint_response("revocation")
    db.session.commit()
    return response
