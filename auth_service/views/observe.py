"""What every request leaves behind for the operators: its latency per route, its log line.

The first before-request hook notes the time and the request id; the last
after-request hook (it runs for error pages too) counts the request under its
endpoint's name, never its path (``/confirm/<token>`` is one route however many
tokens are opened), writes the request's line when logs are JSON
(security/logs.py) and echoes the id in ``X-Request-Id``.

The id is the one a trusted proxy sent in X-Request-Id (so the proxy's log and
ours name the request alike), else a new one; anyone else's is ignored, since
it could forge a line that seems to belong to another request. ``GET
/api/session`` is counted by its own app (views/session_check.py) and logs no
line; its HEAD and OPTIONS here are timed but, to answer as the GET does, carry
no id and log no line either.
"""

from __future__ import annotations

import logging
import re
import secrets
from time import perf_counter

from flask import Flask, Response, current_app, g, request
from sqlalchemy import inspect

from auth_service import metrics
from auth_service.security.logs import CONTEXT_KEY
from auth_service.security.proxies import from_trusted_proxy

log = logging.getLogger("auth_service.request")
UNMATCHED = "unmatched"
HEADER = "X-Request-Id"
_PLAIN_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


def init_app(app: Flask) -> None:
    """Time every request from the first hook to the last."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    # After-request hooks run last-registered first: registered first, this runs last.
    app.after_request_funcs.setdefault(None, []).insert(0, _done)


def request_id() -> str:
    """The trusted proxy's X-Request-Id if it is a plain one, else a new random id."""
    sent = request.headers.get(HEADER, "")
    if sent and from_trusted_proxy(request.environ) and _PLAIN_ID.fullmatch(sent):
        return sent
    return secrets.token_hex(12)


def route() -> str:
    """The endpoint's name (``login.login``), or ``unmatched`` (a 404, a 405)."""
    rule = request.url_rule
    return rule.endpoint if rule is not None else UNMATCHED


def _user_id() -> int | None:
    """The signed-in account's id if this request loaded it; never a query of its own."""
    user = g.get("_login_user")
    state = inspect(user, raiseerr=False) if user is not None else None
    if state is None or not state.identity:
        return None
    return state.identity[0]


def _start() -> None:
    g.observe_started = perf_counter()
    g.setdefault(CONTEXT_KEY, {})["request_id"] = request_id()
    g.log_context["route"] = route()


def _done(response: Response) -> Response:
    started = g.get("observe_started")
    if started is None:  # a response made before the first hook (a failed app context)
        return response
    seconds = perf_counter() - started
    name = route()
    metrics.request_done(name, seconds)
    context = g.get(CONTEXT_KEY, {})
    context["user_id"] = _user_id()
    if name == metrics.SESSION_CHECK_ROUTE:
        # /api/session's other methods answer as its GET does, to the byte: no id, no line.
        return response
    response.headers[HEADER] = context.get("request_id", "")
    if current_app.config["LOG_FORMAT"] == "json":
        log.info("%s %s %s", request.method, request.path, response.status_code, extra={
            "event": "request", "method": request.method, "path": request.path,
            "status": response.status_code, "latency_ms": round(seconds * 1000, 2)})
    return response
