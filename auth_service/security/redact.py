"""Keep tokens out of access logs, and out of every field of a JSON log line.

Confirmation, reset and email-change links carry their token in the path, and a provider's
callback carries its code and state in the query (and a site's sign-out link an
ID token, in ``id_token_hint``): an access log line would
otherwise hold a working credential. Both servers we ship log through here:
the development server (``auth-service run``) and gunicorn (``logger_class``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import traceback
from datetime import UTC, datetime, timedelta
from typing import Any

from gunicorn.glogging import Logger
from werkzeug.serving import WSGIRequestHandler

from auth_service.config import log_format

REDACTED = "[redacted]"
_TOKEN_PATH = re.compile(r"(/(?:confirm|password/reset)/)(?!resend(?:[/?#\s\"]|$))[^/?#\s\"]+")
_SECRET_QUERY = re.compile(
    r"((?:^|[?&])(?:code|state|token|access_token|id_token|session_state|id_token_hint"
    r"|refresh_token|logout_token|login_hint)=)[^&#\s\"]*")
_SECRET_HEADERS = ("{cookie}i", "{authorization}i", "{set-cookie}o")


def redact(text: str) -> str:
    """``text`` with link tokens and OAuth codes replaced by ``[redacted]``."""
    return _SECRET_QUERY.sub(r"\1" + REDACTED, _TOKEN_PATH.sub(r"\1" + REDACTED, text))


# Fields a line may carry besides the basic ones, in the order they are written.
FIELDS = ("request_id", "event", "method", "route", "path", "status", "latency_ms", "user_id")
def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {str(key): _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    """A record as one JSON object on one line, each field redacted."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = getattr(record, "context", None) or {}
        for name in FIELDS:
            found = getattr(record, name, context.get(name))
            if found is not None:
                line[name] = found
        if record.exc_info:
            line["error"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return json.dumps(_clean(line), ensure_ascii=False, separators=(",", ":"))


class RedactingRequestHandler(WSGIRequestHandler):
    """Werkzeug's development server handler, logging request lines without tokens."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        original = self.path
        self.path = redact(original)
        try:
            super().log_request(code, size)
        finally:
            self.path = original


class RedactingGunicornLogger(Logger):
    """Gunicorn's logger with the request line, path, query, referer and credentials redacted.

    With JSON logs (AUTH_LOG_FORMAT, json by default in production) gunicorn's
    own lines are JSON too, so one log reader parses everything the process writes.
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if log_format(os.environ) != "json":
            return
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any],
              request_time: timedelta) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f", "{referer}i"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        for key in _SECRET_HEADERS:
            if key in atoms:
                atoms[key] = REDACTED
        return atoms
