"""auth_service: a standalone sign-in service for content websites."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from auth_service import config as settings
from auth_service import extensions, resources, security, views
from auth_service.oidc import provider as oidc_provider
from auth_service.providers import registry
from auth_service.views import session_check


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the WSGI app from the ``AUTH_*`` environment, then ``config`` (for tests).

    Raises config.ConfigError, naming the variable, if the configuration is unusable.
    """
    app = Flask(__name__, template_folder=str(resources.folder("templates")))
    app.config.update(settings.load(app.instance_path, config))
    app.instance_path = app.config["INSTANCE_PATH"]
    extensions.init_app(app)
    registry.init_app(app)
    security.init_app(app)
    views.init_app(app)
    oidc_provider.init_app(app)
    # GET /api/session, the hot path, is answered in front of Flask (views/session_check.py).
    app.wsgi_app = session_check.mount(app)  # type: ignore[method-assign]
    return app
