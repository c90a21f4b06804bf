"""Links that leave the service (in emails, discovery, redirect URIs): always built from
AUTH_BASE_URL.

Never from the request's Host header, which an attacker controls: a reset link
pointing at their host would hand them the token. The path comes from Flask's
own routing, so each route is written once, in its blueprint; this works with
no request at all (the CLI, the worker).
"""

from __future__ import annotations

from flask import current_app


def external(endpoint: str, **values: str | int | None) -> str:
    """``AUTH_BASE_URL`` + the path of ``endpoint`` (values that are None are left out;
    those the route does not take become the query)."""
    adapter = current_app.url_map.bind("")
    path = adapter.build(endpoint, {key: value for key, value in values.items()
                                    if value is not None and value != ""})
    return current_app.config["BASE_URL"] + path


def confirm(token: str) -> str:
    return external("verification.confirm", token=token)


def reset(token: str) -> str:
    return external("recovery.reset", token=token)


def email_change(token: str) -> str:
    return external("email_change.confirm", token=token)


def login(return_to: str | None = None) -> str:
    return external("login.login", return_to=return_to)


def forgot() -> str:
    return external("recovery.forgot")


def provider_callback(name: str) -> str:
    """The redirect URI to register at a social provider."""
    return external("social_login.callback", name=name)
