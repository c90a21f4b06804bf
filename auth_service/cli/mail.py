"""``auth-service mail …``: look at the outbox, retry failures, test the SMTP set-up."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select, update

from auth_service import clock
from auth_service.cli.output import json_line, table, when
from auth_service.extensions import db
from auth_service.flows.addresses import normalize_email
from auth_service.mail import transport
from auth_service.models import OutboxMessage
from auth_service.models.outbox import FAILED, PENDING


@click.group("mail")
def mail() -> None:
    """The mail outbox and the SMTP connection.

    Example: auth-service mail outbox --failed
    """


@mail.command("outbox")
@click.option("--failed", is_flag=True, help="Only messages that gave up.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
@with_appcontext
def outbox(failed: bool, limit: int, as_json: bool) -> None:
    """List outbox messages, newest first (pending and failed unless --failed).

    Example: auth-service mail outbox
    """
    statement = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    statement = statement.where(OutboxMessage.status == FAILED) if failed else statement.where(
        OutboxMessage.status.in_([PENDING, FAILED]))
    messages = db.session.scalars(statement).all()
    if as_json:
        for m in messages:
            json_line({"id": m.id, "to": m.to_address, "template": m.template,
                       "status": m.status, "attempts": m.attempts, "last_error": m.last_error,
                       "created_at": m.created_at, "next_attempt_at": m.next_attempt_at})
        return
    table(["ID", "TO", "TEMPLATE", "STATUS", "TRIES", "NEXT TRY", "LAST ERROR"],
          [[m.id, m.to_address, m.template, m.status, m.attempts,
            when(m.next_attempt_at) if m.status == PENDING else "-", m.last_error]
           for m in messages])


@mail.command("retry")
@click.argument("message_id", required=False, type=int)
@click.option("--all-failed", is_flag=True, help="Every failed message.")
@with_appcontext
def retry(message_id: int | None, all_failed: bool) -> None:
    """Put failed messages back in the queue, to be sent at the worker's next pass.

    Example: auth-service mail retry --all-failed
    """
    if (message_id is None) == (not all_failed):
        raise click.UsageError("give a message ID or --all-failed (one of them)")
    statement = update(OutboxMessage).where(OutboxMessage.status == FAILED)
    if message_id is not None:
        statement = statement.where(OutboxMessage.id == message_id)
    result = db.session.execute(statement.values(status=PENDING, attempts=0,
                                                 next_attempt_at=clock.now()))
    db.session.commit()
    if message_id is not None and result.rowcount == 0:
        raise click.ClickException(f"no failed message with ID {message_id}")
    click.echo(f"{result.rowcount} message{'s' if result.rowcount != 1 else ''} queued again.")


@mail.command("test")
@click.argument("address")
@with_appcontext
def test(address: str) -> None:
    """Send a test email now, straight through the configured server, and report the outcome.

    Example: auth-service mail test you@example.com
    """
    config = current_app.config
    address = normalize_email(address)  # refused with one line, as everywhere else
    message = OutboxMessage(template="test", to_address=address,
                            subject=f"{config['SITE_NAME']}: test email",
                            body_text="This is a test email from auth-service. It arrived.",
                            body_html="<p>This is a test email from auth-service. It arrived.</p>")
    where = (f"{config['MAIL_SERVER']}:{config['MAIL_PORT']}"
             if config["MAIL_BACKEND"] == "smtp" else "the console")
    connection = transport.open_connection()
    try:
        if connection is None:
            transport.send(message, None)
        else:
            with connection as live:
                transport.send(message, live)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"sending through {where} failed: "
                                   f"{type(exc).__name__}: {exc}") from None
    click.echo(f"Sent a test email to {address} through {where}: accepted.")
