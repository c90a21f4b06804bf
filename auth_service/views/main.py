"""The front door and the health checks."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from auth_service.extensions import db

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
def readyz() -> tuple[Response, int]:
    """Ready to serve: the database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ready", database="ok"), 200
