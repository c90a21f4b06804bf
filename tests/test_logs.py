"""JSON log lines (AUTH_LOG_FORMAT=json): the request's line, its id, redaction; audit export."""

from __future__ import annotations

import io
import json
import logging
import sys
from types import SimpleNamespace

import pytest

from auth_service import config as settings
from auth_service.security.redact import JsonFormatter, RedactingGunicornLogger
from tests.conftest import READER

pytestmark = pytest.mark.settings(LOG_FORMAT="json")


@pytest.fixture
def log_lines(app):
    """The JSON lines the app's handler writes, as dicts (read when called)."""
    handlers = [h for h in logging.getLogger().handlers if getattr(h, "auth_service_json", False)]
    assert len(handlers) == 1
    buffer = io.StringIO()
    handlers[0].setStream(buffer)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    logging.getLogger().removeHandler(handlers[0])


def requests(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line.get("event") == "request"]


def test_each_request_writes_one_json_line(client, log_lines):
    page = client.get("/login")
    [line] = requests(log_lines())
    assert line["route"] == "login.login" and line["status"] == 200
    assert line["method"] == "GET" and line["path"] == "/login"
    assert line["level"] == "info" and line["time"].endswith("Z")
    assert isinstance(line["latency_ms"], float)
    assert line["request_id"] == page.headers["X-Request-Id"]
    assert "user_id" not in line


def test_the_request_id_of_a_client_is_not_believed(client, log_lines):
    page = client.get("/login", headers={"X-Request-Id": "forged-id"})
    assert page.headers["X-Request-Id"] != "forged-id"
    assert requests(log_lines())[0]["request_id"] == page.headers["X-Request-Id"]


@pytest.mark.settings(TRUSTED_PROXIES=1)
def test_the_request_id_of_a_trusted_proxy_is_kept_and_echoed(client, log_lines):
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    page = client.get("/login", headers={"X-Request-Id": "edge-4f2a-77"}, environ_base=proxy)
    assert page.headers["X-Request-Id"] == "edge-4f2a-77"
    assert requests(log_lines())[0]["request_id"] == "edge-4f2a-77"
    odd = client.get("/login", headers={"X-Request-Id": 'x" {"level":"error"}'},
                     environ_base=proxy)
    assert odd.headers["X-Request-Id"] != 'x" {"level":"error"}'


def test_tokens_in_the_path_and_query_are_redacted(client, log_lines):
    client.get("/confirm/IjEyMyI.Zz9xYw.the-secret-part?code=oauth-code-123")
    client.get("/password/reset/IjQ1NiI.Zz9xYw.reset-secret")
    text = json.dumps(log_lines())
    assert "the-secret-part" not in text and "reset-secret" not in text
    assert "oauth-code-123" not in text
    assert requests(log_lines())[0]["path"] == "/confirm/[redacted]"


def test_the_line_of_a_signed_in_request_names_the_account(browser, reader, log_lines):
    browser.login(READER)
    browser.get("/account")
    lines = requests(log_lines())
    assert {line["user_id"] for line in lines if line["route"] == "account.index"} == {reader}
    signed_in = [line for line in lines if line["method"] == "POST"][-1]
    assert signed_in["status"] == 303 and signed_in["user_id"] == reader


def test_an_error_page_has_its_line_too(client, log_lines):
    client.get("/no/such/page")
    [line] = requests(log_lines())
    assert (line["route"], line["status"]) == ("unmatched", 404)


def test_every_field_of_any_line_is_redacted():
    try:
        raise ValueError("bad link /password/reset/IjEi.Zz.abc-secret")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "callback %s", (
            "/login/google/callback?state=st4te&code=c0de",), sys.exc_info())
    record.path = "/confirm/IjEi.Zz.confirm-secret"
    line = json.loads(JsonFormatter().format(record))
    text = json.dumps(line)
    for secret in ("abc-secret", "st4te", "c0de", "confirm-secret"):
        assert secret not in text, secret
    assert "ValueError" in line["error"] and line["level"] == "error"


def test_gunicorn_writes_json_lines_in_production(monkeypatch):
    monkeypatch.setenv("AUTH_ENV", "production")
    monkeypatch.delenv("AUTH_LOG_FORMAT", raising=False)
    logger = RedactingGunicornLogger(SimpleNamespace(
        errorlog="-", loglevel="info", accesslog=None, syslog=False, logconfig=None,
        logconfig_dict={}, logconfig_json=None, capture_output=False, user=0, group=0,
        access_log_format="", disable_redirect_access_to_syslog=False, statsd_host=None,
        dogstatsd_tags="", statsd_prefix=""))
    buffer = io.StringIO()
    try:
        [handler] = logger.error_log.handlers
        handler.setStream(buffer)
        logger.info("Booting worker with pid: %s", 42)
    finally:
        logger.error_log.handlers.clear()
    line = json.loads(buffer.getvalue())
    assert (line["message"], line["logger"]) == ("Booting worker with pid: 42", "gunicorn.error")


def test_production_logs_json_by_default(tmp_path):
    base = {"SECRET_KEY": "x" * 32, "MAIL_BACKEND": "smtp"}
    production = settings.load(str(tmp_path), {**base, "ENV": "production"}, environ={})
    development = settings.load(str(tmp_path), base, environ={})
    assert (production["LOG_FORMAT"], development["LOG_FORMAT"]) == ("json", "text")


def test_audit_export_writes_json_lines_oldest_first(runner, browser, reader, clock):
    browser.login(READER, "an old wrong password")
    clock.advance(days=10)
    browser.login(READER, "a wrong password")
    browser.login(READER)
    result = runner.invoke(["audit", "export", "--since", "7d", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["event"] for line in lines] == ["login.failed", "login.succeeded"]
    assert lines[0]["email"] == READER and lines[0]["user_id"] == reader
    assert lines[0]["id"] < lines[1]["id"]


def test_audit_export_refuses_an_unknown_format_or_duration(runner):
    assert runner.invoke(["audit", "export", "--since", "7d", "--format", "xml"]).exit_code == 2
    assert runner.invoke(["audit", "export", "--since", "a while"]).exit_code == 2
    assert runner.invoke(["audit", "--since", "24h"]).exit_code == 0
