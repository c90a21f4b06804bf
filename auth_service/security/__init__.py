"""Passwords, signed tokens, redirect checks, and what every response carries."""

from __future__ import annotations

from flask import Flask

from auth_service.security import headers, logs
from auth_service.security.proxies import TrustedProxyFix


def init_app(app: Flask) -> None:
    """Security headers on every response; redacted JSON logs (AUTH_LOG_FORMAT); trust
    X-Forwarded-* only from configured proxies."""
    headers.init_app(app)
    logs.init_app(app)
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = TrustedProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, hops=hops, networks=app.config["TRUSTED_PROXY_NETWORKS"])
