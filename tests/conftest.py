"""Fixtures: the app on a migrated database, a real SMTP server, a browser-like client, a clock.

The database is SQLite by default (a migrated template file copied per test).
With AUTH_TEST_DATABASE_URL set (PostgreSQL in CI), the same suite runs there:
migrated once, emptied after every test; with AUTH_TEST_REDIS_URL, rate limits
are counted in Redis.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from unittest import mock
from urllib.parse import urlencode, urlsplit

import pytest
import redis
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from auth_service import clock as clock_module
from auth_service import create_app, migrate
from auth_service.cli import cli as auth_cli
from auth_service.extensions import db as _db
from auth_service.mail import worker
from auth_service.models import Base, User
from auth_service.security.passwords import hash_password

FAST_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1}
PASSWORD = "correct horse battery staple"
TEST_DATABASE_URL = os.environ.get("AUTH_TEST_DATABASE_URL")
# With a Redis URL (CI), rate limits are counted in Redis, as in production.
TEST_REDIS_URL = os.environ.get("AUTH_TEST_REDIS_URL")


# --- SMTP ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Collect:
    """aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"


@dataclass
class Mailbox:
    """What the test SMTP server received, with helpers to read links out of it."""

    handler: _Collect
    port: int
    controller: Controller | None = None
    start_index: int = 0

    @property
    def messages(self) -> list[EmailMessage]:
        with self.handler.lock:
            return list(self.handler.messages[self.start_index:])

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["To"]]

    def last(self, address: str) -> EmailMessage:
        found = self.to(address)
        assert found, f"no email to {address}; got {[m['To'] for m in self.messages]}"
        return found[-1]

    @staticmethod
    def subject(message: EmailMessage) -> str:
        # Flask-Mail folds long subjects right after "Subject:"; unfold as a mail client does.
        return " ".join(str(message["Subject"]).split())

    def subjects(self, address: str) -> list[str]:
        return [self.subject(m) for m in self.to(address)]

    @staticmethod
    def text(message: EmailMessage) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def html(message: EmailMessage) -> str:
        return message.get_body(preferencelist=("html",)).get_content()

    def link(self, address: str, path_prefix: str) -> str:
        """The first link in the last email to ``address`` whose path starts with the prefix."""
        body = self.text(self.last(address))
        for url in re.findall(r"https?://\S+", body):
            if path_prefix in url:
                return url
        raise AssertionError(f"no {path_prefix} link in: {body}")

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def start(self) -> None:
        if self.controller is None:
            self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
            self.controller.start()


@pytest.fixture(scope="session")
def _smtp() -> Mailbox:
    box = Mailbox(handler=_Collect(), port=free_port())
    box.start()
    yield box
    box.stop()


@pytest.fixture
def mailbox(_smtp: Mailbox) -> Mailbox:
    """The SMTP server's inbox, empty at the start of the test, server running."""
    _smtp.start()
    _smtp.start_index = len(_smtp.handler.messages)
    yield _smtp
    _smtp.start()


# --- database ----------------------------------------------------------------


def _migrated_app(url: str, instance: Path):
    """An app for preparing the database, blind to AUTH_* variables a test may have set."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("AUTH_")}
    with mock.patch.dict(os.environ, clean, clear=True):
        return create_app({"DATABASE_URL": url, "SECRET_KEY": "x" * 32,
                           "INSTANCE_PATH": str(instance)})


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated once for the whole run: a SQLite file, or the PostgreSQL URL."""
    if TEST_DATABASE_URL:
        app = _migrated_app(TEST_DATABASE_URL, tmp_path_factory.mktemp("pg-instance"))
        with app.app_context():
            _db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
            _db.session.commit()
            Base.metadata.drop_all(_db.engine)
            migrate.upgrade()
            _db.engine.dispose()
        return TEST_DATABASE_URL
    path = tmp_path_factory.mktemp("template") / "auth.db"
    app = _migrated_app(f"sqlite:///{path}", path.parent)
    with app.app_context():
        migrate.upgrade()
        _db.engine.dispose()
    return str(path)


def _reset_shared_database(url: str, instance: Path) -> None:
    """Empty every table; re-migrate if a test downgraded the schema."""
    app = _migrated_app(url, instance)
    with app.app_context():
        if migrate.current_revision() != migrate.head_revision():
            migrate.upgrade()
        names = ", ".join(table.name for table in Base.metadata.sorted_tables)
        _db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        _db.session.commit()
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def database_url(_template_db: str, tmp_path: Path) -> str:
    if TEST_DATABASE_URL:
        yield _template_db
        _reset_shared_database(_template_db, tmp_path / "reset-instance")
        return
    copy = tmp_path / "auth.db"
    shutil.copyfile(_template_db, copy)
    yield f"sqlite:///{copy}"


# --- the app -------------------------------------------------------------------


@pytest.fixture
def settings(request: pytest.FixtureRequest) -> dict:
    """Overrides from ``@pytest.mark.settings(...)`` on the test (or its module)."""
    merged: dict = {}
    for marker in reversed(list(request.node.iter_markers("settings"))):
        merged.update(marker.kwargs)
    return merged


