"""What the provider says about a reader: claims for ID tokens, userinfo and session tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from authlib.oidc.core import UserInfo

from auth_service.models import Session, User

# How the session began, as RFC 8176 Authentication Method References. Every
# "continue with" provider counts as a federated sign-in, "oidc" (the value the
# service's /api/session uses too), whatever protocol the provider speaks. A
# second factor adds "otp" (an authenticator app or a recovery code) or "hwk" (a
# passkey); a passkey alone, with user verification, is "hwk".
PASSWORD_AMR = ["pwd"]
FEDERATED_AMR = ["oidc"]
PASSKEY_AMR = ["hwk"]


def amr_for(method: str) -> list[str]:
    """The first factor's ``amr`` for a sign-in ``method`` ("password", "passkey" or a
    provider name); the session's own ``amr`` adds the second factor to it."""
    if method == "password":
        return list(PASSWORD_AMR)
    return list(PASSKEY_AMR if method == "passkey" else FEDERATED_AMR)


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


def session_token_claims(user: User, session: Session, *, issuer: str,
                         issued_at: datetime, expires_at: datetime,
                         audience: str | None) -> dict[str, Any]:
    """The claims of a signed session token (GET /api/session/token): the reader, and how
    (``amr``) and when (``auth_time``) the session's sign-in was."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": str(user.id),
        "sid": session.id,
        "email": user.email,
        "email_verified": user.email_confirmed,
        "name": user.name,
        "roles": user.roles,
        "amr": list(session.amr or amr_for(session.method)),
        "auth_time": timestamp(session.auth_time),
        "iat": timestamp(issued_at),
        "exp": timestamp(expires_at),
    }
    if user.avatar_url:
        claims["picture"] = user.avatar_url
    if audience:
        claims["aud"] = audience
    return claims
