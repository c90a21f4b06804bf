"""Every setting, its default, and how it is read from the ``AUTH_*`` environment.

Configuration is read once, in :func:`load`, when the app is created: a bad value
stops the process at start-up with one line naming the variable, instead of a
traceback halfway through somebody's sign-in.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from auth_service.branding import DEFAULT_ACCENT, parse_colour
from auth_service.errors import ConfigError
from auth_service.providers.settings import read_providers

__all__ = ["ConfigError", "load", "origin_of", "read_environment"]

PREFIX = "AUTH_"


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true or false")


def _int(raw: str) -> int:
    value = int(raw.strip())
    if value < 0:
        raise ValueError("expected a non-negative whole number")
    return value


def _str(raw: str) -> str:
    return raw.strip()


def _origins(raw: str) -> tuple[str, ...]:
    return tuple(origin_of(part.strip()) for part in raw.split(",") if part.strip())


def _networks(raw: str) -> tuple[str, ...]:
    return tuple(str(ipaddress.ip_network(part.strip(), strict=False))
                 for part in raw.split(",") if part.strip())


def _languages(raw: str) -> tuple[str, ...]:
    codes = tuple(dict.fromkeys(part.strip().lower() for part in raw.split(",") if part.strip()))
    unknown = [code for code in codes if code not in AVAILABLE_LANGUAGES]
    if unknown or not codes:
        raise ValueError(f"expected some of {', '.join(AVAILABLE_LANGUAGES)}; "
                         f"no catalogue for {', '.join(unknown) or 'none'}")
    return codes


def _words(raw: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(part.strip().lower() for part in raw.split(",") if part.strip()))


def _url(raw: str) -> str:
    value = raw.strip()
    if not (value.startswith(("https://", "http://")) and urlsplit(value).hostname):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


def _address(raw: str) -> str:
    value = raw.strip()
    local, at, domain = value.partition("@")
    if not (local and at and "." in domain) or any(c.isspace() for c in value):
        raise ValueError(f"{value!r} is not an email address")
    return value


def _folder(raw: str) -> str:
    value = raw.strip()
    if not Path(value).is_dir():
        raise ValueError(f"{value!r} is not a folder")
    return value


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return value

    return parse


@dataclass(frozen=True)
class Setting:
    """One ``AUTH_<name>`` variable: how to parse it and what it is when unset.

    ``doc`` (Markdown) and ``default_doc`` (how the default reads, when the value
    alone would not say it) are README's configuration table: settings_doc.py
    writes it from here, and a test checks the README holds what this says.
    """

    name: str
    parse: Callable[[str], Any]
    default: Any
    doc: str
    default_doc: str | None = None


# The languages the service has catalogues for (auth_service/translations/), English first.
AVAILABLE_LANGUAGES = ("en", "fr", "pt", "es", "de", "it", "nl", "pl", "sw", "ar")

# Loopback and private networks: where a reverse proxy in front of the service talks from.
PRIVATE_NETWORKS = ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                    "fc00::/7")

SETTINGS: tuple[Setting, ...] = (
    Setting("ENV", _choice("development", "production"), "development",
            "`development` or `production`. Production refuses a missing or short secret and "
            "console mail"),
    Setting("SECRET_KEY", _str, None,
            "signs tokens, CSRF and the cookie; at least 32 characters in production",
            "development: generated once into `instance/secret_key` (mode 600)"),
    Setting("DATABASE_URL", _str, None,
            "SQLAlchemy URL, e.g. `postgresql+psycopg://user:pass@host/db`",
            "`sqlite:///<instance>/auth.db`"),
    Setting("REDIS_URL", _str, None,
            "storage for rate limits, shared between processes (production needs it)",
            "unset: each process counts in its own memory"),
    Setting("BASE_URL", _str, "http://127.0.0.1:5000",
            "public URL of this service; every emailed link is built from it, never from "
            "the request's `Host`"),
    Setting("TRUSTED_ORIGINS", _origins, (),
            "comma list of origins `return_to` may point at (exact scheme, host and port)",
            "the base URL's origin"),
    Setting("COOKIE_DOMAIN", _str, None,
            "domain of the session cookie, e.g. `.example.com`, so the content site receives it",
            "unset: host-only"),
    Setting("SESSION_COOKIE", _str, "auth_session", "name of the session cookie"),
    Setting("SESSION_IDLE_TIMEOUT", _int, 14 * 24 * 3600,
            "seconds of inactivity after which a session ends"),
    Setting("SESSION_MAX_AGE", _int, 90 * 24 * 3600,
            "seconds after sign-in at which a session ends anyway"),
    Setting("SITE_NAME", _str, "Account service", "name shown on pages and in emails"),
    Setting("LOGO_URL", _url, None,
            "the site's logo (an https URL) shown beside its name on pages and in emails",
            "none: the name alone"),
    Setting("ACCENT_COLOR", parse_colour, DEFAULT_ACCENT,
            "the site's colour (`#rrggbb`) for buttons and links; checked for contrast at "
            "start-up and by `doctor` (dark mode gets a lighter shade of it)"),
    Setting("SUPPORT_EMAIL", _address, None,
            "where readers can write for help: shown at the foot of pages and emails",
            "none shown"),
    Setting("TERMS_URL", _url, None, "the site's terms of use, linked from every page and "
            "at registration", "none shown"),
    Setting("PRIVACY_URL", _url, None, "the site's privacy policy, linked from every page and "
            "at registration", "none shown"),
    Setting("TERMS_VERSION", _str, None,
            "the version of the terms of use in force (a date or a number): what a reader "
            "accepts by registering or signing up with a provider is recorded with it, shown "
            "on /account/data and in the data export", "none recorded"),
    Setting("PRIVACY_VERSION", _str, None,
            "the version of the privacy policy in force, recorded the same way",
            "none recorded"),
    Setting("TEMPLATE_FOLDER", _folder, None,
            "a folder of templates of the site's own: one there with the same path as one "
            "of `templates/` is used instead of it (see docs/branding.md)", "none"),
    Setting("LANGUAGES", _languages, AVAILABLE_LANGUAGES,
            "comma list of the languages pages and emails are offered in (codes of "
            "`auth_service/translations/`), in the order the language menu lists them"),
    Setting("DEFAULT_LANGUAGE", _str, "en",
            "the language when neither the reader nor their browser asks for one of those"),
    Setting("MAIL_BACKEND", _choice("smtp", "console"), None, "`smtp` or `console`",
            "`console` in development, `smtp` in production"),
    Setting("MAIL_SERVER", _str, "localhost", "SMTP server (Flask-Mail)"),
    Setting("MAIL_PORT", _int, 25, "SMTP port"),
    Setting("MAIL_USE_TLS", _bool, False, "STARTTLS"),
    Setting("MAIL_USE_SSL", _bool, False, "SMTP over TLS (not with `AUTH_MAIL_USE_TLS`)"),
    Setting("MAIL_USERNAME", _str, None, "SMTP user"),
    Setting("MAIL_PASSWORD", _str, None, "SMTP password"),
    Setting("MAIL_DEFAULT_SENDER", _str, "no-reply@localhost", "the `From:` address"),
    Setting("MAIL_TIMEOUT", _int, 10, "seconds before an SMTP attempt gives up"),
    Setting("MAIL_MAX_ATTEMPTS", _int, 8,
            "tries before an email is marked failed (backoff 1, 2, 4 … 60 min)"),
    Setting("MAIL_WORKER_INLINE", _bool, None,
            "`auth-service run` also sends the outbox from its own process",
            "on with console mail"),
    Setting("REQUIRE_CONFIRMED_EMAIL", _bool, True,
            "accounts cannot sign in before their address is confirmed"),
    Setting("REQUIRE_2FA_ROLES", _words, (),
            "comma list of roles (e.g. `admin`) whose accounts must turn on two-step sign-in "
            "(an authenticator app or a passkey) before anything else: their pages lead to "
            "`/account/two-factor` until they do", "none"),
    Setting("CONFIRM_MAX_AGE", _int, 48 * 3600, "seconds a confirmation link lives"),
    Setting("RESET_MAX_AGE", _int, 3600, "seconds a reset link lives"),
    Setting("ARGON2_TIME_COST", _int, 3,
            "argon2id iterations; hashes are upgraded at the next sign-in when the "
            "`AUTH_ARGON2_*` parameters change"),
    Setting("ARGON2_MEMORY_COST", _int, 65536, "argon2id memory in KiB"),
    Setting("ARGON2_PARALLELISM", _int, 4, "argon2id lanes"),
    Setting("RATELIMIT_ENABLED", _bool, True,
            "rate limits on sign-in, registration, confirmation, reset and the provider "
            "round trips"),
    Setting("EMAIL_CHECK_DELIVERABILITY", _bool, False,
            "DNS check of the address's domain at registration"),
    Setting("TRUSTED_PROXIES", _int, 0,
            "how many reverse proxies in front set `X-Forwarded-For`/`-Proto`"),
    Setting("TRUSTED_PROXY_NETWORKS", _networks, PRIVATE_NETWORKS,
            "where those proxies are: `X-Forwarded-*` is believed only from peers in these "
            "networks (comma list of CIDRs)", "loopback and private networks"),
    Setting("PROVIDER_TIMEOUT", _int, 10, "seconds before a call to a provider gives up"),
    Setting("PROVIDER_CONCURRENCY", _int, 0,
            "sign-ins that may wait on a provider at once on this host; the next one is told "
            "to try again (503). `0`: no cap",
            "`0`; under the production gunicorn settings: workers - 1"),
    Setting("SESSION_TOKEN_TTL", _int, 300,
            "seconds a signed session token from `/api/session/token` lives (1 to 300; never "
            "past the session's end)"),
    Setting("ID_TOKEN_TTL", _int, 3600,
            "seconds an ID token issued to an OpenID Connect client lives; a rotated-out key "
            "stays published this long"),
    Setting("ACCESS_TOKEN_TTL", _int, 3600,
            "seconds an OpenID Connect access token (for `/oauth/userinfo`) lives"),
    Setting("REFRESH_TOKEN_TTL", _int, 30 * 24 * 3600,
            "seconds an unused refresh token (scope `offline_access`) lives; each use "
            "rotates it"),
    Setting("BACKCHANNEL_TIMEOUT", _int, 5,
            "seconds before a back-channel logout delivery to a client gives up"),
    Setting("BACKCHANNEL_MAX_ATTEMPTS", _int, 8,
            "tries before a back-channel logout is marked failed (the mail's backoff)"),
    Setting("LOG_FORMAT", _choice("json", "text"), None,
            "`json`: one JSON object a line (time, level, request id, route, status, latency, "
            "user id, event), every field redacted; `text`: Python's plain lines",
            "`text` in development, `json` in production"),
    Setting("METRICS_TOKEN", _str, None,
            "a secret that reads `/metrics` from anywhere with `Authorization: Bearer <it>`",
            "unset: by network only"),
    Setting("METRICS_ALLOW", _networks, ("127.0.0.1/32",),
            "comma list of networks (CIDRs) that read `/metrics` without the token; the "
            "client's address is the proxy-aware one (`AUTH_TRUSTED_PROXIES`)",
            "`127.0.0.1` only"),
    Setting("INSTANCE_PATH", _str, None,
            "folder for the SQLite file, the development secret and the provider slots",
            "`instance/`"),
)


def origin_of(url: str) -> str:
    """Return ``scheme://host[:port]`` of an absolute http(s) URL, default ports dropped.

    Raises ValueError for anything that is not an absolute http(s) URL, so a typo
    in ``AUTH_TRUSTED_ORIGINS`` fails at start-up instead of silently trusting nothing.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) origin")
    host = parts.hostname.lower()
    port = parts.port
    if port is None or (parts.scheme, port) in {("http", 80), ("https", 443)}:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def read_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Parse every ``AUTH_*`` variable that is set; raises ConfigError naming the first bad one."""
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        variable = PREFIX + setting.name
        raw = environ.get(variable)
        if raw is None or raw.strip() == "":
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigError(variable, str(exc)) from None
    return values


def log_format(environ: Mapping[str, str]) -> str:
    """AUTH_LOG_FORMAT as load() resolves it, for what logs before the app exists (gunicorn).

    A bad value counts as ``text`` here: the app's start-up names the variable.
    """
    try:
        values = read_environment({k: v for k, v in environ.items()
                                   if k in {"AUTH_ENV", "AUTH_LOG_FORMAT"}})
    except ConfigError:
        return "text"
    default = "json" if values.get("ENV") == "production" else "text"
    return values.get("LOG_FORMAT") or default


def load(instance_path: str, overrides: Mapping[str, Any] | None = None,
         environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the Flask config: defaults, then the environment, then ``overrides`` (tests).

    Returns a dict with our own keys (``BASE_URL``…) and the keys the Flask
    extensions read (``SQLALCHEMY_DATABASE_URI``, ``MAIL_*``, ``RATELIMIT_*``).
    """
    environ = os.environ if environ is None else environ
    values = {s.name: s.default for s in SETTINGS}
    values.update(read_environment(environ))
    values.update(overrides or {})
    _check(values)
    # Provider variables have open-ended names (AUTH_OIDC_<NAME>_…); string overrides
    # given without the prefix count as if they were set in the environment.
    as_environ = {PREFIX + key: value for key, value in (overrides or {}).items()
                  if isinstance(value, str)}
    provider_environ = {**environ, **as_environ}
    values["PROVIDERS"] = read_providers(provider_environ)

    instance = Path(values["INSTANCE_PATH"] or instance_path)
    production = values["ENV"] == "production"
    if not values["SECRET_KEY"]:
        if production:
            raise ConfigError("AUTH_SECRET_KEY",
                              "required in production (e.g. `openssl rand -hex 32`)")
        values["SECRET_KEY"] = _dev_secret(instance)
    if not values["DATABASE_URL"]:
        instance.mkdir(parents=True, exist_ok=True)
        values["DATABASE_URL"] = f"sqlite:///{instance / 'auth.db'}"
    if values["MAIL_BACKEND"] is None:
        values["MAIL_BACKEND"] = "smtp" if production else "console"
    if values["LOG_FORMAT"] is None:  # as log_format() says
        values["LOG_FORMAT"] = "json" if production else "text"
    if values["MAIL_WORKER_INLINE"] is None:
        values["MAIL_WORKER_INLINE"] = values["MAIL_BACKEND"] == "console"
    base_origin = origin_of(values["BASE_URL"])
    values["BASE_URL"] = values["BASE_URL"].rstrip("/")
    values["TRUSTED_ORIGINS"] = tuple(dict.fromkeys((base_origin, *values["TRUSTED_ORIGINS"])))
    values["INSTANCE_PATH"] = str(instance)
    values["ACCENT_COLOR"] = parse_colour(str(values["ACCENT_COLOR"]))
    values.update(_extension_keys(values))
    return values


