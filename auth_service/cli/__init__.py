"""The ``auth-service`` console script: Click commands on Flask's CLI support.

Commands run inside an app context built by ``create_app`` from the AUTH_*
environment; a configuration mistake is one line on stderr and exit status 1.
"""

from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup

from auth_service import create_app
from auth_service.cli import db, run, worker
from auth_service.config import ConfigError


def _create_app():
    return create_app()


cli = FlaskGroup(
    name="auth-service",
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
    help="Run and manage the auth_service sign-in service.",
)
cli.add_command(run.run)
cli.add_command(db.db)
cli.add_command(worker.worker)


def main() -> None:
    """Entry point of the console script."""
    try:
        cli.main(prog_name="auth-service")
    except ConfigError as exc:
        click.echo(f"auth-service: configuration error: {exc}", err=True)
        sys.exit(1)
