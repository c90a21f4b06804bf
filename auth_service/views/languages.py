"""Which language a page is in, and remembering the reader's choice.

In order: ``?lang=`` (then kept in a cookie, and on the account when someone is
signed in), the cookie, the account's saved language, the browser's
``Accept-Language``, and last AUTH_DEFAULT_LANGUAGE. Every page links to the
others in its footer (``?lang=``), so the choice is one click from anywhere.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, current_app, g, has_request_context, request
from flask_login import current_user
from werkzeug.wrappers import Response

from auth_service import i18n
from auth_service.extensions import babel
from auth_service.flows import account as account_flow

COOKIE = "auth_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def select() -> str:
    """Flask-Babel's locale selector (the module docstring says the order)."""
    config = current_app.config
    if not has_request_context():
        return config["DEFAULT_LANGUAGE"]
    asked = i18n.supported(request.args.get("lang"))
    if asked:
        g.auth_language_asked = asked
        return asked
    kept = i18n.supported(request.cookies.get(COOKIE))
    if kept:
        return kept
    saved = i18n.supported(current_user.language) if current_user.is_authenticated else None
    if saved:
        return saved
    # In the browser's order of preference, a regional tag counting as its language
    # ("pt-BR" is "pt"): werkzeug's best_match would rather take a less wanted exact match.
    for tag, _quality in request.accept_languages:
        found = i18n.supported(tag)
        if found:
            return found
    return config["DEFAULT_LANGUAGE"]


def remember(response: Response) -> Response:
    """After a page chosen with ``?lang=``: keep the choice in a cookie and on the account."""
    if "lang" not in request.args:
        return response
    i18n.current()  # a redirect renders nothing: choose the language now
    asked = g.get("auth_language_asked")
    if asked is None:
        return response
    response.set_cookie(COOKIE, asked, max_age=COOKIE_MAX_AGE, path="/", httponly=True,
                        samesite="Lax", secure=current_app.config["BASE_URL"].startswith("https://"))
    if current_user.is_authenticated and current_user.language != asked:
        account_flow.set_language(current_user, asked)
    return response


def init_app(app: Flask) -> None:
    """Flask-Babel on the catalogues; ``current_language`` and ``languages`` in templates."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(i18n.TRANSLATIONS))
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["DEFAULT_LANGUAGE"]
    babel.init_app(app, locale_selector=select)
    app.after_request(remember)

    @app.context_processor
    def languages() -> dict[str, object]:
        return {"current_language": i18n.language(i18n.current()), "languages": i18n.offered(),
                "language_url": language_url}


def language_url(code: str) -> str:
    """This page in language ``code`` (after a form's POST: the front door in it)."""
    if request.method != "GET":
        return f"/?{urlencode({'lang': code})}"
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    return f"{request.path}?{urlencode([*args, ('lang', code)])}"
