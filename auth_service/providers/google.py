"""Google: OpenID Connect by discovery; ``email_verified`` is Google's own word."""

from __future__ import annotations

from auth_service.providers.oidc import profile, register_kwargs

__all__ = ["profile", "register_kwargs"]
