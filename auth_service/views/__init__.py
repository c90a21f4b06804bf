"""The browser-facing blueprints, one per flow, and what they share."""

from __future__ import annotations

from flask import Flask, abort, request

from auth_service.views import errors, login, main, recovery, registration, sessions, verification


def init_app(app: Flask) -> None:
    """Register blueprints, error handlers, the session loader and the input guard."""
    for module in (main, login, registration, verification, recovery):
        app.register_blueprint(module.bp)
    errors.init_app(app)
    sessions.init_app(app)
    app.before_request(refuse_control_characters)

    @app.context_processor
    def site() -> dict[str, object]:
        return {"site_name": app.config["SITE_NAME"]}


def refuse_control_characters() -> None:
    """Refuse a form with NUL bytes anywhere: no field has a use for them.

    PostgreSQL cannot store them and some parsers stop at them, so they are
    turned away before any flow sees the data.
    """
    if request.method in {"POST", "PUT", "PATCH"} and request.mimetype in {
        "application/x-www-form-urlencoded", "multipart/form-data",
    }:
        for key, value in request.form.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400, "The form contained a character that is not allowed.")
    if "\x00" in request.full_path:
        abort(400)
