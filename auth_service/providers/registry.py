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
from auth_service.providers.state_store import StateStore

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

    def accepts_issuer(self, iss: str | None) -> bool:
        """RFC 9207: whether a callback's ``iss`` parameter fits this provider (mix-up defence).

        An OpenID Connect provider's callback that carries ``iss`` must name the issuer
        of its discovery document; one whose metadata says it always sends ``iss``
        must send it. OAuth 2 providers without an issuer (Facebook, GitHub) have
        nothing to compare it with: their own callback URI is their defence.
        """
        if not self.settings.is_oidc:
            return True
        metadata = self.client.load_server_metadata()
        if iss is None:
            return metadata.get("authorization_response_iss_parameter_supported") is not True
        return iss == metadata.get("issuer")

    def profile(self, token: dict[str, Any]) -> Profile:
        """Ask the provider who signed in; raises ProviderError or requests' errors."""
        return KINDS[self.settings.kind].profile(self.client, token, self.settings)


def init_app(app: Flask) -> None:
    """Register every configured provider on an Authlib registry owned by ``app``."""
    # Round trips are kept in the database, not the browser's cookie: a callback works once.
    registry = OAuth(app, cache=StateStore())
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
