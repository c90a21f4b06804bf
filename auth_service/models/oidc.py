"""The OpenID Connect provider's rows: clients, codes, tokens, consents, keys, logout deliveries.

The classes carry the methods Authlib's server calls on them (its ClientMixin,
AuthorizationCodeMixin and TokenMixin), so the protocol code stays Authlib's.
Secrets are never stored as given: client secrets, codes and tokens are kept
as SHA-256 hex digests (they are 256-bit random values, so a fast hash is
enough, and a database copy hands out none of them).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oidc.core import AuthorizationCodeMixin
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auth_service import clock
from auth_service.models.base import Base, UTCDateTime, now
from auth_service.models.user import User

# What a client may ask for; "openid" is what makes it OpenID Connect.
SCOPES = ("openid", "email", "profile", "offline_access")
GRANT_TYPES = ("authorization_code", "refresh_token")
CONFIDENTIAL_AUTH_METHODS = ("client_secret_basic", "client_secret_post")

PENDING = "pending"
SENT = "sent"
FAILED = "failed"


def digest(value: str) -> str:
    """The stored form of a client secret, code or token."""
    return hashlib.sha256(value.encode()).hexdigest()


class OAuthClient(Base, ClientMixin):
    """A content site registered with ``auth-service clients add``."""

    __tablename__ = "oidc_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    # Shown to readers on the consent page and on /account.
    name: Mapped[str] = mapped_column(String(100))
    # None for a public client (a browser or mobile app that cannot keep a secret).
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(1000))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    # The operator's own sites: no consent page.
    first_party: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # --- Authlib's ClientMixin ---------------------------------------------------

    @property
    def client_metadata(self) -> dict[str, Any]:
        return {"post_logout_redirect_uris": list(self.post_logout_redirect_uris or ())}

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        # OpenID Connect requires redirect_uri in every request: no default.
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        return " ".join(part for part in dict.fromkeys(scope.split()) if part in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Exact string match with a registered URI: no prefix, no normalisation."""
        return redirect_uri in (self.redirect_uris or ())

    def check_client_secret(self, client_secret: str) -> bool:
        if self.secret_hash is None:
            return False
        return hmac.compare_digest(digest(client_secret), self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.public:
            return method == "none"
        return method in CONFIDENTIAL_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES

    def __repr__(self) -> str:
        return f"<OAuthClient {self.client_id}>"


class AuthorizationCode(Base, AuthorizationCodeMixin):
    """A code from /oauth/authorize: 60 seconds, one use; the row stays to catch a replay."""

    __tablename__ = "oidc_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oidc_clients.id", ondelete="CASCADE"),
                                           index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"),
                                            index=True)
    redirect_uri: Mapped[str] = mapped_column(String(1000))
    scope: Mapped[str] = mapped_column(String(255))
    nonce: Mapped[str | None] = mapped_column(String(255))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(10))
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime())
    amr: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return int(self.auth_time.timestamp())

    def get_amr(self) -> list[str]:
        return list(self.amr or ())


class OAuthToken(Base, TokenMixin):
    """An access token, and the refresh token issued with it for scope offline_access.

    Tokens issued one from another (a code, then each refresh) share a
    ``family``; presenting a refresh token that was already used revokes it.
    """

    __tablename__ = "oidc_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oidc_clients.id", ondelete="CASCADE"),
                                           index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The service session the reader was in: the sid of the ID token, and what a
    # back-channel logout is sent for. Kept after the session ends (SET NULL only
    # when the account, and with it the session, is deleted).
    session_id: Mapped[str | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="SET NULL"), index=True)
    code_id: Mapped[int | None] = mapped_column(
        ForeignKey("oidc_codes.id", ondelete="SET NULL"), index=True)
    family: Mapped[str] = mapped_column(String(32), index=True)
    scope: Mapped[str] = mapped_column(String(255))
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    expires_in: Mapped[int] = mapped_column(Integer)
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refresh_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime())
    amr: Mapped[list[str]] = mapped_column(JSON, default=list)

    user: Mapped[User] = relationship()
    client: Mapped[OAuthClient] = relationship()

    def check_client(self, client: OAuthClient) -> bool:
        return self.client_pk == client.id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return (clock.now() - self.issued_at).total_seconds() >= self.expires_in

    def is_revoked(self) -> bool:
        return self.revoked_at is not None or self.user.disabled

    def get_user(self) -> User:
        return self.user

    def get_client(self) -> OAuthClient:
        return self.client


class Consent(Base):
    """What a reader allowed a client; listed on /account, where it can be withdrawn."""

    __tablename__ = "oidc_consents"
    __table_args__ = (UniqueConstraint("user_id", "client_pk"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oidc_clients.id", ondelete="CASCADE"),
                                           index=True)
    scope: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    client: Mapped[OAuthClient] = relationship()


class SigningKey(Base):
    """A key the provider signs with: the newest unretired one signs, the others only verify."""

    __tablename__ = "oidc_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    alg: Mapped[str] = mapped_column(String(10))
    # The private key as a JWK (JSON text); only its public half is ever served.
    private_jwk: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    # Set by `keys rotate`: from then on it only verifies what it signed before.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LogoutDelivery(Base):
    """A back-channel logout to send: written with the session's end, sent by the worker.

    The logout token is signed when it is sent (fresh ``iat``), so the row holds
    no secret. No foreign key to the session or the account: a deleted account's
    sessions are gone, and its clients must still be told.
    """

    __tablename__ = "oidc_logout_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oidc_clients.id", ondelete="CASCADE"),
                                           index=True)
    session_id: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    status: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, index=True)
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    client: Mapped[OAuthClient] = relationship()
