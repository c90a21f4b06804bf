"""``auth-service worker``: send the mail outbox."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from auth_service.mail import worker as outbox_worker


@click.command("worker")
@click.option("--once", is_flag=True, help="Send what is due now, then exit (for cron and tests).")
@click.option("--interval", default=2.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="Seconds between polls of the outbox.")
@click.option("--heartbeat", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Touch this file after every pass that reached the database (for a "
                   "container's health check: a stale file means a stuck worker).")
@with_appcontext
def worker(once: bool, interval: float, heartbeat: Path | None) -> None:
    """Send pending emails from the outbox, and the back-channel logouts owed to
    OpenID Connect clients, retrying failures with backoff.

    Several workers may share one PostgreSQL outbox: rows are claimed with
    SKIP LOCKED, so no email is sent twice.

    Example: auth-service worker --once
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if once:
        for name, report in outbox_worker.drain_all(app).items():
            if name == "mail" or report.handled:  # the mail line always, others when busy
                prefix = "" if name == "mail" else f"{name}: "
                click.echo(f"{prefix}sent {report.sent}, retrying {report.retrying}, "
                           f"failed {report.failed}")
        return
    click.echo("Outbox worker running (Ctrl+C to stop).")
    try:
        outbox_worker.run_forever(app, interval, heartbeat=heartbeat)
    except KeyboardInterrupt:
        click.echo("Stopped.")
