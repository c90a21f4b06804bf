"""On SQLite, account ids are never reused (AUTOINCREMENT on users.id).

Without it SQLite gives a new row the highest id + 1, so deleting the newest
account handed its id to the next one, and a content site keying data by
X-Auth-User-Id would show the old reader's data to the new one. PostgreSQL's
sequence never reuses an id: nothing to do there.

From here on an id is never reused; one freed before this migration (the highest
at the time it was deleted) still can be, once. SQLite cannot add AUTOINCREMENT in place; the table is rebuilt (Alembic's batch
mode), with foreign keys switched off by auth_service.migrate for the run, so
dropping the old table does not cascade into sessions and identities.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("users", recreate="always",
                              table_kwargs={"sqlite_autoincrement": True}):
        pass


def downgrade() -> None:
    # AUTOINCREMENT changes nothing the older code reads: the table stays as it is.
    pass
