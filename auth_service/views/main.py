"""The front door and the health checks."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from flask import Blueprint, current_app, jsonify, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from auth_service import migrate
from auth_service.extensions import db, limiter
from auth_service.mail import outbox

log = logging.getLogger(__name__)
bp = Blueprint("main", __name__)


@bp.get("/")
def home() -> Response:
    return redirect(url_for("account.index" if current_user.is_authenticated else "login.login"))


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up; says nothing about the database (that is /readyz).

    X-Request-Scheme lets `auth-service doctor` see whether the proxy forwards https.
    """
    response = jsonify(status="ok")
    response.headers["X-Request-Scheme"] = request.scheme
    return response


@bp.get("/readyz")
@limiter.exempt
def readyz() -> tuple[Response, int]:
    """Ready to serve: each dependency, checked now; 503 when one fails.

    ``database`` answers; ``migrations`` at the code's head (a new release before
    its `db upgrade` would fail on the first query that needs a new column);
    ``redis`` answers, when AUTH_REDIS_URL is set (and rate limits, its one use,
    are on); ``outbox`` readable, with what waits in it. Mail waiting long means
    the worker is stuck, not that this process cannot serve, so the age is
    reported here (and by /metrics, to alert on) without failing the check: a
    balancer would take every web process out for a worker's fault.
    """
    checks: dict[str, dict[str, object]] = {
        "database": _checked(_database),
    }
    if checks["database"]["ok"]:
        checks["migrations"] = _checked(_migrations)
        checks["outbox"] = _checked(_outbox)
    if current_app.config["REDIS_URL"] and current_app.config["RATELIMIT_ENABLED"]:
        checks["redis"] = {"ok": bool(limiter.storage.check())}
    ready = all(check["ok"] for check in checks.values())
    return jsonify(status="ready" if ready else "unavailable", checks=checks), (
        200 if ready else 503)


def _checked(check: Callable[[], dict[str, object]]) -> dict[str, object]:
    """``check``'s findings with ``ok``; a database error is a failed check, never a 500."""
    try:
        found = check()
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.error("readyz: database error: %s", type(exc).__name__)
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, **found}


def _database() -> dict[str, object]:
    db.session.execute(text("SELECT 1"))
    return {}


def _migrations() -> dict[str, object]:
    current, head = migrate.current_revision(), _head_revision()
    return {"ok": current == head, "current": current, "head": head}


def _outbox() -> dict[str, object]:
    backlog = outbox.backlog()
    return {"pending": backlog.count, "oldest_pending_seconds": round(backlog.oldest_age, 1)}


@functools.cache
def _head_revision() -> str | None:
    """The migrations' head, read from the folder once: it cannot change under a process."""
    return migrate.head_revision()
