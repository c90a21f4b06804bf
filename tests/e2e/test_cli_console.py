"""The installed `auth-service` console script as a real subprocess, next to a live service.

What an admin does in a terminal, checked where a reader would notice it: over
HTTP against the running service, and in the test SMTP server's inbox.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.conftest import FAST_ARGON2, PASSWORD
from tests.live import CLI, EMAIL, SECRET, Browser, api_session, live_service


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with live_service(tmp_path_factory.mktemp("cli-live")) as running:
        yield running


def console(service, mailbox, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run `auth-service ARGS` against the live service's database and the test SMTP server."""
    folder = service.log_path.parent
    environ = {key: value for key, value in os.environ.items() if not key.startswith("AUTH_")}
    environ.update({f"AUTH_{key}": str(value) for key, value in FAST_ARGON2.items()})
    environ.update(AUTH_INSTANCE_PATH=str(folder), AUTH_SECRET_KEY=SECRET,
                   AUTH_DATABASE_URL=f"sqlite:///{folder / 'auth.db'}", AUTH_BASE_URL=service.base,
                   AUTH_MAIL_BACKEND="smtp", AUTH_MAIL_SERVER="127.0.0.1",
                   AUTH_MAIL_PORT=str(mailbox.port))
    return subprocess.run([CLI, *args], input=stdin, env=environ, capture_output=True, text=True,
                          timeout=60, check=False)


def test_created_user_signs_in_over_http(service, mailbox):
    result = console(service, mailbox, "users", "create", "walker@example.com", "--confirmed",
                     "--name", "Walker", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    browser = Browser()
    page = browser.sign_in(service, "walker@example.com", PASSWORD)
    assert page.headers["Location"] == "/account"
    status, body = api_session(service, browser.cookie())
    assert (status, body["user"]["name"]) == (200, "Walker")


def test_disable_refuses_the_live_session(service, mailbox):
    browser = Browser()
    browser.sign_in(service, EMAIL, PASSWORD)
    assert api_session(service, browser.cookie())[0] == 200
    assert console(service, mailbox, "users", "disable", EMAIL).returncode == 0
    assert api_session(service, browser.cookie()) == (401, {"error": "unauthenticated"})
    assert console(service, mailbox, "users", "enable", EMAIL).returncode == 0


def test_send_reset_arrives_at_the_smtp_server(service, mailbox):
    assert console(service, mailbox, "users", "send-reset", EMAIL).returncode == 0
    worker = console(service, mailbox, "worker", "--once")
    assert worker.stdout.strip() == "sent 1, retrying 0, failed 0"
    body = mailbox.text(mailbox.last(EMAIL))
    assert f"{service.base}/password/reset/" in body


def test_export_is_valid_json_with_sessions_and_identities(service, mailbox):
    Browser().sign_in(service, EMAIL, PASSWORD)
    result = console(service, mailbox, "users", "export", EMAIL)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["account"]["email"] == EMAIL
    assert data["identities"] == []
    assert any(s["method"] == "password" for s in data["sessions"])


def test_mistakes_are_one_line_without_a_traceback(service, mailbox):
    unknown = console(service, mailbox, "users", "show", "nobody@example.com")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "Error: no account with the address nobody@example.com"
    usage = console(service, mailbox, "users", "create")
    assert usage.returncode == 2
    assert "Traceback" not in unknown.stderr + usage.stderr
