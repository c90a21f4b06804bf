"""The console script's first commands: db, worker, run."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from auth_service.models import OutboxMessage

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations" / "versions"


def test_db_current_and_upgrade(runner):
    result = runner.invoke(["db", "current"])
    assert result.exit_code == 0
    head = sorted(p.name[:4] for p in MIGRATIONS.glob("*.py"))[-1]
    assert result.output.strip() == f"{head} (up to date)"
    result = runner.invoke(["db", "upgrade"])
    assert result.exit_code == 0
    assert result.output.strip() == f"Database at {head}."


def test_db_downgrade_and_upgrade(runner):
    assert runner.invoke(["db", "downgrade", "base"]).output.strip() == "Database at base."
    assert "not migrated" in runner.invoke(["db", "current"]).output
    assert runner.invoke(["db", "upgrade"]).exit_code == 0


def test_worker_once_sends_the_outbox(browser, runner, mailbox, db_session):
    browser.submit("/register", {"email": "cli@example.com",
                                 "password": "correct horse battery staple"})
    result = runner.invoke(["worker", "--once"])
    assert result.exit_code == 0
    assert result.output.strip() == "sent 1, retrying 0, failed 0"
    assert mailbox.subjects("cli@example.com") == [
        "Confirm your email address for Red Africa Travel"]
    assert db_session.scalar(select(OutboxMessage.status)) == "sent"
    assert runner.invoke(["worker", "--once"]).output.strip() == "sent 0, retrying 0, failed 0"


def test_help_explains_each_command(runner):
    top = runner.invoke(["--help"])
    assert top.exit_code == 0
    for command in ("run", "db", "worker"):
        assert command in top.output
    assert "Example: auth-service worker --once" in runner.invoke(["worker", "--help"]).output
    assert "Example: auth-service run" in runner.invoke(["run", "--help"]).output


def test_usage_error_exits_2(runner):
    result = runner.invoke(["worker", "--interval", "zero"])
    assert result.exit_code == 2
    assert runner.invoke(["no-such-command"]).exit_code == 2


def test_run_refuses_an_unmigrated_database(runner):
    runner.invoke(["db", "downgrade", "base"])
    result = runner.invoke(["run", "--port", "5999"])
    assert result.exit_code == 1
    assert "the database is not migrated: run `auth-service db upgrade`" in result.output
