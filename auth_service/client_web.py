"""The Flask extension and the WSGI middleware a content site puts in front of its pages.

Both do one check per request through :class:`~auth_service.client_session.SessionClient`
(or, with ``trust="token"``, :class:`~auth_service.client_session.TokenSessionClient`)
and make the reader, or None, available to the page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app, g, redirect, request

from auth_service.client_session import (
    DEFAULT_COOKIE,
    SessionClient,
    TokenSessionClient,
    cookie_value,
    login_url,
    logout_url,
    step_up_url,
)

EXTENSION_KEY = "auth_session"
PUBLIC_URL_KEY = "auth_service.client.public_url"
WSGI_KEY = "auth_service.reader"
View = TypeVar("View", bound=Callable[..., Any])


class AuthSession:
    """Flask extension: ``g.reader`` is the signed-in Reader, or None, on every request.

    Configuration (the keyword arguments win over the app's config):

    ``AUTH_SERVICE_URL``       base URL of the sign-in service (required)
    ``AUTH_SERVICE_CACHE_TTL`` seconds an answer is reused (default 5; 0: ask every time)
    ``AUTH_SERVICE_TIMEOUT``   seconds before the service counts as down (default 2)
    ``AUTH_SERVICE_COOKIE``    the session cookie's name (default ``auth_session``)
    ``AUTH_SERVICE_CACHE_SIZE`` most answers kept at once (default 10000)
    ``AUTH_SERVICE_TRUST``     ``session`` (default: ask /api/session, cached for
                               AUTH_SERVICE_CACHE_TTL) or ``token`` (verify the
                               signed session token offline: TokenSessionClient)
    ``AUTH_SERVICE_PUBLIC_URL`` the service's URL as browsers reach it, for the
                               sign-in and sign-out links (default: AUTH_SERVICE_URL;
                               differs when the site reaches the service on an
                               internal address, as in docker-compose.yml)

    Templates get ``login_url()`` and ``logout_url()``, which send the reader back
    to the current page. The reader is looked up before every request (static
    files excepted): the cache makes that cheap, and a page that shows a header
    with "Sign in" or the reader's name needs it anyway.

    Only the cookie is forwarded, never an ``Authorization`` header: the site may
    use that header for its own credentials, which the service must not see.
    """

    def __init__(self, app: Flask | None = None, *, base_url: str | None = None,
                 cache_ttl: float | None = None, timeout: float | None = None,
                 cache_size: int | None = None, cookie_name: str | None = None,
                 trust: str | None = None) -> None:
        self._options = {"base_url": base_url, "cache_ttl": cache_ttl, "timeout": timeout,
                         "cache_size": cache_size, "cookie_name": cookie_name, "trust": trust}
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Build this app's SessionClient and install the hooks.

        Raises RuntimeError naming AUTH_SERVICE_URL when no base URL is known,
        so a misconfigured site stops at start-up rather than on a reader's page view.
        """
        options = self._options
        base_url = options["base_url"] or app.config.get("AUTH_SERVICE_URL")
        if not base_url:
            raise RuntimeError("AuthSession: set AUTH_SERVICE_URL to the sign-in service's URL")

        def setting(option: str, key: str, default: Any) -> Any:
            value = options[option]
            return value if value is not None else app.config.get(key, default)

        trust = str(setting("trust", "AUTH_SERVICE_TRUST", "session"))
        try:
            timeout = float(setting("timeout", "AUTH_SERVICE_TIMEOUT", 2.0))
            cache_size = int(setting("cache_size", "AUTH_SERVICE_CACHE_SIZE", 10000))
            cookie_name = str(setting("cookie_name", "AUTH_SERVICE_COOKIE", DEFAULT_COOKIE))
            if trust == "token":
                client: SessionClient = TokenSessionClient(
                    base_url, timeout=timeout, cache_size=cache_size, cookie_name=cookie_name)
            elif trust == "session":
                client = SessionClient(
                    base_url, timeout=timeout, cache_size=cache_size, cookie_name=cookie_name,
                    cache_ttl=float(setting("cache_ttl", "AUTH_SERVICE_CACHE_TTL", 5.0)))
            else:
                raise ValueError(f"AUTH_SERVICE_TRUST must be session or token, not {trust!r}")
        except ValueError as exc:
            raise RuntimeError(f"AuthSession: bad AUTH_SERVICE_* setting: {exc}") from None
        app.extensions[EXTENSION_KEY] = client
        app.extensions[PUBLIC_URL_KEY] = str(
            app.config.get("AUTH_SERVICE_PUBLIC_URL") or base_url).rstrip("/")
        app.before_request(_load_reader)
        app.jinja_env.globals.update(login_url=self.login_url, logout_url=self.logout_url)

    @staticmethod
    def client() -> SessionClient:
        """The current app's SessionClient."""
        return current_app.extensions[EXTENSION_KEY]

    @staticmethod
    def public_url() -> str:
        """The service's URL for links a browser follows."""
        return current_app.extensions[PUBLIC_URL_KEY]

    def login_url(self, return_to: str | None = None) -> str:
        """The service's sign-in page, coming back to ``return_to`` (default: this page)."""
        return login_url(self.public_url(), return_to or request.url)

    def step_up_url(self, return_to: str | None = None, *, max_age: int = 0) -> str:
        """The service's sign-in page asking for a sign-in at most ``max_age`` seconds old,
        then back to ``return_to`` (default: this page)."""
        return step_up_url(self.public_url(), return_to or request.url, max_age=max_age)

    def logout_url(self, return_to: str | None = None) -> str:
        """The service's sign-out page, coming back to ``return_to`` (default: this page)."""
        return logout_url(self.public_url(), return_to or request.url)


def _load_reader() -> None:
    if request.endpoint == "static":
        g.reader = None  # assets don't need a reader; don't spend a check on them
        return
    client: SessionClient = current_app.extensions[EXTENSION_KEY]
    g.reader = client.check(request.cookies.get(client.cookie_name))


def reader_required(view: View) -> View:
    """Decorate a Flask view so anonymous visitors are sent to sign in and come back.

    Needs :class:`AuthSession` on the app. The redirect is a 302 to the service's
    login page with ``return_to`` set to the page they asked for.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("reader") is None:
            return redirect(login_url(AuthSession.public_url(), request.url))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


# A reader who signed in this recently and still has no second factor has none to give:
# asking again would loop, so they are told to turn one on instead.
JUST_SIGNED_IN = 120
NO_SECOND_FACTOR = (
    "<!doctype html><title>Two-step sign-in needed</title><h1>Two-step sign-in needed</h1>"
    "<p>This page needs a sign-in with a second factor: a code from an authenticator app or "
    'a passkey. <a href="{url}">Turn on two-step sign-in</a>, then come back.</p>')


def second_factor_required(view: View | None = None, *,
                           max_age: int | None = None) -> Any:
    """Decorate a Flask view that needs a sign-in with a second factor (``Reader.amr``).

    ``@second_factor_required`` or ``@second_factor_required(max_age=300)`` (the
    sign-in at most that many seconds old as well). Anonymous visitors go to sign
    in; a reader whose sign-in lacks the factor (or is too old) is sent to sign in
    again (:func:`step_up_url`, ``max_age=0``) and comes back. A reader who just did
    and still has no second factor gets a 403 page pointing at the service's
    /account/two-factor, instead of a loop. Needs :class:`AuthSession` on the app.
    """

    def decorate(inner: View) -> View:
        @wraps(inner)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            reader = g.get("reader")
            service = AuthSession.public_url()
            if reader is None:
                return redirect(login_url(service, request.url))
            fresh = max_age is None or reader.signed_in_within(max_age)
            if reader.has_second_factor and fresh:
                return inner(*args, **kwargs)
            if not reader.has_second_factor and reader.signed_in_within(JUST_SIGNED_IN):
                page = NO_SECOND_FACTOR.format(url=f"{service}/account/two-factor")
                return page, 403, {"Content-Type": "text/html; charset=utf-8"}
            return redirect(step_up_url(service, request.url, max_age=0))

        return wrapper  # type: ignore[return-value]

    return decorate(view) if view is not None else decorate


# --- plain WSGI ------------------------------------------------------------------------

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class AuthMiddleware:
    """WSGI middleware: ``environ["auth_service.reader"]`` is the Reader or None.

    For sites on any WSGI framework (Django, Pyramid, Bottle…) that want the
    same check without the Flask extension.
    """

    def __init__(self, wsgi_app: WSGIApp, client: SessionClient) -> None:
        self.wsgi_app = wsgi_app
        self.client = client

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        token = cookie_value(environ.get("HTTP_COOKIE", ""), self.client.cookie_name)
        environ[WSGI_KEY] = self.client.check(token)
        return self.wsgi_app(environ, start_response)


