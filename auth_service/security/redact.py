"""Keep tokens out of access logs.

Confirmation, reset and email-change links carry their token in the path, and a provider's
callback carries its code and state in the query (and a site's sign-out link an
ID token, in ``id_token_hint``): an access log line would
otherwise hold a working credential. Both servers we ship log through here:
the development server (``auth-service run``) and gunicorn (``logger_class``).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger
from werkzeug.serving import WSGIRequestHandler

REDACTED = "[redacted]"
_TOKEN_PATH = re.compile(r"(/(?:confirm|password/reset)/)(?!resend(?:[/?#\s\"]|$))[^/?#\s\"]+")
_SECRET_QUERY = re.compile(
    r"((?:^|[?&])(?:code|state|token|access_token|id_token|session_state|id_token_hint"
    r"|refresh_token|logout_token|login_hint)=)[^&#\s\"]*")
_SECRET_HEADERS = ("{cookie}i", "{authorization}i", "{set-cookie}o")


def redact(text: str) -> str:
    """``text`` with link tokens and OAuth codes replaced by ``[redacted]``."""
    return _SECRET_QUERY.sub(r"\1" + REDACTED, _TOKEN_PATH.sub(r"\1" + REDACTED, text))


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
    """Gunicorn's logger with the request line, path, query, referer and credentials redacted."""

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
