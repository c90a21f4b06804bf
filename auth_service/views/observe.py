"""What every request leaves behind for the operators: its latency, counted per route.

The first before-request hook notes the time; the last after-request hook (it
runs for error pages too) counts the request under its endpoint's name, never
its path: ``/confirm/<token>`` is one route however many tokens are opened.
``GET /api/session`` is counted by its own app (views/session_check.py).
"""

from __future__ import annotations

from time import perf_counter

from flask import Flask, Response, g, request

from auth_service import metrics

UNMATCHED = "unmatched"


def init_app(app: Flask) -> None:
    """Time every request from the first hook to the last."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    # After-request hooks run last-registered first: registered first, this runs last.
    app.after_request_funcs.setdefault(None, []).insert(0, _done)


def _start() -> None:
    g.observe_started = perf_counter()


def route() -> str:
    """The endpoint's name (``login.login``), or ``unmatched`` (a 404, a 405)."""
    rule = request.url_rule
    return rule.endpoint if rule is not None else UNMATCHED


def _done(response: Response) -> Response:
    started = g.get("observe_started")
    if started is not None:
        metrics.request_done(route(), perf_counter() - started)
    return response
