"""Provider-supplied text with terminal escapes: cleaned on the way in, and escaped by the
CLI whatever reached the database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from auth_service.models import Identity, User
from tests.social_support import continue_with

HOSTILE = "Mallory\x1b[2J\x1b]0;pwned\x07\u202e\x9b31m"
RAW = ("\x1b", "\x07", "\x9b", "\u202e")


def test_a_provider_name_with_escapes_is_stored_without_them(browser, provider, db_session):
    provider.set_user("mallory", email="mallory@example.com", email_verified=True,
                      name=HOSTILE)
    assert continue_with(browser, "mallory").status_code == 303
    user = db_session.scalar(select(User))
    identity = db_session.scalar(select(Identity))
    for stored in (user.display_name, identity.name):
        assert not any(char in stored for char in RAW), repr(stored)
        assert stored.startswith("Mallory")


def test_a_provider_subject_with_control_characters_is_refused(browser, provider,
                                                               db_session):
    sub = "mallory\x1b[2J"
    provider.set_user(sub, email="mallory@example.com", email_verified=True)
    answer = continue_with(browser, sub)
    assert answer.status_code == 400
    assert "could not read" in browser.last_page
    assert db_session.scalar(select(Identity)) is None


@pytest.mark.parametrize("command", [["users", "list"], ["users", "show", "m@example.com"],
                                     ["users", "show", "m@example.com", "--json"],
                                     ["users", "list", "--json"], ["audit"]])
def test_the_cli_escapes_control_characters_in_any_data(app, runner, make_user, command):
    # Written straight to the database: the CLI must not trust what it reads there either.
    make_user("m@example.com", name=HOSTILE)
    runner.invoke(["users", "disable", "m@example.com"])
    result = runner.invoke(command)
    assert result.exit_code == 0, result.output
    assert not any(char in result.output for char in RAW), repr(result.output)
    if command[:2] != ["audit"]:
        assert "Mallory" in result.output
        assert "\\x1b" in result.output or "\\u001b" in result.output
