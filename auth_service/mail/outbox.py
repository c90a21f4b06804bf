"""Write an email into the outbox, in the caller's transaction.

Nothing is sent here. The row commits (or rolls back) with the change that
caused it, so a registration never half-happens and an SMTP outage loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale, lazy_ngettext
from flask_babel.speaklater import LazyString
from sqlalchemy import func, select

from auth_service import clock, i18n
from auth_service.extensions import db
from auth_service.models import OutboxMessage
from auth_service.models.outbox import PENDING


def expires_in(seconds: int) -> LazyString:
    """A link's lifetime in words for an email, never overstated: "48 hours", "30 minutes".

    Lazy: it is put into words in the language the email is rendered in.
    """
    if seconds >= 2 * 3600:
        return lazy_ngettext("%(num)d hour", "%(num)d hours", seconds // 3600)
    if seconds >= 60:
        return lazy_ngettext("%(num)d minute", "%(num)d minutes", seconds // 60)
    return lazy_ngettext("%(num)d second", "%(num)d seconds", seconds)


def enqueue(template: str, to: str, *, language: str | None = None,
            **context: Any) -> OutboxMessage:
    """Render ``templates/email/<template>/`` and add it to the outbox (no commit)."""
    message = render(template, to, language=language, **context)
    db.session.add(message)
    return message


def render(template: str, to: str, *, language: str | None = None,
           **context: Any) -> OutboxMessage:
    """Render an email without queueing it.

    ``template`` is ``<flow>/<variant>``; the folder holds ``subject.txt``,
    ``body.txt`` and ``body.html``. Every template gets ``site_name`` and ``base_url``.
    It is written in ``language``, else in the language of the account it is
    about (``user``), else in the page's: an email about an account speaks its
    owner's language, whoever caused it. Flows also call this for addresses with
    no account and throw the result away, so both answers cost the same time.
    """
    context.setdefault("site_name", current_app.config["SITE_NAME"])
    context.setdefault("base_url", current_app.config["BASE_URL"])
    user = context.get("user")
    language = language or getattr(user, "language", None) or i18n.current()
    folder = f"email/{template}"
    with force_locale(language):
        subject = " ".join(render_template(f"{folder}/subject.txt", **context).split())
        return OutboxMessage(
            template=template,
            to_address=to,
            subject=subject,
            body_text=render_template(f"{folder}/body.txt", **context),
            body_html=render_template(f"{folder}/body.html", **context),
        )


@dataclass(frozen=True)
class Backlog:
    """The mail still to send: how many, and the seconds since the oldest was queued."""

    count: int
    oldest_age: float


def backlog() -> Backlog:
    """What waits in the outbox now, for /metrics and /readyz; a read, no commit."""
    count, oldest = db.session.execute(
        select(func.count(), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.status == PENDING)).one()
    if oldest is None:
        return Backlog(0, 0.0)
    age = (clock.now() - clock.as_utc(oldest)).total_seconds()
    return Backlog(int(count), max(0.0, age))
