"""``auth-service doctor``: check the configuration for the mistakes operators actually make.

Each check prints OK, WARN or FAIL with what to do about it; any FAIL exits 1.
Checks that reach out (SMTP, providers, the public URL) use short timeouts.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import smtplib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import click
import requests
from flask import Flask, current_app
from flask.cli import ScriptInfo
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from auth_service import branding, clock, links, migrate
from auth_service.cli import listening
from auth_service.config import SETTINGS
from auth_service.errors import ConfigError
from auth_service.extensions import db, limiter
from auth_service.providers import registry

TIMEOUT = 5
WEAK_SECRETS = {"dev", "secret", "changeme", "change-me", "development", "test", "password"}


@dataclass(frozen=True)
class Finding:
    level: str  # OK, WARN or FAIL
    check: str
    message: str


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _covers(domain: str, host: str) -> bool:
    domain = domain.lstrip(".").lower()
    return host == domain or host.endswith("." + domain)


def check_cookie_domain(config: dict) -> Iterator[Finding]:
    base_host = _host(config["BASE_URL"])
    domain = config["COOKIE_DOMAIN"]
    others = [o for o in config["TRUSTED_ORIGINS"] if _host(o) != base_host]
    if domain:
        if not _covers(domain, base_host):
            yield Finding("FAIL", "cookie domain",
                          f"AUTH_COOKIE_DOMAIN={domain} does not cover the service's own host "
                          f"{base_host}: browsers will refuse the cookie. Use a parent domain "
                          "of both.")
            return
        missing = [o for o in others if not _covers(domain, _host(o))]
        if missing:
            yield Finding("WARN", "cookie domain",
                          f"AUTH_COOKIE_DOMAIN={domain} does not cover {', '.join(missing)}: "
                          "those sites will not receive the session cookie.")
        else:
            yield Finding("OK", "cookie domain",
                          f"{domain} covers {base_host} and every trusted origin.")
    elif others:
        yield Finding("WARN", "cookie domain",
                      "AUTH_COOKIE_DOMAIN is unset, so the cookie is host-only and "
                      f"{', '.join(others)} will not receive it (unless it's the same host). "
                      "Set AUTH_COOKIE_DOMAIN to a parent domain, e.g. .example.com.")
    else:
        yield Finding("OK", "cookie domain", f"host-only cookie for {base_host}.")


def check_transport(config: dict) -> Iterator[Finding]:
    https = config["BASE_URL"].startswith("https://")
    production = config["ENV"] == "production"
    if https:
        yield Finding("OK", "secure cookies", "AUTH_BASE_URL is https: cookies are Secure.")
    elif production:
        yield Finding("FAIL", "secure cookies",
                      "AUTH_BASE_URL is plain http in production: cookies are not Secure and "
                      "can be read on the network. Serve the service over https.")
    else:
        yield Finding("WARN", "secure cookies",
                      "AUTH_BASE_URL is plain http: fine for development only.")
    if https and production and not config["TRUSTED_PROXIES"]:
        yield Finding("WARN", "proxy",
                      "AUTH_TRUSTED_PROXIES is 0: behind a TLS-terminating proxy, set it to the "
                      "number of proxies so client IPs and the scheme are read correctly.")


def check_public_url(config: dict) -> Iterator[Finding]:
    """Through the public URL, requests arrive with its scheme (the proxy forwards it)."""
    try:
        seen = requests.get(config["BASE_URL"] + "/healthz", timeout=TIMEOUT)
    except requests.RequestException:
        yield Finding("WARN", "public URL",
                      f"could not reach {config['BASE_URL']} from here to compare schemes.")
        return
    scheme = seen.headers.get("X-Request-Scheme")
    expected = urlsplit(config["BASE_URL"]).scheme
    if scheme and scheme != expected:
        yield Finding("FAIL", "public URL",
                      f"requests through {config['BASE_URL']} arrive as {scheme}: the proxy "
                      "does not forward the scheme. Send X-Forwarded-Proto and set "
                      "AUTH_TRUSTED_PROXIES.")
    else:
        yield Finding("OK", "public URL", f"{config['BASE_URL']} answers, scheme {expected}.")


def check_mail(config: dict) -> Iterator[Finding]:
    if config["MAIL_BACKEND"] == "console":
        yield Finding("WARN" if config["ENV"] == "production" else "OK", "mail",
                      "console mail: links are printed, nothing is sent.")
        return
    server = f"{config['MAIL_SERVER']}:{config['MAIL_PORT']}"
    factory = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    try:
        with factory(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=TIMEOUT) as smtp:
            smtp.ehlo()
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
                smtp.ehlo()
            if config["MAIL_USERNAME"] and config["MAIL_PASSWORD"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            code, answer = smtp.mail(config["MAIL_DEFAULT_SENDER"])
            smtp.rset()
    except (OSError, smtplib.SMTPException) as exc:
        yield Finding("FAIL", "mail", f"SMTP {server} is not usable: {type(exc).__name__}: "
                      f"{exc}. Check AUTH_MAIL_SERVER, _PORT, _USE_TLS/_SSL and credentials.")
        return
    if code != 250:
        yield Finding("FAIL", "mail", f"SMTP {server} refused the sender "
                      f"{config['MAIL_DEFAULT_SENDER']}: {code} {answer.decode(errors='replace')}."
                      " Set AUTH_MAIL_DEFAULT_SENDER to an address the server may send from.")
    else:
        yield Finding("OK", "mail", f"SMTP {server} accepts {config['MAIL_DEFAULT_SENDER']}.")


def _provider_problem(url: str, discovery: bool) -> str | None:
    """What is wrong with a provider's URL as seen from here, in words; None if nothing."""
    try:
        response = requests.get(url, timeout=TIMEOUT, allow_redirects=False)
    except requests.Timeout:
        return f"{url} did not answer within {TIMEOUT} s"
    except requests.ConnectionError:
        return f"{url} cannot be reached from here (no route, refused, or no DNS)"
    except requests.RequestException as exc:
        return f"{url} failed: {type(exc).__name__}"
    if response.status_code >= 500:
        return f"{url} answers {response.status_code}"
    if discovery:
        try:
            document = response.json()
        except ValueError:
            document = None
        if not response.ok or not isinstance(document, dict) or (
                "authorization_endpoint" not in document):
            return (f"{url} answers {response.status_code} but is not an OpenID Connect "
                    "discovery document")
    return None


