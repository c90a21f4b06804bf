"""``GET /api/session``: the check the content site or its proxy makes on every page view.

It is a read: 200 with the reader, or 401. It never redirects and never sets a
cookie, and answers CORS only for AUTH_TRUSTED_ORIGINS (with credentials). A 401
says where to sign in (``X-Auth-Login-Url``), coming back to the page the proxy
says the reader asked for: most proxies cannot percent-encode that URL themselves.

This is the hot path. The view bypasses Flask-Login and the page machinery, and
a GET does not even reach Flask: :class:`FastPath` answers it with the same
:func:`answer`, in an app context but without Flask's request handling, whose
hooks (form guards, CSRF, rate limits, Flask's cookie session) cost more than
the check itself and do nothing for this request. Everything else about the
endpoint (OPTIONS, HEAD, other methods, errors) goes through Flask.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import quote

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    got_request_exception,
    request,
    request_finished,
    request_started,
)
from flask.blueprints import BlueprintSetupState
from werkzeug.http import parse_cookie

from auth_service import links
from auth_service.extensions import limiter
from auth_service.flows import sessions as session_flow
from auth_service.flows.sessions import Check
from auth_service.security.redirects import forwarded_page, safe_return_to

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api")

Headers: TypeAlias = list[tuple[str, str]]

# The body's encoding is part of the contract: ASCII, keys sorted (Flask's
# defaults), whatever the app's JSON provider says. One encoder, built once:
# json.dumps with options would build a new one for every answer.
_ENCODER = json.JSONEncoder(ensure_ascii=True, sort_keys=True)
UNAUTHENTICATED = _ENCODER.encode({"error": "unauthenticated"})

# Header values must be ASCII, and neither names nor addresses need be (кnown@example.com
# is a valid address): both go out as percent-encoded UTF-8. In an address every printable
# ASCII character but "%" is left as is, so an ASCII address reads the same encoded or not.
EMAIL_SAFE = "".join(chr(code) for code in range(0x21, 0x7F) if chr(code) != "%")


def _token(environ: Mapping[str, Any], cookie: str) -> str | None:
    """The bearer token, else the session cookie (its first value, as request.cookies)."""
    header = environ.get("HTTP_AUTHORIZATION", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return parse_cookie(environ.get("HTTP_COOKIE")).get(cookie)


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
            "expires_at": check.ends_at.isoformat().replace("+00:00", "Z"),
        },
    }


def _cors(environ: Mapping[str, Any], config: Mapping[str, Any]) -> Headers:
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
    """The answer to a GET: 200 with the reader and ``X-Auth-*`` headers, or 401.

    Returns the status, the JSON body and the headers besides Content-Type and
    Content-Length, read from the WSGI environ alone, so the view and FastPath
    share every line of it. Needs an app context (the database).
    """
    check = session_flow.check(_token(environ, config["SESSION_COOKIE"]))
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
    return status, body, headers + _cors(environ, config)


@bp.route("/session", methods=["GET", "OPTIONS"])
# A proxy asks from one address on behalf of every reader: a limit per IP would lock the site out.
@limiter.exempt
def session() -> Response:
    config = current_app.config
    if request.method == "OPTIONS":  # CORS preflight (e.g. a fetch with an Authorization header)
        response = Response(status=204)
        response.headers.extend(_cors(request.environ, config))
        if "Access-Control-Allow-Origin" in response.headers:
            response.headers["Access-Control-Allow-Methods"] = "GET"
            response.headers["Access-Control-Allow-Headers"] = "Authorization"
            response.headers["Access-Control-Max-Age"] = "600"
        return response
    status, body, headers = answer(request.environ, config)
    response = Response(body, status=status, mimetype="application/json")
    response.headers.extend(headers)
    return response


# --- the fast path -------------------------------------------------------------------

# The app's hooks that FastPath knows about. Before the view: the form guards act
# on request bodies, CSRF exempts GET, the view is exempt from rate limits (and a
# NUL in the query, which refuse_control_characters refuses, is left to Flask).
# After it: no remember-me cookie, no rate limit headers, no session cookie to
# write on this endpoint, and security headers that depend on the configuration
# alone, so FastPath reads them once (FastPath._hook_headers). A hook not listed
# here, added later, makes FastPath step aside rather than skip it.
KNOWN_HOOKS = frozenset({
    "auth_service.views.refuse_undecodable_forms",
    "auth_service.views.refuse_control_characters",
    "flask_wtf.csrf.CSRFProtect.init_app.<locals>.csrf_protect",
    "flask_limiter._extension.Limiter._check_request_limit",
    "flask_limiter._extension.Limiter.__inject_headers",
    "flask_limiter._extension.Limiter.__release_context",
    "flask_login.login_manager.LoginManager._update_remember_cookie",
    "auth_service.security.headers.init_app.<locals>.set_headers",
    "auth_service.views.session_cookie.write_cookie",
})


# What werkzeug writes for the view's Response (it upper-cases the reason phrase).
STATUS_LINES = {code: Response(status=code).status for code in (200, 401)}


def _qualified_name(hook: Callable[..., Any]) -> str:
    """``module.qualname`` of a hook, a bound method or a functools.partial of one."""
    function = getattr(hook, "func", hook)
    function = getattr(function, "__func__", function)
    return f"{function.__module__}.{function.__qualname__}"


class FastPath:
    """WSGI middleware: answer ``GET /api/session`` without Flask's request handling.

    It pushes an app context, calls :func:`answer`, adds the headers the app's
    after-request hooks give every answer, and writes the response as werkzeug
    would for the view's Response (same status line, headers in the same order,
    same body). Other requests, a request whose answer fails (Flask's error
    handlers reply, e.g. 503 when the database is down), and every request if a
    hook it does not know is registered, go to the app unchanged.
    """

    def __init__(self, app: Flask, wsgi_app: WSGIApplication, path: str) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.path = path
        # Worked out at the first request, when the app's setup is over: the headers
        # to add to every answer, or None when the fast path must step aside.
        self._headers: Headers | None = None
        self._ready = False

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if (environ.get("REQUEST_METHOD") != "GET" or environ.get("PATH_INFO") != self.path
                or "\x00" in environ.get("QUERY_STRING", "")):
            return self.wsgi_app(environ, start_response)
        if not self._ready:
            self._headers = self._hook_headers()
            # As after Flask's own first request: no hook may be added any more, so
            # what _hook_headers found stays true.
            self.app._got_first_request = True
            self._ready = True
        if self._headers is None:
            return self.wsgi_app(environ, start_response)
        app = self.app
        try:
            with app.app_context():
                status, body, headers = answer(environ, app.config)
        except Exception:
            log.debug("GET %s failed on the fast path; Flask answers it", self.path,
                      exc_info=True)
            return self.wsgi_app(environ, start_response)
        data = body.encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                   *headers]
        present = {name.lower() for name, _ in headers}
        headers += [(name, value) for name, value in self._headers
                    if name.lower() not in present]  # as the hooks do it: setdefault
        start_response(STATUS_LINES[status], headers)
        return [data]

    def _hook_headers(self) -> Headers | None:
        """The headers the app's after-request hooks add to an answer, or None.

        None when a hook, URL preprocessor or signal receiver FastPath does not know
        is registered, or when the known hooks do more than add headers. Hooks
        cannot be added once Flask has served a request, so the answer is kept.
        """
        app, names = self.app, (bp.name, None)
        hooks = [hook for registry in (app.before_request_funcs, app.after_request_funcs,
                                       app.teardown_request_funcs)
                 for name in names for hook in registry.get(name, ())]
        if (any(_qualified_name(hook) not in KNOWN_HOOKS for hook in hooks)
                or any(app.url_value_preprocessors.get(name) for name in names)
                or any(signal.receivers for signal in (request_started, request_finished,
                                                       got_request_exception))):
            return None
        # Run the after-request hooks on a sample answer, as Flask would.
        with app.test_request_context(self.path):
            sample = Response(UNAUTHENTICATED, status=401, mimetype="application/json")
            before = list(sample.headers.items())
            for name in names:
                for hook in reversed(app.after_request_funcs.get(name, ())):
                    sample = app.ensure_sync(hook)(sample)
        after = list(sample.headers.items())
        added = after[len(before):]
        if (sample.status_code != 401 or after[:len(before)] != before
                or any(name.lower() == "set-cookie" for name, _ in added)):
            return None
        return added


@bp.record_once
def _install_fast_path(state: BlueprintSetupState) -> None:
    path = f"{state.url_prefix or bp.url_prefix}/session"
    state.app.wsgi_app = FastPath(state.app, state.app.wsgi_app, path)  # type: ignore[method-assign]
