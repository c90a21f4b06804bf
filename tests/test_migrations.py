"""The models and the Alembic migrations describe the same schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from auth_service import migrate
from auth_service.extensions import db
from auth_service.models import Base


def test_models_match_migrations(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_database_is_at_head(app):
    with app.app_context():
        assert migrate.current_revision() == migrate.head_revision()


def test_downgrade_to_base_and_back(app):
    with app.app_context():
        migrate.downgrade("base")
        tables = set(inspect(db.engine).get_table_names())
        assert tables <= {"alembic_version"}
        migrate.upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "mail_outbox", "audit_events"} <= tables
        assert migrate.current_revision() == migrate.head_revision()
