"""examples/proxies/nginx.conf does what it says, with a real nginx in front of real processes.

nginx runs as a subprocess (``-g 'daemon off;'``) on a free port of 127.0.0.1,
from the example config with only its addresses and file paths changed. Behind
it: the live service (``auth-service run``) for the ``auth_request`` check, and
a small content site in this process that echoes the X-Auth-* headers it gets.

Without nginx the tests skip locally, but fail under CI (``CI`` set), where
.ci/run installs it: a green CI must mean these ran.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

from tests.conftest import free_port
from tests.live import EMAIL, NAME, Browser, LiveService, live_service, stop, wait_until

NGINX = Path("/usr/sbin/nginx")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "proxies" / "nginx.conf"


def nginx_binary() -> Path:
    """The nginx to run; under CI a missing one is a failure, not a skip."""
    if NGINX.exists():
        return NGINX
    if os.environ.get("CI"):
        pytest.fail(f"{NGINX} is missing under CI: .ci/run should have installed nginx-light")
    pytest.skip(f"nginx is not installed ({NGINX}); `apt-get install nginx-light` to run these")


# --- the content site: echoes what nginx sent it ---------------------------------------------


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # nginx keeps upstream connections alive

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


def auth_headers(echo: dict) -> dict[str, list[str]]:
    """Every X-Auth-* header (any spelling) the content site received, by lower-case name."""
    found: dict[str, list[str]] = {}
    for name, value in echo["headers"]:
        if name.lower().replace("_", "-").startswith("x-auth-"):
            found.setdefault(name.lower(), []).append(value)
    return found


# --- HTTP helpers --------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


def call(port: int, path: str, *, method: str = "GET", headers: dict | None = None,
         body: bytes | None = None) -> Answer:
    """One request to 127.0.0.1:port: no cookie jar, no redirects followed."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


# --- the stack: service, content site, nginx -------------------------------------------------


@dataclass
class Stack:
    nginx: int  # port
    service: LiveService
    site: ThreadingHTTPServer
    user_id: int

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.nginx}"

    def sign_in(self, return_to: str) -> tuple[Browser, str]:
        """Sign in on the service like a browser; returns it and its auth_session token."""
        browser = Browser()
        page = browser.sign_in(self.service, EMAIL, return_to=return_to)  # asserts the 303
        assert page.location == return_to  # the site's origin is trusted
        token = browser.cookie("auth_session")
        assert token
        return browser, token


