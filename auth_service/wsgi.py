"""The WSGI app for gunicorn: ``gunicorn 'auth_service.wsgi:app'``.

A configuration mistake ends the process with one line naming the variable.
"""

from __future__ import annotations

import sys

from auth_service import create_app
from auth_service.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    sys.stderr.write(f"auth_service: configuration error: {exc}\n")
    raise SystemExit(1) from None
