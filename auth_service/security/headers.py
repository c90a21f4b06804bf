"""Security headers on every response.

One function says what they are (:func:`common_headers`); Flask's after-request
hook applies it to every response Flask makes, and the session check that
answers in front of Flask (views/session_check.py) adds the same list itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response

# No external assets, no inline scripts: everything comes from this origin.
CSP = (
    "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def common_headers(config: Mapping[str, Any], mimetype: str | None, *,
                   own_csp: bool) -> list[tuple[str, str]]:
    """The headers every response carries, in order, unless it set one of them itself.

    ``own_csp``: the response decides its own framing (the embeddable widget sets
    a CSP of its own), so no CSP and no X-Frame-Options are added.
    """
    headers: list[tuple[str, str]] = []
    if not own_csp:
        headers += [("Content-Security-Policy", CSP), ("X-Frame-Options", "DENY")]
    headers += [
        ("X-Content-Type-Options", "nosniff"),
        # Tokens live in link paths: never leak them to another site as a Referer. Same-origin
        # requests keep it, because Flask-WTF's CSRF check over HTTPS requires a Referer.
        ("Referrer-Policy", "same-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if config["BASE_URL"].startswith("https://"):
        headers.append(("Strict-Transport-Security", "max-age=31536000"))
    if mimetype == "text/html":
        headers.append(("Cache-Control", "no-store"))
    return headers


def init_app(app: Flask) -> None:
    """Register the after-request hook that sets the headers."""

    @app.after_request
    def set_headers(response: Response) -> Response:
        own_csp = "Content-Security-Policy" in response.headers
        for name, value in common_headers(app.config, response.mimetype, own_csp=own_csp):
            response.headers.setdefault(name, value)
        return response