def check_providers(config: dict) -> Iterator[Finding]:
    for provider in registry.all_providers():
        settings = provider.settings
        redirect_uri = links.provider_callback(settings.name)
        url = settings.discovery_url or settings.authorize_url or ""
        problem = _provider_problem(url, discovery=bool(settings.discovery_url))
        if problem is None:
            yield Finding("OK", f"provider {settings.name}",
                          f"{url} answers. Register this redirect URI exactly: {redirect_uri}")
        else:
            yield Finding("FAIL", f"provider {settings.name}",
                          f"{problem}. Check its URL and this host's network. The redirect "
                          f"URI to register is {redirect_uri}")


def check_database(config: dict) -> Iterator[Finding]:
    try:
        db.session.execute(text("SELECT 1"))
        current, head = migrate.current_revision(), migrate.head_revision()
    except SQLAlchemyError as exc:
        yield Finding("FAIL", "database", f"cannot connect ({type(exc).__name__}). "
                      "Check AUTH_DATABASE_URL.")
        return
    if current != head:
        yield Finding("FAIL", "migrations", f"database at {current or 'base'}, code at {head}: "
                      "run `auth-service db upgrade`.")
    else:
        yield Finding("OK", "migrations", f"database at head ({head}).")
    if config["ENV"] == "production" and config["DATABASE_URL"].startswith("sqlite"):
        yield Finding("WARN", "database",
                      "SQLite in production: fine for one machine; use PostgreSQL to run "
                      "several processes or hosts.")


def check_secret(config: dict) -> Iterator[Finding]:
    secret = config["SECRET_KEY"]
    dev_file = Path(config["INSTANCE_PATH"]) / "secret_key"
    is_dev_secret = dev_file.exists() and dev_file.read_text().strip() == secret
    if config["ENV"] == "production":
        if is_dev_secret or secret.lower() in WEAK_SECRETS or len(set(secret)) < 10:
            yield Finding("FAIL", "secret key",
                          "AUTH_SECRET_KEY is a development or guessable value. Generate one: "
                          "openssl rand -hex 32")
        else:
            yield Finding("OK", "secret key", "set, and not a development default.")
    else:
        yield Finding("OK" if is_dev_secret else "WARN", "secret key",
                      "development secret from the instance folder." if is_dev_secret else
                      "set by AUTH_SECRET_KEY in development.")


