"""The console script's first commands: db, worker, run."""

from __future__ import annotations

import re
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


OUR_COMMANDS = {"audit", "clients", "db", "doctor", "keys", "mail", "run", "serve", "stats",
                "users", "worker"}


def test_help_shows_our_commands_and_options_only(runner):
    top = runner.invoke(["--help"]).output
    listed = set(re.findall(r"^  (\w[\w-]*)  ", top.split("Commands:")[1], re.M))
    assert listed == OUR_COMMANDS
    options = top.split("Options:")[1].split("Commands:")[0]
    assert options.split() == ["--help", "Show", "this", "message", "and", "exit."]
    for foreign in ("--env-file", "dotenv", "--app", "--debug", "limiter"):
        assert foreign not in top, foreign
    assert runner.invoke(["limiter"]).exit_code == 2


def test_readme_documents_every_command_and_how_to_reach_it():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    administration = readme.split("## Administration")[1].split("\n## ")[0]
    for command in OUR_COMMANDS:
        assert f"| `{command}" in administration, command
    assert ".venv/bin/auth-service" in administration
    assert ". .venv/bin/activate" in administration


def test_readme_speaks_for_itself():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert not re.search(r"\bissues? \d|#\d+\b|DESIGN\.md|\.\./shared", readme)
    assert not re.search(r"(?<![\w.])/(?:etc|usr|var|opt|home|root|tmp)/", readme)
