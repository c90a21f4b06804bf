"""The grants the provider offers, as Authlib's classes with our storage under them.

Authorization code (with PKCE, S256 only, required for public clients) plus the
OpenID Connect extension that adds the ID token; refresh token, rotated at every
use. Authlib runs the protocol; these classes only find, store and revoke rows
(:mod:`auth_service.oidc.tokens`) and say what goes into the ID token.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from authlib.oauth2.rfc6749 import InvalidRequestError, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode, OpenIDToken
from flask import current_app
from sqlalchemy import select

from auth_service import clock
from auth_service.extensions import db
from auth_service.models import AuthorizationCode, OAuthClient, OAuthToken, Session, User
from auth_service.models.oidc import digest
from auth_service.oidc import claims, keys, tokens

CODE_TTL = timedelta(seconds=60)
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


def _session_alive(session_id: str | None) -> bool:
    session = db.session.get(Session, session_id) if session_id else None
    now = clock.now()
    return (session is not None and session.revoked_at is None
            and now < session.expires_at and now < session.idle_expires_at)


def _usable(user: User | None) -> User | None:
    return user if user is not None and not user.disabled else None


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    """RFC 6749 §4.1 with single-use 60-second codes bound to the reader's session."""

    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def save_authorization_code(self, code: str, request: Any) -> AuthorizationCode:
        session: Session = request.auth_session  # set by the authorize view
        data = request.payload.data
        now = clock.now()
        row = AuthorizationCode(
            code_hash=digest(code),
            client_pk=request.client.id,
            user_id=request.user.id,
            session_id=session.id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope or "",
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            auth_time=session.authenticated_at,
            amr=list(session.amr or claims.amr_for(session.method)),
            created_at=now,
            expires_at=now + CODE_TTL,
        )
        db.session.add(row)
        db.session.commit()
        return row

    def query_authorization_code(self, code: str, client: OAuthClient) -> AuthorizationCode | None:
        return tokens.claim_code(code, client.id)

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Nothing to do: the code was marked used when it was claimed, and its row stays
        so that a replay can be recognised (and revoke what this use issued)."""

    def authenticate_user(self, authorization_code: AuthorizationCode) -> User | None:
        # The session the code was issued in must still be live: signed out in the
        # meantime, the reader did not sign in to the site.
        if not _session_alive(authorization_code.session_id):
            return None
        return _usable(authorization_code.user)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """RFC 6749 §6, rotating: every use spends the refresh token and issues a new one."""

    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> OAuthToken | None:
        return tokens.claim_refresh_token(refresh_token, self.request.client.id)

    def authenticate_user(self, refresh_token: OAuthToken) -> User | None:
        return _usable(refresh_token.user)

    def revoke_old_credential(self, refresh_token: OAuthToken) -> None:
        """Nothing more to do: claiming the refresh token spent it."""


class PKCE(CodeChallenge):
    """RFC 7636 with S256 only, and required of public clients already at /oauth/authorize."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        super().validate_code_challenge(grant, redirect_uri)
        data = grant.request.payload.data
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.")
        if grant.request.client.public and not data.get("code_challenge"):
            raise InvalidRequestError("This client must use PKCE (code_challenge with S256).")


class _Signing:
    """What both OpenID extensions share: our key, issuer, lifetimes and clock."""

    def resolve_client_private_key(self, client: OAuthClient) -> Any:
        return keys.private_key(keys.current())

    def get_client_algorithm(self, client: OAuthClient) -> str:
        return keys.current().alg

    def get_encode_header(self, client: OAuthClient) -> dict[str, str]:
        key = keys.current()
        return {"alg": key.alg, "kid": key.kid, "typ": "JWT"}

    def get_client_claims(self, client: OAuthClient) -> dict[str, Any]:
        now = int(clock.now().timestamp())
        return {"iss": current_app.config["BASE_URL"], "aud": [client.client_id], "iat": now,
                "exp": now + current_app.config["ID_TOKEN_TTL"]}

    def generate_user_info(self, user: User, scope: str) -> claims.Claims:
        return claims.user_claims(user, scope)


class OpenIDCodeExtension(_Signing, OpenIDCode):
    """OpenID Connect Core §3.1: the ID token, with ``sid``, ``auth_time`` and ``amr``."""

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        found = db.session.scalar(select(AuthorizationCode.id).where(
            AuthorizationCode.client_pk == request.client.id, AuthorizationCode.nonce == nonce)
            .limit(1))
        return found is not None

    def get_authorization_code_claims(self, authorization_code: AuthorizationCode
                                      ) -> dict[str, Any]:
        found = super().get_authorization_code_claims(authorization_code)
        found["sid"] = authorization_code.session_id
        return found


class OpenIDRefreshExtension(_Signing, OpenIDToken):
    """An ID token with refreshed tokens too (Core §12.2), about the original sign-in."""

    def get_compatible_claims(self, request: Any) -> dict[str, Any]:
        found = super().get_compatible_claims(request)
        previous: OAuthToken | None = request.refresh_token
        if previous is not None:
            found["auth_time"] = int(previous.auth_time.timestamp())
            found["amr"] = list(previous.amr or ())
            if previous.session_id:
                found["sid"] = previous.session_id
        return found
