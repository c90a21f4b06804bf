"""The configured providers of one app, registered with Authlib's Flask client."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app

from auth_service.providers import facebook, github, google, oidc
from auth_service.providers.profile import Profile
from auth_service.providers.settings import ProviderSettings

KINDS: dict[str, ModuleType] = {"google": google, "facebook": facebook, "github": github,
                                "oidc": oidc}


@dataclass(frozen=True)
class Provider:
    settings: ProviderSettings
    client: Any  # authlib FlaskOAuth2App

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def label(self) -> str:
        return self.settings.label

    def profile(self, token: dict[str, Any]) -> Profile:
        """Ask the provider who signed in; raises ProviderError or requests' errors."""
        return KINDS[self.settings.kind].profile(self.client, token, self.settings)


def init_app(app: Flask) -> None:
    """Register every configured provider on an Authlib registry owned by ``app``."""
    registry = OAuth(app)
    providers: dict[str, Provider] = {}
    for settings in app.config["PROVIDERS"]:
        kwargs = KINDS[settings.kind].register_kwargs(settings)
        client_kwargs = {**kwargs.pop("client_kwargs"), "code_challenge_method": "S256",
                         "default_timeout": app.config["PROVIDER_TIMEOUT"]}
        client = registry.register(settings.name, client_id=settings.client_id,
                                   client_secret=settings.client_secret,
                                   client_kwargs=client_kwargs, **kwargs)
        providers[settings.name] = Provider(settings=settings, client=client)
    app.extensions["auth_providers"] = providers


def all_providers() -> list[Provider]:
    """The providers of the current app, in configuration order."""
    return list(current_app.extensions["auth_providers"].values())


def get(name: str) -> Provider | None:
    return current_app.extensions["auth_providers"].get(name)
