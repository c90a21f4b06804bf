"""Wiring the OpenID Connect provider into an app: the authorization server, its blueprints,
the back-channel logout queue the outbox worker drains, and the account page's list of sites.
"""

from __future__ import annotations

from flask import Flask

from auth_service.mail.worker import QUEUES_KEY
from auth_service.oidc import (
    authorize,
    backchannel,
    clients,
    endpoints,
    logout,
    server,
    session_token,
    sites,
)
from auth_service.security.headers import DESTINATIONS_KEY


def init_app(app: Flask) -> None:
    """Install the provider on ``app``."""
    server.init_app(app)
    for module in (endpoints, authorize, logout, session_token, sites):
        app.register_blueprint(module.bp)
    app.extensions.setdefault(QUEUES_KEY, {})["back-channel logouts"] = backchannel.drain
    app.jinja_env.globals["signed_in_sites"] = sites.signed_in_sites
    app.extensions.setdefault(DESTINATIONS_KEY, []).append(clients.redirect_origins)
