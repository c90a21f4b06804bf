"""auth_service: a standalone sign-in service for content websites."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from auth_service import config as settings
from auth_service import extensions, oidc, resources, security, views
from auth_service.providers import registry


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
    oidc.init_app(app)
    return app
