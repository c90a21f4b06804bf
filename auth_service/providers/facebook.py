"""Facebook: OAuth 2 and the Graph API ``me?fields=id,name,email,picture``.

Facebook accounts made with a phone number have no email, and Facebook does not
say whether an address was verified, so it counts as unverified unless the
operator sets AUTH_FACEBOOK_TRUST_EMAIL.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from auth_service.providers.profile import Profile, ProviderError, clip, https_url, subject_of
from auth_service.providers.settings import ProviderSettings


def register_kwargs(settings: ProviderSettings) -> dict[str, Any]:
    return {
        "authorize_url": settings.authorize_url,
        "access_token_url": settings.token_url,
        "api_base_url": settings.api_url,
        "client_kwargs": {"scope": "email public_profile",
                          "token_endpoint_auth_method": "client_secret_post"},
    }


def profile(client: Any, token: dict[str, Any], settings: ProviderSettings) -> Profile:
    response = client.get("me", params={"fields": "id,name,email,picture.type(large)"},
                          token=token)
    response.raise_for_status()
    data = response.json()
    if not isinstance(data, dict) or not data.get("id"):
        raise ProviderError("social.bad_profile", _l("Facebook sent a profile we could not read."))
    picture = data.get("picture")
    avatar = picture.get("data", {}).get("url") if isinstance(picture, dict) else None
    email = data.get("email")
    return Profile(
        provider=settings.name,
        subject=subject_of(data["id"], settings.label),
        email=email if isinstance(email, str) and email else None,
        email_verified=settings.trust_email and bool(email),
        name=clip(data.get("name"), 100),
        avatar_url=https_url(avatar),
    )
