"""Access logs never hold a link token, an OAuth code or a cookie."""

from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest

from auth_service.security.redact import RedactingGunicornLogger, redact

TOKEN = "eyJ1aWQiOjF9.awc64Q.84R45JgL35-uznawhCHsvk-a_E4"


@pytest.mark.parametrize(("line", "expected"), [
    (f"GET /confirm/{TOKEN} HTTP/1.1", "GET /confirm/[redacted] HTTP/1.1"),
    (f"POST /password/reset/{TOKEN}?x=1 HTTP/1.1", "POST /password/reset/[redacted]?x=1 HTTP/1.1"),
    (f"POST /account/email/confirm/{TOKEN} HTTP/1.1",
     "POST /account/email/confirm/[redacted] HTTP/1.1"),
    ("GET /login/google/callback?state=abc&code=4%2F0Ad HTTP/1.1",
     "GET /login/google/callback?state=[redacted]&code=[redacted] HTTP/1.1"),
    ("GET /confirm/resend HTTP/1.1", "GET /confirm/resend HTTP/1.1"),
    ("GET /confirm/resend?email=a%40b.c HTTP/1.1", "GET /confirm/resend?email=a%40b.c HTTP/1.1"),
    ("GET /login?return_to=https://site.example/a HTTP/1.1",
     "GET /login?return_to=https://site.example/a HTTP/1.1"),
])
def test_redact(line, expected):
    assert redact(line) == expected


def test_gunicorn_access_log_line_has_no_secrets():
    logger = RedactingGunicornLogger(SimpleNamespace(
        errorlog="-", loglevel="info", accesslog=None, syslog=False, logconfig=None,
        logconfig_dict={}, logconfig_json=None, capture_output=False, user=0, group=0,
        access_log_format='%(h)s "%(r)s" %(s)s "%(f)s" %({cookie}i)s %({authorization}i)s',
        disable_redirect_access_to_syslog=False, statsd_host=None, dogstatsd_tags="",
        statsd_prefix=""))
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/password/reset/{TOKEN}",
               "PATH_INFO": f"/password/reset/{TOKEN}", "QUERY_STRING": "",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
               "HTTP_REFERER": f"https://login.example.com/confirm/{TOKEN}"}
    headers = [("COOKIE", "auth_session=secret-cookie-value"),
               ("AUTHORIZATION", "Bearer secret-bearer-token"),
               ("REFERER", f"https://login.example.com/confirm/{TOKEN}")]
    request = SimpleNamespace(headers=headers)
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=3))
    line = logger.cfg.access_log_format % atoms
    assert TOKEN not in line
    assert "secret-cookie-value" not in line and "secret-bearer-token" not in line
    assert "/password/reset/[redacted]" in line
    logging.getLogger("gunicorn.access").handlers.clear()
