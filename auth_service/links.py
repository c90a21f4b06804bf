"""Links that leave the service (in emails): always built from AUTH_BASE_URL.

Never from the request's Host header, which an attacker controls: a reset link
pointing at their host would hand them the token.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app


def external(path: str, **query: str | None) -> str:
    """``AUTH_BASE_URL`` + ``path`` (+ the query arguments that are not None)."""
    url = current_app.config["BASE_URL"] + path
    args = {key: value for key, value in query.items() if value}
    return f"{url}?{urlencode(args)}" if args else url


def confirm(token: str) -> str:
    return external(f"/confirm/{token}")


def reset(token: str) -> str:
    return external(f"/password/reset/{token}")


def email_change(token: str) -> str:
    return external(f"/account/email/confirm/{token}")


def login(return_to: str | None = None) -> str:
    return external("/login", return_to=return_to)


def forgot() -> str:
    return external("/password/forgot")