def check_rate_limits(config: dict) -> Iterator[Finding]:
    """Where limits are counted: per process unless in Redis, which production needs."""
    production = config["ENV"] == "production"
    if not config["RATELIMIT_ENABLED"]:
        yield Finding("FAIL" if production else "WARN", "rate limits",
                      "AUTH_RATELIMIT_ENABLED is off: nothing slows down password guessing.")
    elif config["REDIS_URL"]:
        yield Finding("OK", "rate limits", "counted in Redis (AUTH_REDIS_URL), shared by every "
                      "process.")
    elif production:
        yield Finding("FAIL", "rate limits",
                      "no AUTH_REDIS_URL: limits are counted in each process's memory, so "
                      "every gunicorn worker (and every host) gives a client the whole "
                      "allowance again. Set AUTH_REDIS_URL.")
    else:
        yield Finding("OK", "rate limits", "counted in this process (development).")


def check_redis(config: dict) -> Iterator[Finding]:
    """Redis, where the limits are counted, answers."""
    if not (config["REDIS_URL"] and config["RATELIMIT_ENABLED"]):
        return
    if limiter.storage.check():
        yield Finding("OK", "redis", "AUTH_REDIS_URL answers.")
    else:
        yield Finding("FAIL", "redis", "AUTH_REDIS_URL does not answer: check the URL and that "
                      "Redis runs (meanwhile each process counts limits in its own memory).")


def check_proxies(config: dict) -> Iterator[Finding]:
    """Behind a proxy, X-Forwarded-For must only be believed from it (security/proxies.py)."""
    if not config["TRUSTED_PROXIES"]:
        return
    public = [n for n in config["TRUSTED_PROXY_NETWORKS"] if ipaddress.ip_network(n).is_global]
    if public:
        yield Finding("WARN", "proxy", f"AUTH_TRUSTED_PROXY_NETWORKS includes public networks "
                      f"({', '.join(public)}): any host there can choose the client address "
                      "that rate limits count and the audit log records.")
    listeners = listening.service_listeners()
    addresses = listening.host_addresses()
    open_ = [str(item) for item in listeners if listening.exposed(item, addresses)]
    if open_:
        yield Finding("WARN", "proxy",
                      f"the service listens on {', '.join(open_)}, which can be reached "
                      "without the proxy. X-Forwarded-For is only believed from "
                      "AUTH_TRUSTED_PROXY_NETWORKS, but bind to 127.0.0.1 or a private "
                      "address (gunicorn --bind) so that nothing goes around the proxy.")
    elif listeners:
        yield Finding("OK", "proxy", "the service listens on "
                      f"{', '.join(str(item) for item in listeners)} only, out of reach "
                      "but through the proxy.")
    else:
        yield Finding("WARN", "proxy", "no running auth_service process found on this host to "
                      "check: make sure it listens on 127.0.0.1 or a private address only.")


# When each Graph API version came out (Meta's changelog). Meta keeps a version working
# for at least two years after the next one comes out; past two years, plan the move.
GRAPH_RELEASES = {
    (17, 0): date(2023, 5, 23), (18, 0): date(2023, 9, 12), (19, 0): date(2024, 1, 23),
    (20, 0): date(2024, 5, 21), (21, 0): date(2024, 10, 2), (22, 0): date(2025, 1, 21),
    (23, 0): date(2025, 5, 29),
}
_GRAPH_VERSION = re.compile(r"/v(\d+)\.(\d+)/")


def check_facebook_version(config: dict) -> Iterator[Finding]:
    """The Graph API version Facebook sign-in calls is less than two years old."""
    facebook = next((p.settings for p in registry.all_providers()
                     if p.settings.name == "facebook"), None)
    if facebook is None:
        return
    found = _GRAPH_VERSION.search(facebook.api_url or facebook.authorize_url or "")
    if found is None:
        return
    version = (int(found.group(1)), int(found.group(2)))
    released = GRAPH_RELEASES.get(version)
    if released is None and version < min(GRAPH_RELEASES):
        released = date(2000, 1, 1)  # older than every version we know of
    label = f"v{version[0]}.{version[1]}"
    if released is not None and (clock.now().date() - released).days > 2 * 365:
        yield Finding("WARN", "facebook", f"the Graph API {label} is more than two years old: "
                      "Meta retires versions about two years on. Remove AUTH_FACEBOOK_API_URL "
                      "and _AUTHORIZE_URL, _TOKEN_URL to use the service's default, or set a "
                      "newer version.")
    else:
        yield Finding("OK", "facebook", f"Graph API {label}.")


