"""``auth-service db``: schema migrations (Alembic)."""

from __future__ import annotations

import click
from alembic import command
from flask.cli import with_appcontext

from auth_service import migrate


@click.group("db")
def db() -> None:
    """Database schema migrations.

    Example: auth-service db upgrade
    """


@db.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: the newest).

    Example: auth-service db upgrade
    """
    migrate.upgrade(revision)
    click.echo(f"Database at {migrate.current_revision()}.")


@db.command("downgrade")
@click.argument("revision")
@with_appcontext
def downgrade(revision: str) -> None:
    """Revert the database to REVISION (e.g. -1, or base to empty it).

    Example: auth-service db downgrade -1
    """
    migrate.downgrade(revision)
    click.echo(f"Database at {migrate.current_revision() or 'base'}.")


@db.command("current")
@with_appcontext
def current() -> None:
    """Show the database's revision and whether it is the newest.

    Example: auth-service db current
    """
    now, head = migrate.current_revision(), migrate.head_revision()
    state = "up to date" if now == head else f"behind: head is {head}"
    click.echo(f"{now or 'base (not migrated)'} ({state})")


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the change does.")
@with_appcontext
def revision(message: str) -> None:
    """For developers: write a new migration from the difference between models and database.

    Example: auth-service db revision -m "add a column"
    """
    command.revision(migrate.alembic_config(), message=message, autogenerate=True)
