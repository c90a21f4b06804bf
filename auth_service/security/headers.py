"""Security headers on every response."""

from __future__ import annotations

from flask import Flask, Response

# No external assets, no inline scripts: everything comes from this origin.
CSP = (
    "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def init_app(app: Flask) -> None:
    """Register the after-request hook that sets the headers."""
    https = app.config["BASE_URL"].startswith("https://")

    @app.after_request
    def set_headers(response: Response) -> Response:
        headers = response.headers
        if "Content-Security-Policy" not in headers:
            # A view that sets its own CSP (the embeddable widget) decides its own framing.
            headers["Content-Security-Policy"] = CSP
            headers["X-Frame-Options"] = "DENY"
        headers.setdefault("X-Content-Type-Options", "nosniff")
        # Tokens live in link paths: never leak them to another site as a Referer. Same-origin
        # requests keep it, because Flask-WTF's CSRF check over HTTPS requires a Referer.
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if https:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if response.mimetype == "text/html":
            headers.setdefault("Cache-Control", "no-store")
        return response