def _check(values: Mapping[str, Any]) -> None:
    """Checks that need more than one value, or that only matter in production."""
    try:
        origin_of(values["BASE_URL"])
    except ValueError as exc:
        raise ConfigError("AUTH_BASE_URL", str(exc)) from None
    try:  # overrides given as Python values (tests) are not parsed like the environment
        parse_colour(str(values["ACCENT_COLOR"]))
    except ValueError as exc:
        raise ConfigError("AUTH_ACCENT_COLOR", str(exc)) from None
    if values["DEFAULT_LANGUAGE"] not in values["LANGUAGES"]:
        raise ConfigError("AUTH_DEFAULT_LANGUAGE", "must be one of AUTH_LANGUAGES")
    if values["MAIL_USE_TLS"] and values["MAIL_USE_SSL"]:
        raise ConfigError("AUTH_MAIL_USE_SSL", "set either MAIL_USE_TLS or MAIL_USE_SSL, not both")
    if not 1 <= values["SESSION_TOKEN_TTL"] <= 300:
        raise ConfigError("AUTH_SESSION_TOKEN_TTL", "expected 1 to 300 seconds")
    for name in ("ID_TOKEN_TTL", "ACCESS_TOKEN_TTL", "REFRESH_TOKEN_TTL",
                 "BACKCHANNEL_TIMEOUT", "BACKCHANNEL_MAX_ATTEMPTS"):
        if values[name] < 1:
            raise ConfigError(f"AUTH_{name}", "expected at least 1")
    if values["ENV"] == "production":
        secret = values["SECRET_KEY"]
        if secret is not None and len(secret) < 32:
            raise ConfigError("AUTH_SECRET_KEY", "must be at least 32 characters in production")
        if values["MAIL_BACKEND"] == "console":
            raise ConfigError("AUTH_MAIL_BACKEND", "console mail is for development only")


