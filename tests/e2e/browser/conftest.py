"""A real browser (Debian's Chromium, driven by Playwright) against the service on 127.0.0.1.

One Chromium for the whole run, one live service for the package: the test app
served by a werkzeug thread, sending its mail to the suite's SMTP capture; beside
it the demo content site (examples/content_site) and the local OpenID Connect
provider the social tests use. Each test gets fresh browser contexts (no cookies
shared between tests) and accounts of its own; a context reaches nothing but
127.0.0.1.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from tests.browser import require_browser

require_browser()

from flask import Flask  # noqa: E402
from playwright.sync_api import Browser, BrowserContext, Page, Route  # noqa: E402

from auth_service import clock, create_app, migrate  # noqa: E402
from auth_service.extensions import db  # noqa: E402
from auth_service.mail import worker  # noqa: E402
from auth_service.models import User  # noqa: E402
from auth_service.security.passwords import hash_password  # noqa: E402
from examples.content_site.app import create_app as create_site  # noqa: E402
from tests.conftest import (  # noqa: E402
    FAST_ARGON2,
    PASSWORD,
    TEST_DATABASE_URL,
    Mailbox,
    _migrated_app,
    free_port,
)
from tests.oidc_support import serve_on  # noqa: E402
from tests.social_support import OIDCProvider, serve, start_oidc_provider  # noqa: E402

SITE_NAME = "Red Africa Travel"
PROVIDER_LABEL = "Travel ID"
TERMS_VERSION = "2026-01"
PRIVACY_VERSION = "2026-02"


@dataclass
class Live:
    """The service, the content site and the provider, served on 127.0.0.1."""

    app: Flask
    base: str
    site: str
    provider: OIDCProvider
    mailbox: Mailbox

    def url(self, path: str) -> str:
        return self.base + path

    def deliver(self) -> None:
        """Send the outbox now (what `auth-service worker` does)."""
        with self.app.app_context():
            worker.drain()

    def link(self, address: str, path_prefix: str) -> str:
        """Send the outbox, then the ``path_prefix`` link of the last email to ``address``."""
        self.deliver()
        return self.mailbox.link(address, path_prefix)

    def make_user(self, email: str, *, name: str | None = None,
                  password: str | None = PASSWORD) -> int:
        """A confirmed account, made in the database (faster than the confirm email)."""
        with self.app.app_context():
            user = User(email=email, display_name=name,
                        password_hash=hash_password(password) if password else None,
                        email_confirmed_at=clock.now())
            db.session.add(user)
            db.session.commit()
            return user.id


@pytest.fixture(scope="package")
def browser_database(_template_db: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The package's own SQLite copy of the migrated database.

    The browser suite checks pages, not the database: it runs on SQLite even when
    the rest runs on PostgreSQL, whose one shared database each test empties.
    """
    folder = tmp_path_factory.mktemp("browser-db")
    if TEST_DATABASE_URL:
        url = f"sqlite:///{folder / 'auth.db'}"
        app = _migrated_app(url, folder)
        with app.app_context():
            migrate.upgrade()
            db.engine.dispose()
        return url
    shutil.copyfile(_template_db, folder / "auth.db")
    return f"sqlite:///{folder / 'auth.db'}"


@pytest.fixture(scope="package")
def live(browser_database: str, _smtp: Mailbox, tmp_path_factory: pytest.TempPathFactory,
         ) -> Iterator[Live]:
    """The service and the content site on 127.0.0.1, the provider beside them."""
    _smtp.start()
    port, site_port = free_port(), free_port()
    base, site = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{site_port}"
    with serve(start_oidc_provider()) as provider_base:
        provider = OIDCProvider(provider_base)
        app = create_app({
            "SECRET_KEY": "browser-secret-" + "x" * 32,
            "DATABASE_URL": browser_database,
            "INSTANCE_PATH": str(tmp_path_factory.mktemp("browser-instance")),
            "BASE_URL": base,
            "TRUSTED_ORIGINS": (site,),
            "MAIL_BACKEND": "smtp",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": _smtp.port,
            "MAIL_DEFAULT_SENDER": "accounts@auth.test",
            "MAIL_TIMEOUT": 5,
            "RATELIMIT_ENABLED": False,
            "SITE_NAME": SITE_NAME,
            "TERMS_URL": site + "/terms",
            "PRIVACY_URL": site + "/privacy",
            "SUPPORT_EMAIL": "help@redafrica.example",
            "TERMS_VERSION": TERMS_VERSION,
            "PRIVACY_VERSION": PRIVACY_VERSION,
            "OIDC_MOCK_DISCOVERY_URL": provider.discovery,
            "OIDC_MOCK_CLIENT_ID": "auth-service",
            "OIDC_MOCK_CLIENT_SECRET": "s3cret",
            "OIDC_MOCK_LABEL": PROVIDER_LABEL,
            **FAST_ARGON2,
        })
        content_site = create_site({"AUTH_SERVICE_URL": base, "AUTH_SERVICE_CACHE_TTL": 0})
        with serve_on(app, port), serve_on(content_site, site_port):
            yield Live(app=app, base=base, site=site, provider=provider, mailbox=_smtp)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()



def _local_only(context: BrowserContext) -> None:
    """Nothing leaves the machine: requests to anything but 127.0.0.1 fail at once."""
    def route(route: Route) -> None:
        if route.request.url.startswith(("http://127.0.0.1:", "data:")):
            route.continue_()
        else:
            route.abort()
    context.route("**/*", route)


@pytest.fixture
def new_page(chromium: Browser, live: Live) -> Iterator[Callable[..., Page]]:
    """``new_page()``: a page in a fresh browser context (another device); closed afterwards.

    The test fails if the browser refused anything for the Content-Security-Policy
    (an inline style or script, a form sent where form-action does not allow).
    """
    contexts: list[BrowserContext] = []
    refused: list[str] = []

    def make(width: int = 1280, height: int = 900, **options) -> Page:
        context = chromium.new_context(viewport={"width": width, "height": height}, **options)
        context.set_default_timeout(10_000)
        _local_only(context)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: refused.append(message.text)
                if "Content Security Policy" in message.text else None)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not refused, f"the browser enforced the CSP against the page: {refused}"


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A page in a fresh browser context."""
    return new_page()