@pytest.fixture
def app(request: pytest.FixtureRequest, database_url: str, mailbox: Mailbox, tmp_path: Path,
        settings: dict):
    config = {
        "SECRET_KEY": "test-secret-" + "x" * 32,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "BASE_URL": "http://auth.test",
        "TRUSTED_ORIGINS": ("https://trusted.example", "http://localhost:5001"),
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": mailbox.port,
        "MAIL_DEFAULT_SENDER": "accounts@auth.test",
        "MAIL_TIMEOUT": 5,
        "RATELIMIT_ENABLED": False,
        "SITE_NAME": "Red Africa Travel",
    }
    if TEST_REDIS_URL:
        # Each test starts with empty counters, as with in-process storage. (Flask-Limiter
        # keeps the first app's key prefix for good, so a prefix per test would not do.)
        redis.Redis.from_url(TEST_REDIS_URL).flushdb()
        config.update(REDIS_URL=TEST_REDIS_URL)
    if request.node.get_closest_marker("real_hasher") is None:
        config.update(FAST_ARGON2)
    config.update(settings)
    application = create_app(config)
    yield application
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    """Click runner bound to the test app: ``runner.invoke(["worker", "--once"])``."""
    base = app.test_cli_runner()

    class Runner:
        def invoke(self, args: list[str], **kwargs):
            # Flask's CLI sets FLASK_RUN_FROM_CLI for good, which would turn app.run() into a
            # no-op in every process a later test starts (the demo site): put it back.
            with mock.patch.dict(os.environ):
                return base.invoke(auth_cli, args, **kwargs)

    return Runner()


# --- time ----------------------------------------------------------------------


class FrozenClock:
    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    """Freeze the service's clock; ``clock.advance(hours=2)`` moves it."""
    frozen = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    monkeypatch.setattr(clock_module, "now", frozen.now)
    return frozen


# --- acting like a reader ------------------------------------------------------------

def tampered_tokens(token: str) -> list[str]:
    """Broken forms of a signed link token: one signature character changed, cut short,
    without its signature, its payload alone, and something that was never a token."""
    payload, timestamp, signature = token.split(".")[-3:]
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "z"
    head = token[:len(token) - len(signature)]
    return [
        f"{head}{signature[:middle]}{flipped}{signature[middle + 1:]}",
        token[:-6],
        token[:-8],
        f"{payload}.{timestamp}",
        payload,
        "not-a-token",
    ]


CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass
class Browser:
    """The test client used like a person would: open a page, fill its form, submit.

    ``last_page`` is the last response's text with HTML entities decoded, as a reader sees it.
    """

    client: object
    last_page: str = field(default="")

    def get(self, url: str, **kwargs):
        response = self.client.get(url, **kwargs)
        self.last_page = html.unescape(response.get_data(as_text=True))
        return response

    def csrf(self, url: str) -> str:
        page = self.get(url)
        if page.status_code in {302, 303}:
            # e.g. /login for a reader already signed in; every form shares one CSRF secret.
            page = self.get("/password/forgot")
        match = CSRF.search(page.get_data(as_text=True))
        assert match, f"no CSRF token on {url} ({page.status_code})"
        return match.group(1)

    def submit(self, url: str, data: dict, *, form_url: str | None = None, **kwargs):
        """GET ``form_url`` (default ``url``) for its CSRF token, then POST ``data`` to ``url``."""
        token = self.csrf(form_url or url)
        response = self.client.post(url, data={"csrf_token": token, **data}, **kwargs)
        self.last_page = html.unescape(response.get_data(as_text=True))
        return response

    def login(self, email: str, password: str = PASSWORD, **query):
        url = "/login" + ("?" + urlencode(query) if query else "")
        return self.submit(url, {"email": email, "password": password,
                                 "return_to": query.get("return_to", "")}, form_url=url)


def register(browser: Browser, email: str = "new@example.com", password: str = PASSWORD,
             **extra: str):
    """Fill in and send the registration form."""
    return browser.submit("/register", {"email": email, "password": password, **extra})


def forgot(browser: Browser, email: str, **kwargs):
    """Fill in and send the "forgot password" form."""
    return browser.submit("/password/forgot", {"email": email}, **kwargs)


def local_path(url: str) -> str:
    """The path and query of a URL on the service (the test client ignores the host)."""
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def mail_path(mailbox: Mailbox, address: str, prefix: str) -> str:
    """The first ``prefix`` link in the last email to ``address``, as a local path."""
    return local_path(mailbox.link(address, prefix))


@pytest.fixture
def browser(client) -> Browser:
    return Browser(client)


@pytest.fixture
def deliver(app, mailbox):
    """Run the outbox worker once (as ``auth-service worker --once`` does); returns its report."""

    def run() -> worker.Report:
        with app.app_context():
            return worker.drain()

    return run


@pytest.fixture
def make_user(app):
    """Create an account in the database: ``make_user("a@example.com", confirmed=True)``."""

    def make(email: str = "reader@example.com", password: str | None = PASSWORD, *,
             confirmed: bool = True, disabled: bool = False, name: str | None = None) -> int:
        with app.app_context():
            user = User(
                email=email,
                password_hash=hash_password(password) if password else None,
                display_name=name,
                email_confirmed_at=clock_module.now() if confirmed else None,
                disabled_at=clock_module.now() if disabled else None,
            )
            _db.session.add(user)
            _db.session.commit()
            return user.id

    return make


READER = "reader@example.com"
READER_NAME = "Ann Reader"


@pytest.fixture
def reader(make_user) -> int:
    """A confirmed account, READER with PASSWORD and the name READER_NAME; returns its id."""
    return make_user(READER, name=READER_NAME)


@pytest.fixture
def db_session(app, database_url: str):
    """A session of our own on the test database, outside the app, to check what was written.

    It is not the app's session and holds no app context (which would leak ``g``
    between requests); call ``expire_all()`` before re-reading a row a request changed.
    """
    engine = create_engine(database_url)
    with Session(engine) as session:
        yield session
    engine.dispose()
