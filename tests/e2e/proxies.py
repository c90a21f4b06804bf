"""What every recipe in examples/proxies/ must do, checked in the real proxy.

Each ``tests/e2e/test_<proxy>.py`` runs its recipe, with only its addresses and
file paths changed, in the real program on a free port of 127.0.0.1, in front of
a live service (``auth-service run``) and a content site that echoes what it
receives (:class:`EchoSite`, in this process). One such stack serves a whole
module (:func:`proxy_stack`), and the module's test class inherits
:class:`RecipeContract`: the tests a reader and an operator would check, the
same for every proxy.

Without the program the tests skip locally, but fail under CI (``CI`` set),
where .ci/run installs it: a green CI must mean they ran (:func:`required_program`).
"""

from __future__ import annotations

import html
import http.client
import json
import os
import posixpath
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest

from tests.conftest import PASSWORD, free_port
from tests.live import (
    EMAIL,
    NAME,
    Browser,
    LiveService,
    api_session,
    live_service,
    stop,
    wait_until,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "proxies"

# Pages whose URL must come back exactly after signing in: a query with "&", "+"
# and "%" (which a proxy pasting it unencoded into ?return_to= would cut or mangle),
# a "?" and "=" inside a value, UTF-8 in the path and the query, a bare key.
PAGES = (
    "/members/",
    "/members/story?id=7",
    "/members/page?a=1&b=x+y&c=100%25",
    "/members/caf%C3%A9?q=%E2%82%AC&r=a%2Bb&s=%26%3D&next=/members/?x=1&flag",
)

# Other spellings of a protected page. Each must be checked (or refused), never
# passed on unchecked to a site that would read it as /members/… (WSGI servers
# decode %XX, "%2F" included; some sites resolve dot segments and merge slashes).
DISGUISED = (
    "/%6Dembers/story",
    "/members%2Fstory",
    "//members/story",
    "/./members/story",
    "/public/../members/story",
    "/%2E/members/story",
    "/public/%2E%2E/members/story",
)


def required_program(path: Path, package: str) -> Path:
    """The proxy to run; under CI a missing one is a failure, not a skip."""
    if path.exists():
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{path} is missing under CI: .ci/run should have installed {package}")
    pytest.skip(f"{path.name} is not installed ({path}); `apt-get install {package}` to run these")


# --- the content site: echoes what the proxy sent it ----------------------------------------


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # proxies keep upstream connections alive

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer()

    def _answer(self) -> None:
        self.server.hits += 1  # type: ignore[attr-defined]
        body = json.dumps({"method": self.command, "path": self.path,
                           "headers": list(self.headers.items())}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class EchoSite(ThreadingHTTPServer):
    """The content site: answers every request with the method, path and headers it got."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Echo)
        self.hits = 0
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def handle_error(self, request: object, client_address: object) -> None:
        """Quiet about a proxy closing an idle connection; loud about anything else."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def close(self) -> None:
        self.shutdown()
        self.server_close()


def auth_headers(echo: dict) -> dict[str, list[str]]:
    """Every X-Auth-* header (any spelling) the content site received, by lower-case name."""
    found: dict[str, list[str]] = {}
    for name, value in echo["headers"]:
        if name.lower().replace("_", "-").startswith("x-auth-"):
            found.setdefault(name.lower(), []).append(value)
    return found


def reads_as_protected(path: str) -> bool:
    """Whether a site that decodes, merges slashes and resolves dot segments sees /members/…."""
    decoded = re.sub(r"/+", "/", unquote(urlsplit(path).path))
    return (posixpath.normpath(decoded) + "/").startswith("/members/")


# --- HTTP ------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


def call(port: int, path: str, *, method: str = "GET", headers: dict | None = None,
         body: bytes | None = None) -> Answer:
    """One request to 127.0.0.1:port, path sent as is: no cookie jar, no redirects followed."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


# --- the stack: service, content site, proxy ---------------------------------------------


class Ports(NamedTuple):
    """Where the proxy listens, and where it reaches the service and the content site."""

    listen: int
    service: int
    site: int


# Starts the proxy from its rendered recipe in a folder; returns it and its log file.
Start = Callable[[Ports, Path], tuple[subprocess.Popen, Path]]


@dataclass
class Stack:
    port: int  # the proxy's
    service: LiveService
    site: EchoSite
    start: Start
    folder: Path

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def user_id(self) -> int:
        return self.service.users[EMAIL]

    def sign_in(self) -> tuple[Browser, str]:
        """Sign in on the service like a browser; returns it and its auth_session token."""
        browser = Browser()
        browser.sign_in(self.service, EMAIL)  # asserts the 303
        token = browser.cookie("auth_session")
        assert token
        return browser, token


@contextmanager
def running_proxy(start: Start, ports: Ports, folder: Path) -> Iterator[None]:
    """The proxy ``start`` runs, listening on ``ports.listen`` until the block ends."""
    folder.mkdir(parents=True, exist_ok=True)
    proxy, log = start(ports, folder)
    try:
        wait_until(lambda: proxy.poll() is not None or listening(ports.listen),
                   what="the proxy to listen")
        assert proxy.poll() is None, f"the proxy exited ({proxy.returncode}):\n" + (
            log.read_text() if log.exists() else "(no log)")
        yield
    finally:
        stop(proxy)


@contextmanager
def proxy_stack(folder: Path, database_url: str, start: Start) -> Iterator[Stack]:
    """The live service, the echoing site and the proxy that ``start`` runs, for a module."""
    port = free_port()
    site = EchoSite()
    try:
        with live_service(folder / "instance", database_url=database_url, rate_limits=True,
                          trusted_origins=(f"http://127.0.0.1:{port}",)) as service, \
                running_proxy(start, Ports(port, service.port, site.port), folder / "proxy"):
            yield Stack(port=port, service=service, site=site, start=start, folder=folder)
    finally:
        site.close()


def run_checked(command: list[str], **kwargs: object) -> None:
    """Run a proxy's own configuration check; its complaint is the failure message."""
    checked = subprocess.run(command, capture_output=True, text=True, timeout=30, **kwargs)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def render(example: str, name: str, replacements: list[tuple[str, str]]) -> str:
    """The recipe with only its addresses and paths changed; each must still be there."""
    for old, new in replacements:
        assert old in example, f"examples/proxies/{name} no longer has {old!r}"
        example = example.replace(old, new)
    return example


# --- what every recipe does ----------------------------------------------------------------


def sign_in_target(stack: Stack, answer: Answer) -> str:
    """The page a redirect to the service's /login comes back to, as the login page reads it."""
    assert answer.status == 302, (answer.status, answer.body[:300])
    location = answer.headers["Location"]
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == stack.service.base + "/login"
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=True)
    assert list(query) == ["return_to"] and len(query["return_to"]) == 1, location
    return query["return_to"][0]


class RecipeContract:
    """The tests every proxy recipe passes; a test module subclasses it and gives ``stack``."""

    def expected_headers(self, stack: Stack) -> dict[str, list[str]]:
        return {"x-auth-user-id": [str(stack.user_id)], "x-auth-email": [EMAIL],
                "x-auth-name": [quote(NAME, safe=" ")]}

    def test_signed_out_reader_is_sent_to_sign_in_and_back_to_the_same_page(self, stack):
        hits = stack.site.hits
        for page in PAGES:
            answer = call(stack.port, page,
                          headers={"X-Auth-Email": "forged@example.com", "X-Auth-User-Id": "1"})
            assert sign_in_target(stack, answer) == stack.origin + page, page

        # Garbage, unknown tokens and a POST are refused the same way.
        for cookie in ("auth_session=not-a-session", "auth_session=" + "x" * 43, "other=1"):
            answer = call(stack.port, "/members/", headers={"Cookie": cookie})
            assert sign_in_target(stack, answer) == stack.origin + "/members/", cookie
        answer = call(stack.port, "/members/", method="POST", body=b"a=1")
        assert answer.status == 302
        assert stack.site.hits == hits  # the content site saw none of it

    def test_the_page_comes_back_exactly_after_signing_in(self, stack):
        page = "/members/page?a=1&b=x+y&c=100%25"
        location = call(stack.port, page).headers["Location"]

        # The login page holds the page, whole, in its form…
        browser = Browser()
        form = browser.open(location)
        field = re.search(r'name="return_to" type="hidden" value="([^"]*)"', form.text)
        assert field, form.text[:500]
        return_to = html.unescape(field.group(1))
        assert return_to == stack.origin + page

        # …sends the reader there once signed in…
        done = browser.submit(stack.service.base + "/login",
                              {"email": EMAIL, "password": PASSWORD, "return_to": return_to},
                              form_url=location)
        assert done.status == 303
        assert done.location == stack.origin + page

        # …and the proxy lets the reader in with the query unchanged.
        token = browser.cookie("auth_session")
        answer = call(stack.port, done.location.removeprefix(stack.origin),
                      headers={"Cookie": f"auth_session={token}"})
        assert answer.status == 200, answer.body[:300]
        assert answer.json()["path"] == page
        assert auth_headers(answer.json()) == self.expected_headers(stack)

    def test_signed_in_reader_reaches_the_site_with_the_services_headers(self, stack):
        _, token = stack.sign_in()
        expected = self.expected_headers(stack)

        cookie = {"Cookie": f"auth_session={token}"}
        answer = call(stack.port, "/members/story?id=7", headers=cookie)
        assert answer.status == 200, answer.body[:300]
        echo = answer.json()
        assert echo["path"] == "/members/story?id=7"
        assert auth_headers(echo) == expected
        assert unquote(auth_headers(echo)["x-auth-name"][0]) == NAME

        # A POST goes on with its body (the check itself is a GET: /api/session answers no POST).
        answer = call(stack.port, "/members/comment", method="POST", body=b"text=hello",
                      headers={"Cookie": f"auth_session={token}",
                               "Content-Type": "application/x-www-form-urlencoded"})
        assert answer.status == 200, answer.body[:300]
        assert answer.json()["method"] == "POST"
        assert auth_headers(answer.json()) == expected

        # Authorization belongs to the content site: passed on to it, never to the check
        # (the service would read a bearer token there before the cookie).
        answer = call(stack.port, "/members/", headers={"Cookie": f"auth_session={token}",
                                                       "Authorization": "Bearer site-own-token"})
        assert answer.status == 200
        assert auth_headers(answer.json()) == expected
        assert ["authorization", "Bearer site-own-token"] in [
            [name.lower(), value] for name, value in answer.json()["headers"]]
        answer = call(stack.port, "/members/", headers={"Authorization": f"Bearer {token}"})
        assert answer.status == 302

    def test_a_client_cannot_send_its_own_x_auth_headers(self, stack):
        _, token = stack.sign_in()
        forged = {"X-Auth-Email": "admin@example.com", "X-Auth-User-Id": "1",
                  "X-Auth-Name": "Admin", "X_Auth_Email": "admin@example.com",
                  "x_auth-user-id": "1", "X-AUTH_NAME": "Admin"}  # WSGI reads "_" like "-"

        # Replaced on protected paths…
        answer = call(stack.port, "/members/",
                      headers={**forged, "Cookie": f"other=1; auth_session={token}"})
        assert answer.status == 200
        assert auth_headers(answer.json()) == self.expected_headers(stack)

        # …and removed on public ones, signed in or not.
        for headers in (forged, {**forged, "Cookie": f"auth_session={token}"}):
            for path in ("/", "/about", "/membership"):
                answer = call(stack.port, path, headers=headers)
                assert answer.status == 200, path
                assert answer.json()["path"] == path
                assert auth_headers(answer.json()) == {}, path

    def test_a_protected_page_in_disguise_is_still_checked(self, stack):
        for path in DISGUISED:
            answer = call(stack.port, path)
            if answer.status == 200:  # passed on: then it must not be a protected page
                assert not reads_as_protected(answer.json()["path"]), path
            else:
                assert answer.status in {302, 400, 404}, (path, answer.status)

    def test_a_revoked_session_is_refused_on_its_next_request(self, stack):
        _, token = stack.sign_in()
        cookie = {"Cookie": f"auth_session={token}"}
        assert call(stack.port, "/members/", headers=cookie).status == 200

        # Revoked from the reader's other device, on the service's /account page.
        other, _ = stack.sign_in()
        status, session = api_session(stack.service, token)
        assert status == 200
        page = other.submit(f"{stack.service.base}/account/sessions/{session['session']['id']}"
                            "/revoke", {}, form_url=stack.service.base + "/account")
        assert page.status == 303
        answer = call(stack.port, "/members/", headers=cookie)
        assert sign_in_target(stack, answer) == stack.origin + "/members/"

        # Signed out on the service: the same.
        other_cookie = {"Cookie": f"auth_session={other.cookie('auth_session')}"}
        assert call(stack.port, "/members/", headers=other_cookie).status == 200
        assert other.submit(stack.service.base + "/logout", {}).status == 303
        answer = call(stack.port, "/members/", headers=other_cookie)
        assert sign_in_target(stack, answer) == stack.origin + "/members/"

    def test_no_answer_from_the_service_keeps_the_door_shut(self, stack):
        # The same recipe, pointed at a port where no service listens.
        hits = stack.site.hits
        ports = Ports(free_port(), free_port(), stack.site.port)
        with running_proxy(stack.start, ports, stack.folder / "no-service"):
            _, token = stack.sign_in()
            answer = call(ports.listen, "/members/", headers={"Cookie": f"auth_session={token}"})
            assert 500 <= answer.status < 600, answer.status
            assert call(ports.listen, "/").status == 200  # the public part stays up
        assert stack.site.hits == hits + 1
