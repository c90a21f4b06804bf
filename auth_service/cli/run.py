"""``auth-service run`` (the development server) and ``serve`` (gunicorn, for production).

Both open their port first (cli/listening.bind), so a port in use is one line
before anything says it is serving; both check the database is migrated. Unless
AUTH_BASE_URL is set, the links in emails follow the port asked for.
"""

from __future__ import annotations

import os
import sys

import click
from flask import Flask
from flask.cli import ScriptInfo
from werkzeug.serving import make_server

from auth_service import migrate, resources
from auth_service.cli.listening import bind
from auth_service.mail import worker
from auth_service.security.redact import RedactingRequestHandler

WILDCARDS = {"0.0.0.0", "::", ""}  # noqa: S104 - what an operator may ask to listen on


def _links_follow(host: str, port: int) -> None:
    """AUTH_BASE_URL, when unset, becomes this server's own URL (before the app is made)."""
    if os.environ.get("AUTH_BASE_URL", "").strip():
        return
    name = "127.0.0.1" if host in WILDCARDS else host
    os.environ["AUTH_BASE_URL"] = f"http://{f'[{name}]' if ':' in name else name}:{port}"


def _migrated_app(ctx: click.Context) -> Flask:
    app = ctx.ensure_object(ScriptInfo).load_app()
    with app.app_context():
        if migrate.current_revision() != migrate.head_revision():
            raise click.ClickException(
                "the database is not migrated: run `auth-service db upgrade`")
    return app


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-worker", is_flag=True,
              help="Don't send the outbox from this process (run `auth-service worker`).")
@click.pass_context
def run(ctx: click.Context, host: str, port: int, no_worker: bool) -> None:
    """Serve the service with Flask's development server.

    With console mail (the development default) the outbox is sent from this
    process too, so confirmation and reset links appear in this terminal.
    For production use `auth-service serve`.

    Example: auth-service run --port 5000
    """
    _links_follow(host, port)
    app = _migrated_app(ctx)
    sock = bind(host, port)
    # Flask's app.run() refuses to start inside its own CLI; werkzeug's server is what it wraps.
    server = make_server(host, port, app, threaded=True,
                         request_handler=RedactingRequestHandler, fd=sock.fileno())
    if app.config["MAIL_WORKER_INLINE"] and not no_worker:
        worker.start_background(app)
        click.echo(f"Mail: {app.config['MAIL_BACKEND']}, sent from this process.")
    click.echo(f"Serving {app.config['SITE_NAME']} on http://{host}:{port}/ "
               f"(links in emails: {app.config['BASE_URL']}; Ctrl+C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on: only the reverse proxy should reach it.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", type=click.IntRange(1, 256),
              help="gunicorn workers  [default: WEB_CONCURRENCY, else CPUs + 1]")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int | None) -> None:
    """Serve the service with gunicorn and the production settings (gunicorn.conf.py).

    This process becomes gunicorn. Run `auth-service worker` beside it to send
    the mail, and put a reverse proxy with TLS in front (examples/proxies/).

    Example: auth-service serve --port 8000
    """
    _links_follow(host, port)
    _migrated_app(ctx)
    sock = bind(host, port)
    sock.set_inheritable(True)
    settings = resources.file("gunicorn.conf.py")
    command = [sys.executable, "-m", "gunicorn", "--config", str(settings),
               "--bind", f"fd://{sock.fileno()}"]
    if workers:
        command += ["--workers", str(workers)]
    sys.stdout.flush()
    os.execv(sys.executable, [*command, "auth_service.wsgi:app"])  # noqa: S606 - our interpreter
