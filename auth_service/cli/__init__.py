"""The ``auth-service`` console script: Click commands on Flask's CLI support.

Commands run inside an app context built by ``create_app`` from the AUTH_*
environment; a configuration mistake is one line on stderr and exit status 1.
"""

from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError

from auth_service import create_app
from auth_service.cli import audit, clients, db, doctor, keys, mail, run, stats, users, worker
from auth_service.config import ConfigError
from auth_service.errors import FlowError


def _create_app():
    return create_app()


class AuthGroup(FlaskGroup):
    """Turns a reader-facing error into Click's one-line "Error: …" and exit status 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except FlowError as exc:
            raise click.ClickException(exc.message) from None
        except (OperationalError, ProgrammingError) as exc:
            if "no such table" in str(exc) or "does not exist" in str(exc):
                raise click.ClickException(
                    "the database is not migrated: run `auth-service db upgrade`") from None
            raise click.ClickException(f"database error: {type(exc.orig).__name__}") from None
        except SQLAlchemyError as exc:
            raise click.ClickException(f"database error: {type(exc).__name__}") from None


cli = AuthGroup(
    name="auth-service",
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
    help="Run and manage the auth_service sign-in service.",
)
for command in (run.run, run.serve, db.db, worker.worker, users.users, audit.audit, stats.stats,
                mail.mail, doctor.doctor, clients.clients, keys.keys):
    cli.add_command(command)


def main() -> None:
    """Entry point of the console script."""
    try:
        cli.main(prog_name="auth-service")
    except ConfigError as exc:
        click.echo(f"auth-service: configuration error: {exc}", err=True)
        sys.exit(1)