def _dev_secret(instance: Path) -> str:
    """A random development secret, generated once so sessions survive a restart."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret


def _extension_keys(values: Mapping[str, Any]) -> dict[str, Any]:
    """Translate our settings into the names Flask and its extensions read."""
    https = values["BASE_URL"].startswith("https://")
    return {
        "SQLALCHEMY_DATABASE_URI": values["DATABASE_URL"],
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "MAIL_SERVER": values["MAIL_SERVER"],
        "MAIL_PORT": values["MAIL_PORT"],
        "MAIL_USE_TLS": values["MAIL_USE_TLS"],
        "MAIL_USE_SSL": values["MAIL_USE_SSL"],
        "MAIL_USERNAME": values["MAIL_USERNAME"],
        "MAIL_PASSWORD": values["MAIL_PASSWORD"],
        "MAIL_DEFAULT_SENDER": values["MAIL_DEFAULT_SENDER"],
        # Flask-Mail suppresses sending when TESTING is set; the outbox decides instead.
        "MAIL_SUPPRESS_SEND": False,
        "RATELIMIT_ENABLED": values["RATELIMIT_ENABLED"],
        "RATELIMIT_STORAGE_URI": values["REDIS_URL"] or "memory://",
        # Redis that does not answer costs a request at most a second, and then the
        # limits are counted in this process's memory until it answers again
        # (docs/operations.md says why neither open nor closed).
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}
        if values["REDIS_URL"] else {},
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        # Limit headers tell a guesser how many tries are left: only a 429 says when to
        # come back (Retry-After, views/errors.py).
        "RATELIMIT_HEADERS_ENABLED": False,
        # Bodies are small forms; anything bigger is refused before it is parsed.
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "MAX_FORM_MEMORY_SIZE": 64 * 1024,
        # Flask's own signed cookie carries the CSRF secret and short-lived page state (a
        # round trip's purpose, browser proofs, Authlib's state expiry); never a sign-in,
        # which lives in SESSION_COOKIE as an opaque token.
        "SESSION_COOKIE_NAME": "auth_csrf",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "PREFERRED_URL_SCHEME": "https" if https else "http",
        "WTF_CSRF_TIME_LIMIT": 3600 * 4,
    }