def check_branding(config: dict) -> Iterator[Finding]:
    """The accent colour must read as link text on the white page (WCAG AA)."""
    found = branding.problems(config)
    if found:
        for problem in found:
            yield Finding("WARN", "branding", problem + ".")
    else:
        yield Finding("OK", "branding", f"accent {config['ACCENT_COLOR']} reads on light and "
                      "dark pages.")


# Checks of this host's configuration, database and processes.
CHECKS: tuple[Callable[[dict], Iterator[Finding]], ...] = (
    check_secret, check_database, check_cookie_domain, check_transport, check_proxies,
    check_rate_limits, check_branding, check_facebook_version,
)
# Checks that reach other hosts; --offline skips them.
NETWORK_CHECKS: tuple[Callable[[dict], Iterator[Finding]], ...] = (
    check_public_url, check_redis, check_mail, check_providers,
)
COLOURS = {"OK": "green", "WARN": "yellow", "FAIL": "red", "SKIP": "blue"}


def run_checks(*, offline: bool = False, skip: frozenset[str] = frozenset()) -> list[Finding]:
    """Every check's findings; ``skip`` names checks already failed as configuration errors."""
    config = dict(current_app.config)
    found = [finding for check in CHECKS for finding in check(config)
             if finding.check not in skip]
    if offline:
        return [*found, Finding("SKIP", "network", "--offline: the public URL, Redis, SMTP and "
                                "the providers were not tried.")]
    return found + [finding for check in NETWORK_CHECKS for finding in check(config)]


def load_despite_problems(info: ScriptInfo) -> tuple[list[ConfigError], Flask | None]:
    """The app, and every configuration error on the way to it (not only the first).

    Each bad variable is set aside (its default used instead) and the app made
    again, so one run lists them all; a missing or short secret is stood in for by
    a random one. None when an error cannot be set aside.
    """
    problems: list[ConfigError] = []
    saved = dict(os.environ)
    try:
        for _ in range(len(SETTINGS) + 1):
            try:
                return problems, info.load_app()
            except ConfigError as exc:
                problems.append(exc)
                if exc.variable in os.environ and exc.variable != "AUTH_SECRET_KEY":
                    del os.environ[exc.variable]
                elif exc.variable == "AUTH_SECRET_KEY":
                    os.environ[exc.variable] = secrets.token_hex(32)
                else:
                    break
        return problems, None
    finally:
        os.environ.clear()
        os.environ.update(saved)


@click.command("doctor")
@click.option("--offline", is_flag=True,
              help="Skip the checks that reach other hosts (the public URL, Redis, SMTP, the "
                   "providers): on a host without its network yet, or in CI.")
@click.pass_context
def doctor(ctx: click.Context, offline: bool) -> None:
    """Check the configuration: every setting, secret, migrations, cookie domain, https, proxy,
    rate limits, Redis, SMTP, providers.

    Prints OK, WARN or FAIL for each check with how to fix it (SKIP for the network
    checks with --offline); exits 1 on any FAIL. Configuration errors are all
    listed, then the other checks run on the rest of the settings.

    Example: AUTH_ENV=production auth-service doctor
    """
    problems, app = load_despite_problems(ctx.ensure_object(ScriptInfo))
    findings = [Finding("FAIL", "configuration", str(problem)) for problem in problems]
    if app is not None:
        skip = frozenset({"secret key"} if any(
            p.variable == "AUTH_SECRET_KEY" for p in problems) else ())
        with app.app_context():
            findings += run_checks(offline=offline, skip=skip)
    for finding in findings:
        label = click.style(f"{finding.level:<4}", fg=COLOURS[finding.level], bold=True)
        click.echo(f"{label} {finding.check}: {finding.message}")
    failed = sum(f.level == "FAIL" for f in findings)
    if failed:
        raise click.ClickException(f"{failed} check{'s' if failed != 1 else ''} failed")
