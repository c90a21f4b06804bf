"""The models and the Alembic migrations describe the same schema."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, func, inspect, select

from auth_service import migrate
from auth_service.extensions import db
from auth_service.flows import account as account_flow
from auth_service.models import Base, Identity, Session, User


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


def test_a_deleted_accounts_id_is_never_given_to_a_new_one(app, make_user):
    # Content sites key readers by id (X-Auth-User-Id): SQLite's default reuses the
    # highest id once its row is gone; migration 0004 stops that.
    make_user("first@example.com")
    newest = make_user("newest@example.com")
    with app.app_context():
        account_flow.delete(db.session.get(User, newest))
    assert make_user("next@example.com") > newest


def test_rebuilding_a_table_keeps_every_row_and_reference(app):
    # 0004 rebuilds `users` on SQLite; rows pointing at it must survive, and foreign
    # keys must be enforced again afterwards.
    # The rows are written with the tables as they were at 0003 (read from the database:
    # the models describe the newest schema, with columns 0003 does not have yet).
    with app.app_context():
        migrate.downgrade("0003")
        now = datetime.now(UTC).replace(tzinfo=None)
        with db.engine.begin() as connection:
            tables = MetaData()
            tables.reflect(connection, only=["users", "sessions", "identities"])
            user_id = connection.execute(tables.tables["users"].insert().values(
                email="kept@example.com", is_admin=False, created_at=now,
                updated_at=now)).inserted_primary_key[0]
            connection.execute(tables.tables["sessions"].insert().values(
                id="s" * 32, token_hash="h" * 64, user_id=user_id, created_at=now,
                last_seen_at=now, idle_expires_at=now, expires_at=now, method="password"))
            connection.execute(tables.tables["identities"].insert().values(
                user_id=user_id, provider="github", subject="7", email_verified=False,
                created_at=now, last_used_at=now))
        migrate.upgrade()
        assert migrate.current_revision() == migrate.head_revision()
        counts = {model.__name__: db.session.scalar(select(func.count()).select_from(model))
                  for model in (User, Session, Identity)}
        assert counts == {"User": 1, "Session": 1, "Identity": 1}
        db.session.delete(db.session.get(User, user_id))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Session)) == 0  # cascaded
        assert db.session.scalar(select(func.count()).select_from(Identity)) == 0
