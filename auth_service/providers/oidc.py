"""Any OpenID Connect provider, configured by its discovery URL (Google uses this too).

Authlib checks the ID token: signature against the provider's JWKS, issuer,
audience, expiry and our nonce. The profile comes from those checked claims,
completed from the userinfo endpoint when the ID token leaves the email out.
"""

from __future__ import annotations

from typing import Any

from auth_service.providers.profile import (
    Profile,
    ProviderError,
    clip,
    https_url,
    subject_of,
    truthy,
)
from auth_service.providers.settings import ProviderSettings

SCOPE = "openid email profile"


def register_kwargs(settings: ProviderSettings) -> dict[str, Any]:
    """What Authlib's ``oauth.register`` needs for this provider."""
    return {"server_metadata_url": settings.discovery_url, "client_kwargs": {"scope": SCOPE}}


def profile(client: Any, token: dict[str, Any], settings: ProviderSettings) -> Profile:
    """Profile from the validated ID token (and userinfo if the token has no email)."""
    claims = token.get("userinfo")
    if not claims or not claims.get("sub"):
        raise ProviderError("social.no_id_token", f"{settings.label} did not send an ID token.")
    claims = dict(claims)
    if not claims.get("email") and client.load_server_metadata().get("userinfo_endpoint"):
        extra = dict(client.userinfo(token=token))
        # OpenID Connect Core 5.3.2: userinfo about another subject must be ignored.
        if extra.get("sub") == claims["sub"]:
            claims = {**extra, **{k: v for k, v in claims.items() if v is not None}}
    email = claims.get("email")
    return Profile(
        provider=settings.name,
        subject=subject_of(claims["sub"], settings.label),
        email=email if isinstance(email, str) and email else None,
        email_verified=truthy(claims.get("email_verified")),
        name=clip(claims.get("name") or claims.get("preferred_username"), 100),
        avatar_url=https_url(claims.get("picture")),
    )
