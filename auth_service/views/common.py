"""Small helpers every view uses: who is asking, where to send them, how to show a form."""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from auth_service import i18n
from auth_service.errors import InvalidInput
from auth_service.flows.audit import Client
from auth_service.security.redirects import safe_return_to


def client() -> Client:
    """The caller's address and user agent (for the audit log) and the page's language."""
    return Client(ip=request.remote_addr, user_agent=request.headers.get("User-Agent"),
                  language=i18n.current())


# Browser proofs (flows/address_proof.py) this browser was given, newest last, in Flask's
# signed cookie: a few, for a browser that registered more than one account.
PROOFS_KEY = "auth_proofs"
MAX_PROOFS = 3


def keep_proof(proof: str) -> None:
    """Remember a browser proof in this browser."""
    held = [p for p in session.get(PROOFS_KEY, []) if isinstance(p, str)]
    session[PROOFS_KEY] = [*held, proof][-MAX_PROOFS:]


def held_proofs() -> list[str]:
    """The browser proofs this browser holds."""
    held = session.get(PROOFS_KEY, [])
    return [p for p in held if isinstance(p, str)] if isinstance(held, list) else []


def trusted_return_to(value: str | None) -> str | None:
    """``value`` as an absolute URL if its origin is trusted, else None."""
    config = current_app.config
    return safe_return_to(value, base_url=config["BASE_URL"], trusted=config["TRUSTED_ORIGINS"])


def go_back(value: str | None) -> Response:
    """303 to a trusted ``return_to``, or to the account page."""
    return redirect(trusted_return_to(value) or url_for("account.index"), code=303)


def attach(form: FlaskForm, error: InvalidInput) -> None:
    """Show a flow's InvalidInput next to the field it is about."""
    field = getattr(form, error.field or "", None)
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def show(template: str, form: FlaskForm | None = None, *, status: int | None = None,
         **context: Any) -> tuple[str, int]:
    """Render a page; a POST whose form has errors answers 400."""
    if status is None:
        status = 400 if form is not None and request.method == "POST" and form.errors else 200
    return render_template(template, form=form, **context), status