def listening(port: int) -> bool:
    """Whether 127.0.0.1:port accepts connections (nginx: a request would reach the site)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def render(example: str, *, listen: int, service: int, site: int, prefix: Path) -> str:
    """The example with only its addresses and file paths changed; each must still be there."""
    temp_paths = "".join(f"\n    {kind}_temp_path {prefix / kind};"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    replacements = [
        ("worker_processes auto;", "worker_processes 1;"),
        ("pid /run/nginx.pid;", f"pid {prefix / 'nginx.pid'};"),
        ("error_log /var/log/nginx/error.log;", f"error_log {prefix / 'error.log'};"),
        ("access_log /var/log/nginx/access.log;", f"access_log {prefix / 'access.log'};"),
        ("http {", "http {" + temp_paths),
        ("server 127.0.0.1:5000;", f"server 127.0.0.1:{service};"),
        ("server 127.0.0.1:8080;", f"server 127.0.0.1:{site};"),
        ("listen 80;", f"listen 127.0.0.1:{listen};"),
        ("https://login.example.com/login", f"http://127.0.0.1:{service}/login"),
    ]
    for old, new in replacements:
        assert old in example, f"examples/proxies/nginx.conf no longer has {old!r}"
        example = example.replace(old, new)
    return example


@pytest.fixture
def stack(tmp_path: Path, database_url: str) -> Iterator[Stack]:
    binary = nginx_binary()
    nginx_port = free_port()
    origin = f"http://127.0.0.1:{nginx_port}"

    site = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    site.hits = 0  # type: ignore[attr-defined]
    threading.Thread(target=site.serve_forever, daemon=True).start()

    prefix = tmp_path / "nginx"
    prefix.mkdir()
    config = prefix / "nginx.conf"
    error_log = prefix / "error.log"

    try:
        with live_service(tmp_path / "instance", database_url=database_url, rate_limits=True,
                          trusted_origins=(origin,)) as service:
            config.write_text(render(EXAMPLE.read_text(), listen=nginx_port, service=service.port,
                                     site=site.server_address[1], prefix=prefix))
            checked = subprocess.run([binary, "-t", "-p", str(prefix), "-e", str(error_log),
                                      "-c", str(config)], capture_output=True, text=True,
                                     timeout=30)
            assert checked.returncode == 0, checked.stderr
            nginx = subprocess.Popen([binary, "-p", str(prefix), "-e", str(error_log),
                                      "-c", str(config), "-g", "daemon off;"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_until(lambda: nginx.poll() is not None or listening(nginx_port),
                           what="nginx to listen")
                assert nginx.poll() is None, f"nginx exited ({nginx.returncode}):\n" + (
                    error_log.read_text() if error_log.exists() else "(no log)")
                yield Stack(nginx=nginx_port, service=service, site=site,
                            user_id=service.users[EMAIL])
            finally:
                stop(nginx)
    finally:
        site.shutdown()
        site.server_close()


# --- the tests ---------------------------------------------------------------------------


def login_redirect(stack: Stack, return_to: str) -> str:
    return f"{stack.service.base}/login?return_to={return_to}"


def test_anonymous_reader_is_sent_to_sign_in_and_back(stack):
    answer = call(stack.nginx, "/members/story?id=7",
                  headers={"X-Auth-Email": "forged@example.com", "X-Auth-User-Id": "1"})
    assert answer.status == 302
    location = answer.headers["Location"]
    assert location == login_redirect(stack, f"{stack.origin}/members/story?id=7")
    # The login page reads it back as the exact page the reader asked for.
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    assert query == {"return_to": [f"{stack.origin}/members/story?id=7"]}
    assert call(stack.nginx, "/members/").headers["Location"] == login_redirect(
        stack, f"{stack.origin}/members/")

    # A query string nginx cannot percent-encode comes back to its path only.
    answer = call(stack.nginx, "/members/story?id=7&page=2")
    assert answer.headers["Location"] == login_redirect(stack, f"{stack.origin}/members/story")

    # Garbage and unknown tokens are refused the same way; the content site saw none of it.
    for cookie in ("auth_session=not-a-session", "auth_session=" + "x" * 43, "other=1"):
        answer = call(stack.nginx, "/members/", headers={"Cookie": cookie})
        assert answer.status == 302, cookie
    assert call(stack.nginx, "/members/", method="POST", body=b"a=1").status == 302
    assert stack.site.hits == 0  # type: ignore[attr-defined]

    # The check location is internal: not reachable from outside.
    assert call(stack.nginx, "/_auth_service_check").status != 200


def test_signed_in_reader_reaches_the_site_with_the_services_headers(stack):
    _, token = stack.sign_in(f"{stack.origin}/members/")
    expected = {"x-auth-user-id": [str(stack.user_id)], "x-auth-email": [EMAIL],
                "x-auth-name": [quote(NAME, safe=" ")]}

    answer = call(stack.nginx, "/members/story?id=7", headers={"Cookie": f"auth_session={token}"})
    assert answer.status == 200, answer.body
    echo = answer.json()
    assert echo["path"] == "/members/story?id=7"
    assert auth_headers(echo) == expected
    assert unquote(auth_headers(echo)["x-auth-name"][0]) == NAME

    # A client's own X-Auth-* never gets through: replaced on protected paths…
    forged = {"Cookie": f"other=1; auth_session={token}", "X-Auth-Email": "admin@example.com",
              "X-Auth-User-Id": "1", "X-Auth-Name": "Admin", "X_Auth_Email": "admin@example.com",
              "x_auth-user-id": "1"}  # WSGI reads "_" like "-": HTTP_X_AUTH_EMAIL
    answer = call(stack.nginx, "/members/", headers=forged)
    assert answer.status == 200
    assert auth_headers(answer.json()) == expected

    # …and removed on public ones.
    answer = call(stack.nginx, "/", headers=forged)
    assert answer.status == 200
    assert auth_headers(answer.json()) == {}
    assert call(stack.nginx, "/about", headers={"X-Auth-Email": "a@b.c"}).json()["path"] == "/about"
    assert auth_headers(call(stack.nginx, "/about", headers={"X-Auth-Email": "a@b.c"}).json()) == {}

    # A POST is checked with a GET (the service's /api/session only answers GET).
    answer = call(stack.nginx, "/members/comment", method="POST", body=b"text=hello",
                  headers={"Cookie": f"auth_session={token}",
                           "Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status == 200, answer.body
    assert answer.json()["method"] == "POST"
    assert auth_headers(answer.json()) == expected

    # Authorization belongs to the content site: passed on to it, never to the check
    # (the service would read a bearer token there before the cookie).
    answer = call(stack.nginx, "/members/", headers={"Cookie": f"auth_session={token}",
                                                    "Authorization": "Bearer site-own-token"})
    assert answer.status == 200
    assert auth_headers(answer.json()) == expected
    assert ["Authorization", "Bearer site-own-token"] in answer.json()["headers"]
    answer = call(stack.nginx, "/members/", headers={"Authorization": f"Bearer {token}"})
    assert answer.status == 302


def test_a_revoked_session_is_refused_on_the_next_request(stack):
    browser, token = stack.sign_in(f"{stack.origin}/members/")
    cookie = {"Cookie": f"auth_session={token}"}
    assert call(stack.nginx, "/members/", headers=cookie).status == 200

    page = browser.submit(stack.service.base + "/logout", {})
    assert page.status == 303

    answer = call(stack.nginx, "/members/", headers=cookie)
    assert answer.status == 302
    assert answer.headers["Location"] == login_redirect(stack, f"{stack.origin}/members/")
