"""Alembic, pointed at the service's database and its migrations folder."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app

from auth_service import resources
from auth_service.extensions import db


def alembic_config() -> Config:
    """An Alembic Config for the current app (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(resources.folder("migrations")))
    # ConfigParser treats % as interpolation; URLs may contain it (encoded passwords).
    url = current_app.config["SQLALCHEMY_DATABASE_URI"].replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    _run(command.upgrade, revision)


def downgrade(revision: str) -> None:
    """Revert migrations down to ``revision``."""
    _run(command.downgrade, revision)


def _run(step: Callable[[Config, str], None], revision: str) -> None:
    """Run an Alembic command in one transaction; on SQLite, with foreign keys off.

    SQLite alters most things by rebuilding the table (Alembic's batch mode), and
    dropping the old table with foreign keys on would first delete its rows,
    cascading into every table that references it. The switch only works outside
    a transaction, hence before it; whether every reference still holds is
    checked before the commit.
    """
    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                config = alembic_config()
                config.attributes["connection"] = connection
                step(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left broken references: {broken[:5]}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def current_revision() -> str | None:
    """The revision the database is at (None: never migrated)."""
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision in the migrations folder."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
