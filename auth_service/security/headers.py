"""Security headers on every response.

One function says what they are (:func:`common_headers`); Flask's after-request
hook applies it to every response Flask makes, and the session check that
answers in front of Flask (views/session_check.py) adds the same list itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response

# No external assets, no inline scripts: everything comes from this origin.
CSP = (
    "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def form_destinations(config: Mapping[str, Any]) -> list[str]:
    """The origins besides this one where a form of ours may end up, for ``form-action``.

    Chromium checks every redirect that follows a form's submission against
    ``form-action``: signing in or out sends the reader on to a trusted ``return_to``,
    and linking a provider (or proving it's you with one) to that provider's sign-in
    page. Without these origins the browser stops the reader on our page. A generic
    OpenID Connect provider is listed by its discovery URL's origin, where its
    sign-in page is as a rule.
    """
    found = list(config.get("TRUSTED_ORIGINS", ()))
    for provider in config.get("PROVIDERS", ()):
        url = provider.authorize_url or provider.discovery_url
        parts = urlsplit(url or "")
        if parts.scheme in {"http", "https"} and parts.netloc:
            found.append(f"{parts.scheme}://{parts.netloc}")
    return list(dict.fromkeys(found))


# app.extensions key: callables that name more form destinations for a page (the
# OpenID Connect provider's clients), asked only for HTML answers.
DESTINATIONS_KEY = "auth_form_destinations"


def content_security_policy(config: Mapping[str, Any], extra: Sequence[str] = ()) -> str:
    """:data:`CSP` with ``form-action`` naming :func:`form_destinations` (and ``extra``) too."""
    origins = dict.fromkeys([*form_destinations(config), *extra])
    return CSP.replace("form-action 'self'", " ".join(["form-action 'self'", *origins]))


def common_headers(config: Mapping[str, Any], mimetype: str | None, *,
                   own_csp: bool, extra_destinations: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The headers every response carries, in order, unless it set one of them itself.

    ``own_csp``: the response decides its own framing (the embeddable widget sets
    a CSP of its own), so no CSP and no X-Frame-Options are added.
    """
    headers: list[tuple[str, str]] = []
    if not own_csp:
        headers += [("Content-Security-Policy",
                     content_security_policy(config, extra_destinations)),
                    ("X-Frame-Options", "DENY")]
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
        extra: list[str] = []
        if response.mimetype == "text/html" and not own_csp:
            for destinations in app.extensions.get(DESTINATIONS_KEY, ()):
                extra += destinations()
        for name, value in common_headers(app.config, response.mimetype, own_csp=own_csp,
                                          extra_destinations=extra):
            response.headers.setdefault(name, value)
        return response
