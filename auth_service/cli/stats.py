"""``auth-service stats``: the numbers an operator glances at."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from auth_service import clock
from auth_service.cli.output import json_document
from auth_service.extensions import db
from auth_service.models import AuditEvent, Identity, OutboxMessage, Session, User


def collect() -> dict[str, dict[str, int]]:
    """Counts of accounts, sessions, outbox and the last day's sign-ins."""
    now = clock.now()
    count = lambda statement: db.session.scalar(statement) or 0  # noqa: E731
    users = select(func.count()).select_from(User)
    by_method = dict(db.session.execute(
        select(Identity.provider, func.count(func.distinct(Identity.user_id)))
        .group_by(Identity.provider)).all())
    by_method["password"] = count(users.where(User.password_hash.is_not(None)))
    day_ago = now - timedelta(hours=24)
    events = select(func.count()).select_from(AuditEvent).where(AuditEvent.created_at >= day_ago)
    return {
        "accounts": {
            "total": count(users),
            "confirmed": count(users.where(User.email_confirmed_at.is_not(None))),
            "disabled": count(users.where(User.disabled_at.is_not(None))),
            "admins": count(users.where(User.is_admin.is_(True))),
        },
        "accounts_by_sign_in_method": dict(sorted(by_method.items())),
        "sessions": {"active": count(select(func.count()).select_from(Session).where(
            Session.revoked_at.is_(None), Session.expires_at > now,
            Session.idle_expires_at > now))},
        "outbox": {status: count(select(func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.status == status))
                   for status in ("pending", "failed", "sent")},
        "last_24h": {
            "sign_ins": count(events.where(AuditEvent.event == "login.succeeded")),
            "sign_in_failures": count(events.where(AuditEvent.event == "login.failed")),
            "registrations": count(events.where(AuditEvent.event == "registration.created")),
        },
    }


@click.command("stats")
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
@with_appcontext
def stats(as_json: bool) -> None:
    """Accounts, active sessions, the mail outbox, and the last 24 hours' sign-ins.

    Example: auth-service stats
    """
    numbers = collect()
    if as_json:
        json_document(numbers)
        return
    for section, values in numbers.items():
        click.echo(section.replace("_", " ").capitalize())
        for key, value in values.items():
            click.echo(f"  {key.replace('_', ' '):<20} {value}")
