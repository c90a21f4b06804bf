"""What `make run` gives a newcomer: a real server process, links printed to the terminal.

Starts `auth-service run` as a subprocess on a free port of 127.0.0.1 with the
development defaults (console mail, SQLite in its instance folder), then uses it
over HTTP like a browser: register, follow the printed link, confirm, sign in,
sign out, reset the password.
"""

from __future__ import annotations

import urllib.parse

import pytest

from tests.live import Browser, live_service


@pytest.fixture
def dev_server(tmp_path):
    with live_service(tmp_path / "instance", fresh=True, rate_limits=True,
                      print_mail=True) as running:
        yield running


def test_newcomer_journey_on_the_dev_server(dev_server):
    base = dev_server.base
    reader = Browser()
    password = "a long walk through Belgrade"

    page = reader.submit(base + "/register", {"email": "newcomer@example.com",
                                              "password": password})
    assert page.status == 200 and "Check your email" in page.text

    link = dev_server.printed_link("/confirm/")
    path = urllib.parse.urlsplit(link).path
    page = reader.submit(base + path, {})
    assert page.status == 200 and "Address confirmed" in page.text

    page = reader.submit(base + "/login", {"email": "newcomer@example.com",
                                           "password": password})
    assert page.status == 303 and page.headers["Location"] == "/account"
    page = reader.open(base + "/account")
    assert page.status == 200 and "newcomer@example.com" in page.text

    page = reader.submit(base + "/logout", {})
    assert page.status == 303
    assert reader.open(base + "/account").status == 302

    reader.submit(base + "/password/forgot", {"email": "newcomer@example.com"})
    reset = urllib.parse.urlsplit(dev_server.printed_link("/password/reset/")).path
    page = reader.submit(base + reset, {"password": "a new walk along the Danube"})
    assert page.status == 200 and "Password changed" in page.text
    page = reader.submit(base + "/login", {"email": "newcomer@example.com",
                                           "password": "a new walk along the Danube"})
    assert page.status == 303
    assert password not in dev_server.log()
    # The access log lines of the link pages hold no token (the printed emails do, by design).
    requests_logged = [line for line in dev_server.log().splitlines()
                       if '"GET /confirm/' in line or '"POST /password/reset/' in line]
    assert len(requests_logged) >= 2
    for line in requests_logged:
        assert "[redacted]" in line, line
        assert path.rsplit("/", 1)[1] not in line and reset.rsplit("/", 1)[1] not in line


def test_links_follow_the_port_when_no_base_url_is_set(tmp_path):
    # `make run PORT=…` on a new checkout: no AUTH_BASE_URL, so the links use the port.
    with live_service(tmp_path / "instance", fresh=True, print_mail=True,
                      environment={"AUTH_BASE_URL": ""}) as server:
        reader = Browser()
        reader.submit(server.base + "/register", {"email": "port@example.com",
                                                  "password": "a long walk through Belgrade"})
        link = server.printed_link("/confirm/")
        assert link.startswith(f"http://127.0.0.1:{server.port}/confirm/")
        assert f"links in emails: http://127.0.0.1:{server.port}" in server.log()
