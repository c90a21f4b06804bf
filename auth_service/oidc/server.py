"""Authlib's authorization server for this app: grants, endpoints and storage wired together.

One server per app (in ``app.extensions``), because Authlib keeps its grants
and endpoints on the instance and tests build many apps.
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer as FlaskAuthorizationServer
from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload, FlaskOAuth2Request
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc9207 import IssuerParameter
from authlib.oidc.core import UserInfoEndpoint
from authlib.oidc.rpinitiated import EndSessionEndpoint, EndSessionRequest
from flask import Flask, current_app
from flask import Request as FlaskRequest
from flask import request as flask_request

from auth_service.models import OAuthClient, OAuthToken, User
from auth_service.oidc import claims, clients, grants, keys, tokens
from auth_service.views import sessions

EXTENSION_KEY = "auth_service.oidc"


class _PublicRequest(FlaskOAuth2Request):
    """Authlib's view of a Flask request, at the URL readers use (AUTH_BASE_URL), not the Host
    header: behind a TLS proxy the request reaches us over http, and Authlib refuses
    plain http except on this machine (RFC 8252 §7.3)."""

    def __init__(self, request: FlaskRequest) -> None:
        uri = current_app.config["BASE_URL"] + request.full_path.rstrip("?")
        OAuth2Request.__init__(self, method=request.method, uri=uri, headers=request.headers)
        self._request = request
        self.payload = FlaskOAuth2Payload(request)


class Server(FlaskAuthorizationServer):
    """The provider: Authlib's Flask server with our clients, tokens and issuer."""

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        return _PublicRequest(flask_request)


class Issuer(IssuerParameter):
    """RFC 9207: every authorization response names this issuer."""

    def get_issuer(self) -> str:
        return current_app.config["BASE_URL"]


class AccessTokens(BearerTokenValidator):
    def authenticate_token(self, token_string: str) -> OAuthToken | None:
        return tokens.by_access_token(token_string)


class Revocation(RevocationEndpoint):
    """RFC 7009. A refresh token takes its whole family with it; an access token, its row."""

    CLIENT_AUTH_METHODS = grants.CLIENT_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> OAuthToken | None:
        return tokens.by_any_token(token_string)

    def revoke_token(self, token: OAuthToken, request: Any) -> None:
        if tokens.is_refresh_token(token, request.form["token"]):
            tokens.revoke_family(token.family)
        else:
            tokens.revoke_row(token)


class UserInfo(UserInfoEndpoint):
    def generate_user_info(self, user: User, scope: str) -> claims.Claims:
        return claims.user_claims(user, scope)

    def get_issuer(self) -> str:
        return current_app.config["BASE_URL"]

    def resolve_private_key(self) -> Any:
        return keys.private_key(keys.current())


class EndSession(EndSessionEndpoint):
    """RP-initiated logout: Authlib validates; ending the session is the service's sign-out."""

    def get_server_jwks(self) -> dict[str, Any]:
        return keys.jwks()

    def get_algorithms(self) -> list[str]:
        return list(keys.ALGORITHMS)

    def resolve_client_from_id_token_claims(self, id_token_claims: dict[str, Any]) -> Any:
        # Our ID tokens name their one client as a one-item list.
        aud = id_token_claims.get("aud")
        if isinstance(aud, list) and len(aud) == 1:
            aud = aud[0]
        return self.server.query_client(aud) if isinstance(aud, str) else None

    def is_post_logout_redirect_uri_legitimate(self, request: Any, post_logout_redirect_uri: str,
                                               client: Any, logout_hint: str | None) -> bool:
        # Without an ID token, a client that names itself may still be sent back to
        # one of its registered URIs: the exact registration is what makes it safe.
        return client is not None and request.payload.data.get("client_id") == client.client_id

    def end_session(self, end_session_request: EndSessionRequest) -> None:
        sessions.end(reason="logout")


def _query_client(client_id: str) -> OAuthClient | None:
    return clients.find(client_id)


def build() -> Server:
    """A server with the code and refresh grants, revocation, userinfo and RP-initiated logout."""
    server = Server(query_client=_query_client, save_token=tokens.save)
    server.register_token_generator("default", tokens.TokenGenerator())
    server.register_grant(grants.AuthorizationCodeGrant,
                          [grants.PKCE(required=True), grants.OpenIDCodeExtension()])
    server.register_grant(grants.RefreshTokenGrant, [grants.OpenIDRefreshExtension()])
    server.register_extension(Issuer())
    protector = ResourceProtector()
    protector.register_token_validator(AccessTokens())
    server.register_endpoint(Revocation)
    server.register_endpoint(UserInfo(resource_protector=protector))
    server.register_endpoint(EndSession)
    return server


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = build()


def server() -> Server:
    """The current app's authorization server."""
    return current_app.extensions[EXTENSION_KEY]
