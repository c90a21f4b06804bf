"""``auth-service run``: the development server, with the outbox worker in the same process."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.serving import run_simple

from auth_service import migrate
from auth_service.mail import worker
from auth_service.security.redact import RedactingRequestHandler


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-worker", is_flag=True,
              help="Don't send the outbox from this process (run `auth-service worker`).")
@with_appcontext
def run(host: str, port: int, no_worker: bool) -> None:
    """Serve the service with Flask's development server.

    With console mail (the development default) the outbox is sent from this
    process too, so confirmation and reset links appear in this terminal.
    For production use gunicorn: see the README.

    Example: auth-service run --port 5000
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if migrate.current_revision() != migrate.head_revision():
        raise click.ClickException("the database is not migrated: run `auth-service db upgrade`")
    if app.config["MAIL_WORKER_INLINE"] and not no_worker:
        worker.start_background(app)
        click.echo(f"Mail: {app.config['MAIL_BACKEND']}, sent from this process.")
    click.echo(f"Serving {app.config['SITE_NAME']} on http://{host}:{port}/ (Ctrl+C to stop)")
    # Flask's app.run() refuses to start inside its own CLI; werkzeug's server is what it wraps.
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False,
               request_handler=RedactingRequestHandler)
