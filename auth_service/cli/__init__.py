"""The ``auth-service`` console script: our Click commands, and nothing else.

Commands run inside an app context built by ``create_app`` from the AUTH_*
environment (Flask's ``with_appcontext``, through the ScriptInfo made here); a
configuration mistake is one line on stderr and exit status 1. A plain Click
group rather than Flask's FlaskGroup, whose ``--env-file`` (python-dotenv),
``--app`` and ``--debug`` options and the commands other packages plug into
``flask`` (Flask-Limiter's ``limiter``) are not this service's.
"""

from __future__ import annotations

import sys

import click
from flask.cli import ScriptInfo
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError

from auth_service import create_app
from auth_service.cli import audit, clients, db, doctor, keys, mail, run, stats, users, worker
from auth_service.config import ConfigError
from auth_service.errors import FlowError


def _create_app():
    return create_app()


class AuthGroup(click.Group):
    """Our commands, each given the app; a reader-facing error becomes Click's one-line
    "Error: …" and exit status 1."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: object) -> click.Context:
        # What with_appcontext loads the app from (a test runner brings its own).
        extra.setdefault("obj", ScriptInfo(create_app=_create_app, set_debug_flag=False,
                                           load_dotenv_defaults=False))
        return super().make_context(info_name, args, parent, **extra)

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
    help="Run and manage the auth_service sign-in service.\n\n"
         "Every command reads its settings from the AUTH_* environment (README: "
         "Configuration); `auth-service COMMAND --help` shows an example.",
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
