"""auth_service.client.SessionClient against a live service process, as a content site uses it.

The service runs as `auth-service run` on a free port of 127.0.0.1 (a real HTTP
server, real keep-alive connections); readers sign in over HTTP. A tiny stdlib
HTTP server stands in for the service only where the real one cannot misbehave
on demand (5xx, unreadable answers, hanging) or to count connections.

``live_service`` and ``Browser`` live in tests/live.py.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import Flask, g, render_template_string
from werkzeug.test import EnvironBuilder

from auth_service.client import (
    AuthMiddleware,
    AuthSession,
    Reader,
    SessionClient,
    cookie_value,
    login_url,
    logout_url,
    reader_required,
)
from tests.conftest import free_port
from tests.live import (
    EMAIL,
    NAME,
    Browser,
    LiveService,
    api_session,
    live_service,
    wait_until,
)

# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    with live_service(tmp_path_factory.mktemp("live-service")) as running:
        yield running


@pytest.fixture
def reader(service: LiveService) -> tuple[Browser, str]:
    """A browser freshly signed in to the live service, and its session token."""
    browser = Browser()
    browser.sign_in(service)
    token = browser.cookie()
    assert token
    return browser, token


@pytest.fixture
def make_client() -> Iterator[Callable[..., SessionClient]]:
    """Build SessionClients; their connections are closed after the test."""
    made: list[SessionClient] = []

    def make(base_url: str, **options: object) -> SessionClient:
        client = SessionClient(base_url, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def sign_out(service: LiveService, browser: Browser) -> None:
    """The reader presses "Sign out" on the service: their session is revoked."""
    page = browser.submit(service.base + "/logout", {})
    assert page.status == 303


# --- the live service ------------------------------------------------------------------------


def test_a_valid_token_gives_the_reader(service, reader, make_client):
    _, token = reader
    found = make_client(service.base).check(token)

    status, body = api_session(service, token)
    assert status == 200
    assert isinstance(found, Reader)
    assert found.id == str(service.users[EMAIL]) == body["user"]["id"]
    assert found.email == EMAIL
    assert found.email_verified is True
    assert found.name == NAME
    assert found.avatar_url is None
    assert found.roles == ("admin",)
    assert found.session_id == body["session"]["id"] and len(found.session_id) == 32
    assert found.expires_at == datetime.fromisoformat(body["session"]["expires_at"])
    assert found.expires_at > datetime.now(UTC) + timedelta(days=1)
    assert found.initial == "A"


def test_tokens_the_service_did_not_issue_are_nobody(service, reader, make_client):
    _, token = reader
    client = make_client(service.base, cache_ttl=0)
    refused = [
        None, "", "garbage", token[:-1], token[:20], token + "A", secrets.token_urlsafe(32),
        token.swapcase(), "A" * 5000,
        # Crafted cookies must not smuggle the valid token or a header into the request.
        f"forged; auth_session={token}", f"forged,auth_session={token}",
        f"forged\r\nAuthorization: Bearer {token}", f"{token} ", f'"{token}"',
    ]
    for candidate in refused:
        assert client.check(candidate) is None, candidate
    assert client.check(token) is not None  # the real one still works on the same client


def test_answers_are_cached_by_a_hash_of_the_token(service, reader, make_client):
    _, token = reader
    forged = secrets.token_urlsafe(32)
    client = make_client(service.base, cache_ttl=30)
    before = service.session_checks()

    first = client.check(token)
    assert first is not None
    assert client.check(forged) is None
    wait_until(lambda: service.session_checks() == before + 2, what="two checks logged")
    for _ in range(5):
        assert client.check(token) == first
        assert client.check(forged) is None  # a 401 is cached like a 200
    time.sleep(0.3)  # a request made by mistake would be logged by now
    assert service.session_checks() == before + 2

    # Neither the keys nor anything else the client keeps holds a raw token.
    state = repr(vars(client))
    assert token not in state and forged not in state


def test_the_cache_is_bounded(service, reader, make_client):
    _, token = reader
    client = make_client(service.base, cache_ttl=30, cache_size=2)
    others = [secrets.token_urlsafe(32) for _ in range(2)]
    before = service.session_checks()

    client.check(token)
    for other in others:  # two newer answers push the reader's out
        client.check(other)
    assert client.check(others[-1]) is None  # still cached
    assert client.check(token) is not None  # asked again
    wait_until(lambda: service.session_checks() == before + 4, what="four checks logged")
    time.sleep(0.3)
    assert service.session_checks() == before + 4


def test_a_revoked_session_is_refused_once_the_ttl_has_passed(service, reader, make_client):
    browser, token = reader
    client = make_client(service.base, cache_ttl=1)
    started = time.monotonic()
    cached = client.check(token)
    answered = time.monotonic()
    assert cached is not None

    sign_out(service, browser)
    assert api_session(service, token)[0] == 401  # the service knows at once

    if time.monotonic() < started + 0.9:  # the answer is cached until started + 1 at least
        assert client.check(token) == cached  # the documented lag: still the reader
    time.sleep(max(0.0, answered + 1.05 - time.monotonic()))
    assert client.check(token) is None


def test_without_a_cache_revocation_is_seen_on_the_next_call(service, reader, make_client):
    browser, token = reader
    client = make_client(service.base, cache_ttl=0)
    assert client.check(token) is not None

    sign_out(service, browser)
    assert client.check(token) is None


def test_an_unreachable_service_is_nobody_and_logs_no_token(reader, make_client, caplog):
    _, token = reader
    client = make_client(f"http://127.0.0.1:{free_port()}")

    with caplog.at_level(logging.WARNING, logger="auth_service.client"):
        assert client.check(token) is None
    assert "unreachable" in caplog.text
    assert token not in caplog.text


def test_a_service_that_goes_down_and_comes_back(tmp_path, make_client, caplog):
    """The kept-alive connection dies with the service; the client reconnects when it is back."""
    port = free_port()
    with live_service(tmp_path / "service", port=port) as running:
        browser = Browser()
        browser.sign_in(running)
        token = browser.cookie()
        client = make_client(running.base, cache_ttl=0)
        assert client.check(token) is not None

    with caplog.at_level(logging.WARNING, logger="auth_service.client"):
        assert client.check(token) is None  # fail closed
    assert token not in caplog.text

    with live_service(tmp_path / "service", port=port):
        assert client.check(token) is not None  # same client, new connection, same session


# --- a stand-in service for what the real one won't do on demand -----------------------------


class FakeService:
    """A stdlib HTTP/1.1 server answering /api/session with whatever the test sets."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b"{}"
        self.close_after_each = False
        self.drop_after_each = False  # close without saying so, like a restart or idle timeout
        self.hang = threading.Event()  # set: accept the request and never answer
        self.requests = 0
        self.connections = 0
        self.lock = threading.Lock()
        self.cookies: list[str | None] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle(self) -> None:
                with fake.lock:
                    fake.connections += 1
                super().handle()

            def do_GET(self) -> None:
                with fake.lock:
                    fake.requests += 1
                    fake.cookies.append(self.headers.get("Cookie"))
                if fake.hang.is_set():
                    time.sleep(2)
                    return
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(fake.body)))
                if fake.close_after_each:
                    self.send_header("Connection", "close")
                if fake.close_after_each or fake.drop_after_each:
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(fake.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer_reader(self) -> None:
        self.status = 200
        self.body = json.dumps({
            "user": {"id": "7", "email": "zora@example.com", "email_verified": False,
                     "name": "Zora", "avatar_url": "https://cdn.example/zora.png",
                     "roles": []},
            "session": {"id": "a" * 32, "expires_at": "2099-01-01T00:00:00Z"},
        }).encode()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake() -> Iterator[FakeService]:
    server = FakeService()
    yield server
    server.stop()


def test_5xx_is_nobody_and_not_cached(fake, make_client, caplog):
    client = make_client(fake.base, cache_ttl=30)
    fake.status, fake.body = 503, b"database unavailable"

    with caplog.at_level(logging.WARNING, logger="auth_service.client"):
        assert client.check("some-token") is None
    assert "503" in caplog.text and "some-token" not in caplog.text

    fake.answer_reader()  # the service recovers: the next page view sees the reader
    found = client.check("some-token")
    assert found is not None and found.email == "zora@example.com"
    assert found.avatar_url == "https://cdn.example/zora.png" and found.roles == ()
    assert found.email_verified is False
    assert fake.cookies[-1] == "auth_session=some-token"


@pytest.mark.parametrize("body", [b"<html>not json</html>", b"[]", b'{"user": {}}', b"null"])
def test_an_unreadable_answer_is_nobody(fake, make_client, body):
    fake.status, fake.body = 200, body
    assert make_client(fake.base).check("some-token") is None


def test_a_hanging_service_costs_one_timeout(fake, make_client):
    fake.hang.set()
    client = make_client(fake.base, timeout=0.3)
    started = time.monotonic()
    assert client.check("some-token") is None
    assert time.monotonic() - started < 1.5
    assert fake.requests == 1  # a timeout is not retried


def test_one_connection_is_reused_and_reopened_when_closed(fake, make_client):
    fake.answer_reader()
    client = make_client(fake.base, cache_ttl=0, cookie_name="site_auth")
    for _ in range(5):
        assert client.check("some-token") is not None
    assert (fake.requests, fake.connections) == (5, 1)
    assert fake.cookies[-1] == "site_auth=some-token"

    fake.close_after_each = True
    for _ in range(3):
        assert client.check("some-token") is not None
    assert fake.requests == 8 and fake.connections == 3

    # Closed without warning: the next request over it fails and is retried on a new one.
    fake.close_after_each, fake.drop_after_each = False, True
    for _ in range(3):
        assert client.check("some-token") is not None
    assert fake.requests == 11 and fake.connections == 6


def test_each_thread_gets_its_own_connection(fake, make_client):
    fake.answer_reader()
    client = make_client(fake.base, cache_ttl=0)
    results: list[Reader | None] = []

    def work() -> None:
        results.extend(client.check("some-token") for _ in range(3))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(results) == 12 and all(results)
    assert fake.connections == 4


# --- helpers, the Flask extension and the WSGI middleware -------------------------------------


def test_login_and_logout_urls_encode_return_to():
    assert (login_url("http://127.0.0.1:5000/", "http://127.0.0.1:5001/a b?x=1&y=é")
            == "http://127.0.0.1:5000/login?return_to="
               "http%3A%2F%2F127.0.0.1%3A5001%2Fa+b%3Fx%3D1%26y%3D%C3%A9")
    assert (logout_url("https://auth.example.com", "https://example.com/")
            == "https://auth.example.com/logout?return_to=https%3A%2F%2Fexample.com%2F")
    assert login_url("https://auth.example.com") == "https://auth.example.com/login"


def test_settings_are_checked_up_front():
    with pytest.raises(ValueError, match="http"):
        SessionClient("ftp://127.0.0.1")
    with pytest.raises(ValueError):
        SessionClient("http://127.0.0.1", cache_ttl=-1)
    with pytest.raises(ValueError):
        SessionClient("http://127.0.0.1", cookie_name="bad name")
    with pytest.raises(RuntimeError, match="AUTH_SERVICE_URL"):
        AuthSession(Flask(__name__))


def test_the_flask_extension_sets_g_reader(service, reader):
    _, token = reader
    app = Flask(__name__)
    app.config.update(AUTH_SERVICE_URL=service.base, AUTH_SERVICE_CACHE_TTL="0")
    AuthSession(app)

    @app.get("/")
    def page() -> str:
        name = g.reader.name if g.reader else "nobody"
        return render_template_string("{{ name }} {{ login_url() }} {{ logout_url('/x') }}",
                                      name=name)

    client = app.test_client()
    assert client.get("/").get_data(as_text=True) == (
        f"nobody {service.base}/login?return_to=http%3A%2F%2Flocalhost%2F "
        f"{service.base}/logout?return_to=%2Fx")
    client.set_cookie("auth_session", token)
    assert client.get("/").get_data(as_text=True).startswith(NAME + " ")
    with app.app_context():
        AuthSession.client().close()


def test_the_wsgi_middleware_sets_the_reader_in_environ(service, reader, make_client):
    _, token = reader
    seen: list[object] = []

    def site(environ: dict, start_response: Callable) -> list[bytes]:
        seen.append(environ["auth_service.reader"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    app = AuthMiddleware(site, make_client(service.base))
    for cookie in ["", 'other="x;y"; broken', f'theme=dark; odd=[1]; auth_session="{token}"']:
        environ = EnvironBuilder(headers={"Cookie": cookie} if cookie else {}).get_environ()
        assert b"".join(app(environ, lambda *args: None)) == b"ok"
    assert seen[0] is None and seen[1] is None
    assert isinstance(seen[2], Reader) and seen[2].email == EMAIL


def test_cookie_value_takes_the_first_matching_cookie():
    assert cookie_value("a=1; auth_session=t1; auth_session=t2", "auth_session") == "t1"
    assert cookie_value("xauth_session=t1", "auth_session") is None
    assert cookie_value("", "auth_session") is None


def test_links_use_the_public_url_when_the_site_reaches_the_service_internally():
    site = Flask(__name__)
    site.config.update(AUTH_SERVICE_URL="http://auth:8000",
                       AUTH_SERVICE_PUBLIC_URL="https://login.example.com/")
    extension = AuthSession(site)

    @site.get("/members")
    @reader_required
    def members() -> str:
        return "secret"

    with site.test_request_context("https://www.example.com/story"):
        assert extension.login_url() == (
            "https://login.example.com/login?return_to=https%3A%2F%2Fwww.example.com%2Fstory")
        assert extension.logout_url().startswith("https://login.example.com/logout?")
    with site.app_context():  # the checks still go to the internal address

        assert AuthSession.client().base_url == "http://auth:8000"
    response = site.test_client().get("/members", base_url="https://www.example.com")
    assert response.headers["Location"].startswith("https://login.example.com/login?return_to=")
