"""Which social providers are configured, read from the AUTH_* environment.

Built in: Google (OpenID Connect by discovery), Facebook and GitHub (OAuth 2 and
their APIs). Any number of generic OpenID Connect providers come from
``AUTH_OIDC_<NAME>_DISCOVERY_URL`` and friends and are served at
``/login/<name lower-cased>``. Every endpoint can be overridden, so tests and
staging can point a provider at a local server.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from auth_service.errors import ConfigError

GOOGLE_DISCOVERY = "https://accounts.google.com/.well-known/openid-configuration"
FACEBOOK_GRAPH = "https://graph.facebook.com/v23.0/"
FACEBOOK_DIALOG = "https://www.facebook.com/v23.0/dialog/oauth"
GITHUB_AUTHORIZE = "https://github.com/login/oauth/authorize"
GITHUB_TOKEN_URL = "https://github.com/login/oauth/access_token"  # noqa: S105 - a URL
GITHUB_API = "https://api.github.com/"
BUILT_IN = ("google", "facebook", "github")
_OIDC_NAME = re.compile(r"^AUTH_OIDC_([A-Z0-9]+(?:_[A-Z0-9]+)*?)_DISCOVERY_URL$")
_OIDC_CLIENT_ID = re.compile(r"^AUTH_OIDC_([A-Z0-9]+(?:_[A-Z0-9]+)*?)_CLIENT_ID$")


# The provider variables, for README's configuration table (settings_doc.py): their
# names are open-ended (one family per provider), so they are documented here as families.
VARIABLES: tuple[tuple[str, str, str], ...] = (
    ("`AUTH_GOOGLE_CLIENT_ID`, `AUTH_GOOGLE_CLIENT_SECRET`",
     "Google sign-in (shown only when set); `AUTH_GOOGLE_DISCOVERY_URL` overrides Google's "
     "discovery document", ""),
    ("`AUTH_FACEBOOK_CLIENT_ID`, `AUTH_FACEBOOK_CLIENT_SECRET`",
     "Facebook sign-in; `AUTH_FACEBOOK_AUTHORIZE_URL`, `_TOKEN_URL`, `_API_URL` override the "
     "endpoints; `AUTH_FACEBOOK_TRUST_EMAIL=true` treats Facebook addresses as verified",
     "trust: `false`"),
    ("`AUTH_GITHUB_CLIENT_ID`, `AUTH_GITHUB_CLIENT_SECRET`",
     "GitHub sign-in; `AUTH_GITHUB_AUTHORIZE_URL`, `_TOKEN_URL`, `_API_URL` override the "
     "endpoints", ""),
    ("`AUTH_OIDC_<NAME>_DISCOVERY_URL`, `_CLIENT_ID`, `_CLIENT_SECRET`, `_LABEL`",
     "any OpenID Connect provider, served at `/login/<name lower-cased>`", "label: the name"),
)


@dataclass(frozen=True)
class ProviderSettings:
    """One configured provider. ``kind`` picks the code in ``providers/<kind>.py``."""

    name: str
    kind: str
    label: str
    client_id: str
    client_secret: str
    discovery_url: str | None = None
    authorize_url: str | None = None
    token_url: str | None = None
    api_url: str | None = None
    # Facebook does not say whether an address is verified; trust it only if told to.
    trust_email: bool = False

    @property
    def is_oidc(self) -> bool:
        return self.discovery_url is not None


def _url(environ: Mapping[str, str], variable: str, default: str | None = None) -> str | None:
    value = (environ.get(variable) or "").strip() or default
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(variable, f"{value!r} is not an http(s) URL")
    return value


def _credentials(environ: Mapping[str, str], prefix: str) -> tuple[str, str] | None:
    client_id = (environ.get(f"{prefix}_CLIENT_ID") or "").strip()
    secret = (environ.get(f"{prefix}_CLIENT_SECRET") or "").strip()
    if not client_id and not secret:
        return None
    if not client_id:
        raise ConfigError(f"{prefix}_CLIENT_ID", f"required when {prefix}_CLIENT_SECRET is set")
    if not secret:
        raise ConfigError(f"{prefix}_CLIENT_SECRET", f"required when {prefix}_CLIENT_ID is set")
    return client_id, secret


def _trust(environ: Mapping[str, str], variable: str) -> bool:
    raw = (environ.get(variable) or "false").strip().lower()
    if raw not in {"true", "false", "1", "0", "yes", "no"}:
        raise ConfigError(variable, "expected true or false")
    return raw in {"true", "1", "yes"}


def read_providers(environ: Mapping[str, str]) -> tuple[ProviderSettings, ...]:
    """Every configured provider, built-ins first; raises ConfigError naming a bad variable."""
    found: list[ProviderSettings] = []
    if creds := _credentials(environ, "AUTH_GOOGLE"):
        found.append(ProviderSettings(
            name="google", kind="google", label="Google", client_id=creds[0],
            client_secret=creds[1],
            discovery_url=_url(environ, "AUTH_GOOGLE_DISCOVERY_URL", GOOGLE_DISCOVERY)))
    if creds := _credentials(environ, "AUTH_FACEBOOK"):
        found.append(ProviderSettings(
            name="facebook", kind="facebook", label="Facebook", client_id=creds[0],
            client_secret=creds[1],
            authorize_url=_url(environ, "AUTH_FACEBOOK_AUTHORIZE_URL", FACEBOOK_DIALOG),
            token_url=_url(environ, "AUTH_FACEBOOK_TOKEN_URL",
                           FACEBOOK_GRAPH + "oauth/access_token"),
            api_url=_url(environ, "AUTH_FACEBOOK_API_URL", FACEBOOK_GRAPH),
            trust_email=_trust(environ, "AUTH_FACEBOOK_TRUST_EMAIL")))
    if creds := _credentials(environ, "AUTH_GITHUB"):
        found.append(ProviderSettings(
            name="github", kind="github", label="GitHub", client_id=creds[0],
            client_secret=creds[1],
            authorize_url=_url(environ, "AUTH_GITHUB_AUTHORIZE_URL", GITHUB_AUTHORIZE),
            token_url=_url(environ, "AUTH_GITHUB_TOKEN_URL", GITHUB_TOKEN_URL),
            api_url=_url(environ, "AUTH_GITHUB_API_URL", GITHUB_API)))
    for variable in sorted(environ):
        orphan = _OIDC_CLIENT_ID.match(variable)
        if orphan and not (environ.get(f"AUTH_OIDC_{orphan.group(1)}_DISCOVERY_URL") or "").strip():
            raise ConfigError(f"AUTH_OIDC_{orphan.group(1)}_DISCOVERY_URL",
                              f"required when {variable} is set")
        match = _OIDC_NAME.match(variable)
        if not match or not (environ.get(variable) or "").strip():
            continue
        upper = match.group(1)
        name = upper.lower()
        if name in BUILT_IN:
            raise ConfigError(variable, f"{name} is built in: use AUTH_{upper}_CLIENT_ID instead")
        prefix = f"AUTH_OIDC_{upper}"
        creds = _credentials(environ, prefix)
        if creds is None:
            raise ConfigError(f"{prefix}_CLIENT_ID", f"required when {variable} is set")
        label = (environ.get(f"{prefix}_LABEL") or "").strip() or upper.replace("_", " ").title()
        found.append(ProviderSettings(
            name=name.replace("_", "-"), kind="oidc", label=label[:40], client_id=creds[0],
            client_secret=creds[1], discovery_url=_url(environ, variable)))
    return tuple(found)
