"""Passwords, signed tokens, redirect checks, and what every response carries."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from auth_service.security import headers


def init_app(app: Flask) -> None:
    """Security headers on every response; trust X-Forwarded-* only from configured proxies."""
    headers.init_app(app)
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        # Only the client address and scheme: links never come from the Host header anyway.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
