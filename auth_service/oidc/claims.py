"""What the provider says about a reader: claims for ID tokens, userinfo and session tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from authlib.oidc.core import UserInfo

from auth_service.models import User

# How the session began, as RFC 8176 Authentication Method References. Every
# "continue with" provider counts as a federated sign-in, "oidc" (the value the
# service's /api/session uses too), whatever protocol the provider speaks.
PASSWORD_AMR = ["pwd"]
FEDERATED_AMR = ["oidc"]


def amr_for(method: str) -> list[str]:
    """The ``amr`` claim for a session's ``method`` ("password" or a provider name)."""
    return list(PASSWORD_AMR if method == "password" else FEDERATED_AMR)


class Claims(UserInfo):
    """OpenID Connect's standard claims by scope, plus ``roles`` with the profile."""

    SCOPES_CLAIMS_MAPPING: ClassVar[dict[str, list[str]]] = {**UserInfo.SCOPES_CLAIMS_MAPPING,
                             "profile": [*UserInfo.SCOPES_CLAIMS_MAPPING["profile"], "roles"]}


def user_claims(user: User, scope: str) -> Claims:
    """The reader's claims that ``scope`` allows; ``sub`` is the account id, never the email."""
    claims = Claims(sub=str(user.id), email=user.email, email_verified=user.email_confirmed,
                    name=user.name, roles=user.roles)
    if user.avatar_url:
        claims["picture"] = user.avatar_url
    return Claims(claims.filter(scope))


def timestamp(value: datetime) -> int:
    return int(value.timestamp())


def session_token_claims(user: User, session_id: str, method: str, *, issuer: str,
                         issued_at: datetime, expires_at: datetime,
                         audience: str | None) -> dict[str, Any]:
    """The claims of a signed session token (GET /api/session/token)."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": str(user.id),
        "sid": session_id,
        "email": user.email,
        "email_verified": user.email_confirmed,
        "name": user.name,
        "roles": user.roles,
        "amr": amr_for(method),
        "iat": timestamp(issued_at),
        "exp": timestamp(expires_at),
    }
    if user.avatar_url:
        claims["picture"] = user.avatar_url
    if audience:
        claims["aud"] = audience
    return claims
