"""Log lines as JSON (AUTH_LOG_FORMAT=json, the production default), redacted field by field.

One object per line: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
``message``, and for a line written during a request its ``request_id``,
``route`` (the endpoint's name) and ``user_id`` when someone is signed in. The
request line itself (views/observe.py) adds ``event`` = ``request``,
``method``, ``path``, ``status`` and ``latency_ms``. Every string of every field
goes through redact() first, the same redaction as the access logs, so a
confirmation link or an OAuth code in a message, a path or an exception's
text never reaches the log as a working credential.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from flask import Flask, g, has_request_context
from flask.logging import default_handler

from auth_service.security.redact import JsonFormatter

# The request's own fields, kept in flask.g by views/observe.py.
CONTEXT_KEY = "log_context"


class RequestContext(logging.Filter):
    """Adds the current request's id, route and user to a line written during a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.context = g.get(CONTEXT_KEY) or {}
        return True


def json_handler(stream: Any = None) -> logging.Handler:
    """A handler writing JSON lines to ``stream`` (stderr by default)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContext())
    handler.auth_service_json = True  # type: ignore[attr-defined]
    return handler


def init_app(app: Flask) -> None:
    """With AUTH_LOG_FORMAT=json, every logger of the process writes JSON lines to stderr.

    The root logger gets one such handler (a second app in the process replaces
    it rather than doubling the lines), at INFO; Flask's own handler on the app's
    logger goes, so its lines come out as JSON too. Text format changes nothing.
    """
    if app.config["LOG_FORMAT"] != "json":
        return
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "auth_service_json", False):
            root.removeHandler(handler)
    root.addHandler(json_handler())
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    app.logger.removeHandler(default_handler)
