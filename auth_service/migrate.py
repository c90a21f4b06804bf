"""Alembic, pointed at the service's database and its migrations folder."""

from __future__ import annotations

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
    with db.engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(revision: str) -> None:
    """Revert migrations down to ``revision``."""
    with db.engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision() -> str | None:
    """The revision the database is at (None: never migrated)."""
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision in the migrations folder."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
