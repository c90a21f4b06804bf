"""``GET /api/session``, the hot path: a small WSGI app of its own, in front of Flask.

The content site, or its proxy, asks this on every page view. It is a read: 200
with the reader, or 401 (saying where to sign in, ``X-Auth-Login-Url``); a
database it cannot reach is a 503. It never redirects and never sets a cookie,
and answers CORS only for AUTH_TRUSTED_ORIGINS (with credentials).

A GET is answered here without Flask's request handling: no URL matching, no
hooks (form guards, CSRF, rate limits, the cookie session) that cost more than
the check itself and do nothing for it. :func:`mount` puts this app in front of
Flask's for exactly ``GET /api/session``; every other request, and every other
method on this path (HEAD, OPTIONS), goes to Flask, whose view
(views/api.py) gives the same :func:`answer`. What Flask would add to the
answer, the security headers, comes from the same function as Flask's hook
(security/headers.py), so both give the same bytes (tested). Each answer is
counted by status and timed (metrics.py: two pre-bound series, a few
microseconds); it writes no log line, as the proxy in front logs every request.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from time import perf_counter
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import quote

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.http import HTTP_STATUS_CODES, parse_cookie

from auth_service import links, metrics
from auth_service.flows import session_check
from auth_service.flows.session_check import Check
from auth_service.security.headers import common_headers
from auth_service.security.redirects import forwarded_page, safe_return_to

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

PATH = "/api/session"
Headers: TypeAlias = list[tuple[str, str]]

# The body's encoding is part of the contract: ASCII, keys sorted (Flask's
# defaults), whatever the app's JSON provider says. One encoder, built once:
# json.dumps with options would build a new one for every answer.
_ENCODER = json.JSONEncoder(ensure_ascii=True, sort_keys=True)
UNAUTHENTICATED = _ENCODER.encode({"error": "unauthenticated"})
UNAVAILABLE = _ENCODER.encode({
    "error": "unavailable",
    "message": "The service is temporarily unavailable. Please try again in a moment."})

# Header values must be ASCII, and neither names nor addresses need be (кnown@example.com
# is a valid address): both go out as percent-encoded UTF-8. In an address every printable
# ASCII character but "%" is left as is, so an ASCII address reads the same encoded or not.
EMAIL_SAFE = "".join(chr(code) for code in range(0x21, 0x7F) if chr(code) != "%")


def token_from(environ: Mapping[str, Any], cookie: str) -> str | None:
    """The bearer token, else the session cookie (its first value, as request.cookies)."""
    header = environ.get("HTTP_AUTHORIZATION", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return parse_cookie(environ.get("HTTP_COOKIE")).get(cookie)


def _iso(value: datetime) -> str:
    """ISO 8601 in UTC with a "Z", as every time in the answer is written."""
    return value.isoformat().replace("+00:00", "Z")


def _body(check: Check) -> dict[str, object]:
    return {
        "user": {
            "id": str(check.user_id),
            "email": check.email,
            "email_verified": check.email_verified,
            "name": check.name,
            "avatar_url": check.avatar_url,
            "roles": check.roles,
        },
        "session": {
            "id": check.session_id,
            "expires_at": _iso(check.ends_at),
            "amr": check.amr,
            "auth_time": _iso(check.auth_time),
        },
    }


def cors(environ: Mapping[str, Any], config: Mapping[str, Any]) -> Headers:
    """CORS headers: credentials allowed for a trusted origin only, never ``*``."""
    headers = [("Vary", "Origin, Cookie, Authorization")]
    origin = environ.get("HTTP_ORIGIN")
    if origin and origin in config["TRUSTED_ORIGINS"]:
        headers += [("Access-Control-Allow-Origin", origin),
                    ("Access-Control-Allow-Credentials", "true")]
    return headers


def login_url(environ: Mapping[str, Any], config: Mapping[str, Any]) -> str:
    """``AUTH_BASE_URL/login``, with ``return_to`` the page the proxy asked about.

    A proxy describes that page with X-Forwarded-Proto, -Host and -Uri (Traefik and
    Caddy send them by themselves; the nginx and HAProxy recipes set them). It is
    built here because a proxy that pastes the URL into ``?return_to=`` unencoded
    loses the page's own query: ``/page?a=1&b=x+y`` would come back as ``/page?a=1``,
    the ``&b=…`` read as the login page's own argument and ``+`` as a space. A page
    on an untrusted origin is left out, as ``/login`` would ignore it.
    """
    page = forwarded_page(environ.get("HTTP_X_FORWARDED_PROTO", ""),
                          environ.get("HTTP_X_FORWARDED_HOST", ""),
                          environ.get("HTTP_X_FORWARDED_URI", ""))
    return_to = page and safe_return_to(page, base_url=config["BASE_URL"],
                                        trusted=config["TRUSTED_ORIGINS"])
    return links.login(return_to)


def answer(environ: Mapping[str, Any], config: Mapping[str, Any]) -> tuple[int, str, Headers]:
    """The answer to a GET: 200 with the reader and ``X-Auth-*`` headers, 401, or 503.

    Both ways of serving the endpoint (:class:`SessionCheckApp`, and Flask's view
    for HEAD) share every line of it. Needs an app context (the database).
    """
    try:
        check = session_check.check(token_from(environ, config["SESSION_COOKIE"]))
    except SQLAlchemyError as exc:
        log.error("database error on %s: %s", PATH, type(exc).__name__)
        status, body, headers = 503, UNAVAILABLE, []
    else:
        if check is None:
            status, body = 401, UNAUTHENTICATED
            headers = [("WWW-Authenticate", 'Bearer realm="auth_service"'),
                       ("X-Auth-Login-Url", login_url(environ, config))]
        else:
            status, body = 200, _ENCODER.encode(_body(check))
            headers = [
                ("X-Auth-User-Id", str(check.user_id)),
                ("X-Auth-Email", quote(check.email, safe=EMAIL_SAFE)),
                ("X-Auth-Name", quote(check.name, safe=" ")),
            ]
    headers.append(("Cache-Control", "no-store"))
    return status, body, headers + cors(environ, config)


# What werkzeug writes as the status line for a Response of each code.
STATUS_LINES = {code: f"{code} {HTTP_STATUS_CODES[code].upper()}" for code in (200, 401, 503)}


class SessionCheckApp:
    """The WSGI app that answers ``GET /api/session`` for ``app`` (its config, its database).

    It writes the answer as Flask would for the view's Response: the same status
    line, the same headers in the same order (the answer's, then the security
    headers every response carries), the same body.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._security = common_headers(app.config, "application/json", own_csp=False)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = perf_counter()
        with self.app.app_context():
            status, body, headers = answer(environ, self.app.config)
        data = body.encode()
        metrics.session_checked(status, perf_counter() - started)
        start_response(STATUS_LINES[status], [
            ("Content-Type", "application/json"), ("Content-Length", str(len(data))),
            *headers, *self._security])
        return [data]


class Mount:
    """``GET /api/session`` to :class:`SessionCheckApp`; every other request to Flask."""

    def __init__(self, flask_app: WSGIApplication, check_app: WSGIApplication) -> None:
        self.flask_app = flask_app
        self.check_app = check_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if (environ.get("REQUEST_METHOD") == "GET" and environ.get("PATH_INFO") == PATH
                and "\x00" not in environ.get("QUERY_STRING", "")):
            return self.check_app(environ, start_response)
        return self.flask_app(environ, start_response)


def mount(app: Flask) -> Mount:
    """``app``'s WSGI callable with the session check in front (the last step of create_app)."""
    return Mount(app.wsgi_app, SessionCheckApp(app))
