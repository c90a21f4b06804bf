"""Every failure becomes a readable page (or JSON for API paths), never a traceback.

One handler per kind: HTTP errors, CSRF failures, domain errors from flows,
database outages (503), and anything unexpected (500, logged with its trace).
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from auth_service.errors import FlowError, ReauthRequired
from auth_service.extensions import db, limiter

log = logging.getLogger(__name__)

MESSAGES = {
    400: _l("The request could not be understood. Go back and try again."),
    403: _l("You are not allowed to do that."),
    404: _l("There is no page at this address."),
    405: _l("That action is not allowed on this page."),
    413: _l("What you sent is too large."),
    429: _l("Too many attempts. Wait a little and try again."),
    500: _l("Something went wrong on our side. Please try again in a moment."),
    503: _l("The service is temporarily unavailable. Please try again in a moment."),
}
JSON_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics", "/oauth/", "/.well-known/")
# The provider's pages that readers' browsers open: errors there are pages too.
HTML_PATHS = ("/oauth/authorize", "/oauth/logout")


def _wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES) and request.path not in HTML_PATHS


def render_error(status: int, message: str, code: str | None = None) -> tuple[Response | str, int]:
    """The error page (or JSON body) for ``status``."""
    if _wants_json():
        return jsonify(error=code or str(status), message=message), status
    return render_template("errors/error.html", status=status, message=message), status


def _retry_after() -> int:
    """Seconds until the limit that refused this request lets it through again (at least 1)."""
    try:
        limit = limiter.current_limit
        reset_at = limit.reset_at if limit is not None else None
    except Exception:  # the storage's own errors: the 429 stands regardless
        reset_at = None
    if reset_at is None:
        return 60
    return max(1, int(reset_at - time.time()) + 1)


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response | str, int] | Response:
        status = exc.code or 500
        # Our own abort(400, "…") messages are for readers; Flask-Limiter's ("10 per
        # 1 minute") and werkzeug's defaults are not, so those get ours.
        custom = status != 429 and exc.description != type(exc).description
        message = (exc.description if custom else MESSAGES.get(status)) or "Error"
        body, code = render_error(status, message)
        response = app.make_response((body, code))
        # Keep what the exception carries, e.g. Retry-After on 429, Allow on 405.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        if status == 429 and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = str(_retry_after())
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[Response | str, int]:
        return render_error(
            400,
            _l("This form has expired or did not come from this site. "
               "Go back, reload the page and try again."),
            "csrf",
        )

    @app.errorhandler(ReauthRequired)
    def reauth_required(exc: ReauthRequired) -> Response:
        """Prove it's you first, then carry on with what asked (/account/reauth)."""
        return redirect(url_for("account.reauth", next=exc.then), code=303)

    @app.errorhandler(FlowError)
    def flow_error(exc: FlowError) -> tuple[Response | str, int]:
        return render_error(exc.status, exc.message, exc.code)

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def database_down(exc: Exception) -> tuple[Response | str, int]:
        db.session.rollback()
        log.error("database error: %s", type(exc).__name__)
        return render_error(503, MESSAGES[503], "unavailable")

    @app.errorhandler(InternalServerError)
    def internal_error(exc: InternalServerError) -> tuple[Response | str, int]:
        return render_error(500, MESSAGES[500], "internal")
