"""``auth-service audit``: read the audit log."""

from __future__ import annotations

import re
from datetime import timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from auth_service import clock
from auth_service.cli.output import details, json_line, table, when
from auth_service.extensions import db
from auth_service.flows import admin, personal_data
from auth_service.models import AuditEvent, User

_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: str) -> timedelta:
    """``90m``, ``24h``, ``7d``, ``2w`` → timedelta; raises click.BadParameter otherwise."""
    match = _DURATION.match(value.strip())
    if not match:
        raise click.BadParameter("use a number and a unit: 30m, 24h, 7d, 2w")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@click.group("audit", invoke_without_command=True)
@click.option("--user", "email", help="Only this account's events.")
@click.option("--type", "event_type",
              help="Only events of this type, or a prefix ending in '.' (login.).")
@click.option("--since", help="Only the last DURATION (30m, 24h, 7d).")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
@click.pass_context
@with_appcontext
def audit(ctx: click.Context, email: str | None, event_type: str | None, since: str | None,
          limit: int, as_json: bool) -> None:
    """Show security events, newest first; `audit export` writes them all out.

    Example: auth-service audit --type login.failed --since 24h
    """
    if ctx.invoked_subcommand is not None:
        return
    statement = (select(AuditEvent, User.email).outerjoin(User, User.id == AuditEvent.user_id)
                 .order_by(AuditEvent.id.desc()).limit(limit))
    if email:
        statement = statement.where(AuditEvent.user_id == admin.get_account(email).id)
    if event_type:
        statement = statement.where(
            AuditEvent.event.startswith(event_type) if event_type.endswith(".")
            else AuditEvent.event == event_type)
    if since:
        statement = statement.where(AuditEvent.created_at >= clock.now() - parse_duration(since))
    rows = db.session.execute(statement).all()
    if as_json:
        for event, address in rows:
            json_line({**personal_data.event_dict(event), "email": address})
        return
    table(["WHEN", "EVENT", "ACCOUNT", "IP", "DETAILS"],
          [[when(e.created_at), e.event, address, e.ip, details(e.details)]
           for e, address in rows])


# Rows read from the database at a time: an export of months holds one batch in memory.
EXPORT_BATCH = 1000


@audit.command("export")
@click.option("--since", required=True, help="Events of the last DURATION (30m, 24h, 7d, 2w).")
@click.option("--format", "output_format", type=click.Choice(["jsonl"]), default="jsonl",
              show_default=True, help="JSON lines: one event a line, oldest first.")
@with_appcontext
def export(since: str, output_format: str) -> None:
    """Write every security event since DURATION to stdout, oldest first, for an archive or a SIEM.

    Each line holds the event's id, time, type, account id and address (as the
    account has it now; none once deleted), IP, user agent and details.

    Example: auth-service audit export --since 7d --format jsonl > audit.jsonl
    """
    start = clock.now() - parse_duration(since)
    statement = (select(AuditEvent, User.email).outerjoin(User, User.id == AuditEvent.user_id)
                 .where(AuditEvent.created_at >= start).order_by(AuditEvent.id)
                 .execution_options(yield_per=EXPORT_BATCH))
    for event, address in db.session.execute(statement):
        json_line({**personal_data.event_dict(event), "email": address})
