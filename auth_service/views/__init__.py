"""The browser-facing blueprints, one per flow, and what they share."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import Flask, abort, request
from flask_babel import lazy_gettext as _l

from auth_service.providers import registry
from auth_service.views import (
    account,
    api,
    brand,
    email_change,
    errors,
    languages,
    limits,
    login,
    main,
    metrics,
    observe,
    passkeys,
    recovery,
    registration,
    session_cookie,
    social_login,
    two_factor,
    verification,
    widget,
)


def init_app(app: Flask) -> None:
    """Register blueprints, error handlers, the session loader and the input guard."""
    for module in (main, account, email_change, api, brand, login, registration, verification,
                   recovery, social_login, two_factor, passkeys, widget, metrics):
        app.register_blueprint(module.bp)
    brand.init_app(app)
    errors.init_app(app)
    languages.init_app(app)
    limits.init_app(app)
    session_cookie.init_app(app)
    two_factor.init_app(app)
    # First of all hooks: once CSRF checking has parsed the form, the raw body is gone.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_undecodable_forms)
    app.before_request(refuse_control_characters)
    observe.init_app(app)  # after the guard above: its clock starts before every hook

    @app.context_processor
    def site() -> dict[str, object]:
        return {"site_name": app.config["SITE_NAME"], "social_providers": registry.all_providers}


NOT_UTF8 = _l("The form could not be read: it contained characters that are not valid "
              "text. Go back, reload the page and try again.")


def refuse_undecodable_forms() -> None:
    """Refuse a form whose fields are not UTF-8, instead of storing a guess at them.

    Werkzeug keeps undecodable %-escapes as literal text ("%FF" in an address or a
    new password), drops the whole urlencoded form on raw undecodable bytes, and
    turns them into U+FFFD in a multipart form: each would save something nobody typed.
    """
    if request.method not in {"POST", "PUT", "PATCH"}:
        return
    if request.mimetype == "application/x-www-form-urlencoded":
        try:
            unquote_to_bytes(request.get_data(cache=True)).decode("utf-8")
        except UnicodeDecodeError:
            abort(400, NOT_UTF8)
    elif request.mimetype == "multipart/form-data" and any(
        "\ufffd" in value for value in request.form.values()
    ):
        abort(400, NOT_UTF8)


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
                abort(400, _l("The form contained a character that is not allowed."))
    if "\x00" in request.full_path:
        abort(400)
