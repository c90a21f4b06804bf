"""What `make run` gives a newcomer: a real server process, links printed to the terminal.

Starts `auth-service run` as a subprocess on a free port of 127.0.0.1 with the
development defaults (console mail, SQLite in its instance folder), then uses it
over HTTP like a browser: register, follow the printed link, confirm, sign in,
sign out, reset the password.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import FAST_ARGON2, free_port

CLI = str(Path(sys.executable).with_name("auth-service"))
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Reader:
    """A cookie-keeping HTTP client that does not follow redirects."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect())

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, dict]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=10) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), dict(error.headers)

    def submit(self, path: str, data: dict) -> tuple[int, str, dict]:
        _, page, _ = self.request(path)
        token = CSRF.search(page)
        assert token, page
        return self.request(path, {"csrf_token": token.group(1), **data})


@pytest.fixture
def dev_server(tmp_path):
    port = free_port()
    environ = {key: value for key, value in os.environ.items() if not key.startswith("AUTH_")}
    environ.update({f"AUTH_{k}": str(v) for k, v in FAST_ARGON2.items()})
    environ.update(AUTH_INSTANCE_PATH=str(tmp_path / "instance"),
                   AUTH_BASE_URL=f"http://127.0.0.1:{port}")
    subprocess.run([CLI, "db", "upgrade"], env=environ, check=True, timeout=60,
                   capture_output=True)
    log = (tmp_path / "server.log").open("w+")
    process = subprocess.Popen([CLI, "run", "--port", str(port)], env=environ, stdout=log,
                               stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("the dev server did not start")

        def printed() -> str:
            log.flush()
            return (tmp_path / "server.log").read_text()

        yield base, printed
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def wait_for_link(printed, path: str, seen: int = 0) -> str:
    """The ``seen``-th link to ``path`` printed by the in-process mail worker."""
    for _ in range(100):
        links = re.findall(r"http://127\.0\.0\.1:\d+" + re.escape(path) + r"\S+", printed())
        if len(links) > seen:
            return links[seen]
        time.sleep(0.1)
    raise AssertionError(f"no {path} link printed:\n{printed()}")


def test_newcomer_journey_on_the_dev_server(dev_server):
    base, printed = dev_server
    reader = Reader(base)
    password = "a long walk through Belgrade"

    status, page, _ = reader.submit("/register", {"email": "newcomer@example.com",
                                                  "password": password})
    assert status == 200 and "Check your email" in page

    link = wait_for_link(printed, "/confirm/")
    path = urllib.parse.urlsplit(link).path
    status, page, _ = reader.submit(path, {})
    assert status == 200 and "Address confirmed" in page

    status, _, headers = reader.submit("/login", {"email": "newcomer@example.com",
                                                  "password": password})
    assert status == 303 and headers["Location"] == "/account"
    status, page, _ = reader.request("/account")
    assert status == 200 and "newcomer@example.com" in page

    status, _, headers = reader.submit("/logout", {})
    assert status == 303
    assert reader.request("/account")[0] == 302

    reader.submit("/password/forgot", {"email": "newcomer@example.com"})
    reset = urllib.parse.urlsplit(wait_for_link(printed, "/password/reset/")).path
    status, page, _ = reader.submit(reset, {"password": "a new walk along the Danube"})
    assert status == 200 and "Password changed" in page
    status, _, _ = reader.submit("/login", {"email": "newcomer@example.com",
                                            "password": "a new walk along the Danube"})
    assert status == 303
    assert password not in printed()
