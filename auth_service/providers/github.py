"""GitHub: OAuth 2, ``/user`` for the account and ``/user/emails`` for addresses.

The public address on ``/user`` may be unverified or absent; only the primary
address that GitHub marks verified is used, and it is then a verified email.
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
        # GitHub documents client_id and client_secret as form parameters of the token
        # request, not HTTP Basic (Authlib's default).
        "client_kwargs": {"scope": "read:user user:email",
                          "token_endpoint_auth_method": "client_secret_post"},
    }


def profile(client: Any, token: dict[str, Any], settings: ProviderSettings) -> Profile:
    user = client.get("user", token=token)
    user.raise_for_status()
    account = user.json()
    if not isinstance(account, dict) or not account.get("id"):
        raise ProviderError("social.bad_profile", _l("GitHub sent a profile we could not read."))
    emails = client.get("user/emails", token=token)
    emails.raise_for_status()
    listed = emails.json() if isinstance(emails.json(), list) else []
    primary = next((e for e in listed if isinstance(e, dict) and e.get("primary") is True
                    and e.get("verified") is True and isinstance(e.get("email"), str)), None)
    return Profile(
        provider=settings.name,
        subject=subject_of(account["id"], settings.label),
        email=primary["email"] if primary else None,
        email_verified=primary is not None,
        name=clip(account.get("name") or account.get("login"), 100),
        avatar_url=https_url(account.get("avatar_url")),
    )
