"""The management CLI through Click's test runner: every command, its output and exit status."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from auth_service.models import AuditEvent, Identity, OutboxMessage, Session, User
from tests.conftest import PASSWORD, mail_path

NEW_PASSWORD = "a completely new passphrase"


@pytest.fixture
def signed_in(browser, make_user):
    """ann@example.com, confirmed, signed in on ``browser``; returns her id."""
    user_id = make_user("ann@example.com", name="Ann")
    assert browser.login("ann@example.com").status_code == 303
    return user_id


def api(browser) -> int:
    return browser.get("/api/session").status_code


def test_create_with_password_on_stdin_then_sign_in(runner, browser, db_session):
    result = runner.invoke(["users", "create", "Ann@Example.com", "--name", "Ann",
                            "--confirmed", "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert result.output.strip().startswith("Created account ")
    user = db_session.scalar(select(User))
    assert (user.email, user.display_name, user.email_confirmed) == ("ann@example.com", "Ann", True)
    assert browser.login("ann@example.com").status_code == 303
    assert db_session.scalar(select(AuditEvent.details).where(
        AuditEvent.event == "registration.created")) == {"method": "cli", "admin": False}


def test_create_prompts_twice_and_applies_the_password_policy(runner, db_session):
    weak = runner.invoke(["users", "create", "bob@example.com"], input="password1\npassword1\n")
    assert weak.exit_code == 1
    assert weak.output.strip().endswith("Error: This password is too common. Choose one that "
                                        "is harder to guess.")
    assert "Traceback" not in weak.output
    good = runner.invoke(["users", "create", "bob@example.com", "--admin"],
                         input=f"{PASSWORD}\n{PASSWORD}\n")
    assert good.exit_code == 0, good.output
    user = db_session.scalar(select(User))
    assert user.roles == ["admin"]
    assert not user.email_confirmed


def test_create_unconfirmed_sends_the_confirmation_email(runner, deliver, mailbox):
    runner.invoke(["users", "create", "cy@example.com", "--password-stdin"], input=PASSWORD)
    deliver()
    assert mailbox.subjects("cy@example.com") == [
        "Confirm your email address for Red Africa Travel"]


def test_create_without_password_sends_a_link_to_set_one(runner, deliver, mailbox):
    result = runner.invoke(["users", "create", "dee@example.com", "--confirmed", "--no-password"])
    assert result.exit_code == 0
    deliver()
    assert mailbox.subjects("dee@example.com") == ["Reset your Red Africa Travel password"]


@pytest.mark.parametrize(("args", "message"), [
    (["users", "create", "not-an-email", "--password-stdin"],
     "Error: Enter a valid email address."),
    (["users", "show", "nobody@example.com"],
     "Error: no account with the address nobody@example.com"),
    (["users", "disable", "nobody@example.com"], "Error: no account with the address"),
    (["users", "set-password", "nobody@example.com", "--password-stdin"], "Error: no account"),
])
def test_a_users_mistake_is_one_line_and_exit_1(runner, args, message):
    result = runner.invoke(args, input=PASSWORD + "\n")
    assert result.exit_code == 1
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_duplicate_address_is_refused(runner, make_user):
    make_user("ann@example.com")
    result = runner.invoke(["users", "create", "ANN@example.com", "--password-stdin"],
                           input=PASSWORD)
    assert result.exit_code == 1
    assert "Error: ann@example.com is already registered" in result.output


def test_usage_errors_exit_2(runner):
    assert runner.invoke(["users", "create"]).exit_code == 2
    assert runner.invoke(["users", "list", "--limit", "0"]).exit_code == 2
    assert runner.invoke(["users", "frobnicate", "x@example.com"]).exit_code == 2
    assert runner.invoke(["audit", "--since", "yesterday"]).exit_code == 2
    assert runner.invoke(["mail", "retry"]).exit_code == 2


def test_list_filters_pages_and_json(runner, make_user):
    make_user("ann@example.com", name="Ann")
    make_user("bob@example.org", confirmed=False)
    make_user("cy@example.com", disabled=True)
    table = runner.invoke(["users", "list"]).output.splitlines()
    assert table[0].split() == ["ID", "EMAIL", "NAME", "CONFIRMED", "DISABLED", "ROLES",
                                "CREATED", "LAST", "SIGN-IN"]
    assert [line.split()[1] for line in table[1:]] == [
        "ann@example.com", "bob@example.org", "cy@example.com"]
    assert table[0].index("EMAIL") == table[1].index("ann@example.com")  # aligned

    def emails(*args: str) -> list[str]:
        output = runner.invoke(["users", "list", "--json", *args]).output
        return [json.loads(line)["email"] for line in output.splitlines()]

    assert emails("--search", "example.com") == ["ann@example.com", "cy@example.com"]
    assert emails("--search", "ANN") == ["ann@example.com"]
    assert emails("--unconfirmed") == ["bob@example.org"]
    assert emails("--disabled") == ["cy@example.com"]
    assert emails("--limit", "1", "--offset", "1") == ["bob@example.org"]


def test_show_has_providers_sessions_and_events(runner, signed_in, db_session):
    db_session.add(Identity(user_id=signed_in, provider="github", subject="42",
                            email="ann@example.com", email_verified=True))
    db_session.commit()
    text = runner.invoke(["users", "show", "ann@example.com"]).output
    assert "email: ann@example.com" in text
    assert "Providers (1)" in text and "github" in text
    assert "Active sessions (1)" in text and "password" in text
    assert "login.succeeded" in text
    data = json.loads(runner.invoke(["users", "show", "ann@example.com", "--json"]).output)
    assert data["identities"][0]["provider"] == "github"
    assert data["sessions"][0]["method"] == "password"
    assert data["audit_events"][0]["event"] == "login.succeeded"


def test_disable_ends_sessions_at_once_and_enable_restores_sign_in(runner, browser, signed_in):
    assert api(browser) == 200
    assert runner.invoke(["users", "disable", "ann@example.com"]).exit_code == 0
    assert api(browser) == 401
    assert browser.login("ann@example.com").status_code == 403
    assert runner.invoke(["users", "enable", "ann@example.com"]).exit_code == 0
    assert browser.login("ann@example.com").status_code == 303


def test_set_password_applies_policy_and_ends_sessions(runner, browser, signed_in, deliver,
                                                       mailbox):
    weak = runner.invoke(["users", "set-password", "ann@example.com", "--password-stdin"],
                         input="ann@example.com\n")
    assert weak.exit_code == 1 and "Don't use your email address" in weak.output
    assert api(browser) == 200
    done = runner.invoke(["users", "set-password", "ann@example.com", "--password-stdin"],
                         input=NEW_PASSWORD + "\n")
    assert done.exit_code == 0
    assert api(browser) == 401
    assert browser.login("ann@example.com", PASSWORD).status_code == 400
    assert browser.login("ann@example.com", NEW_PASSWORD).status_code == 303
    deliver()
    assert mailbox.subjects("ann@example.com") == ["Your Red Africa Travel password was changed"]


def test_confirm_send_reset_and_revoke_sessions(runner, browser, make_user, deliver, mailbox,
                                                db_session):
    make_user("new@example.com", confirmed=False)
    assert browser.login("new@example.com").status_code == 403
    assert runner.invoke(["users", "confirm", "new@example.com"]).exit_code == 0
    assert browser.login("new@example.com").status_code == 303

    assert runner.invoke(["users", "send-reset", "new@example.com"]).exit_code == 0
    deliver()
    assert "/password/reset/" in mailbox.text(mailbox.last("new@example.com"))

    result = runner.invoke(["users", "revoke-sessions", "new@example.com"])
    assert result.output.strip() == "Ended 1 session of new@example.com."
    assert api(browser) == 401


def test_promote_and_demote_show_in_api_session(runner, browser, signed_in):
    runner.invoke(["users", "promote", "ann@example.com"])
    assert browser.get("/api/session").json["user"]["roles"] == ["admin"]
    runner.invoke(["users", "demote", "ann@example.com"])
    assert browser.get("/api/session").json["user"]["roles"] == []


def test_delete_asks_then_removes_personal_data(runner, browser, signed_in, db_session):
    db_session.add(Identity(user_id=signed_in, provider="github", subject="42"))
    db_session.add(OutboxMessage(template="x", to_address="ann@example.com", subject="s",
                                 body_text="b", body_html="b"))
    db_session.commit()
    kept = runner.invoke(["users", "delete", "ann@example.com"], input="n\n")
    assert kept.exit_code == 1 and "Aborted" in kept.output
    assert db_session.scalar(select(func.count()).select_from(User)) == 1

    done = runner.invoke(["users", "delete", "ann@example.com"], input="y\n")
    assert done.exit_code == 0
    for model in (User, Session, Identity, OutboxMessage):
        assert db_session.scalar(select(func.count()).select_from(model)) == 0, model
    assert api(browser) == 401
    events = db_session.scalars(select(AuditEvent)).all()
    assert {e.user_id for e in events} == {None}
    assert {e.ip for e in events} == {None}
    assert events[-1].event == "account.deleted"
    assert "ann@example.com" not in json.dumps([e.details for e in events])
    assert runner.invoke(["users", "delete", "ann@example.com", "--yes"]).exit_code == 1


def test_export_is_everything_as_json(runner, browser, signed_in, db_session):
    db_session.add(Identity(user_id=signed_in, provider="google", subject="g-1",
                            email="ann@example.com", email_verified=True))
    db_session.commit()
    data = json.loads(runner.invoke(["users", "export", "ann@example.com"]).output)
    assert set(data) == {"account", "identities", "sessions", "consents", "audit_events",
                         "emails", "second_factors", "exported_at"}
    assert data["second_factors"] == {"totp": None, "recovery_codes_left": 0, "passkeys": []}
    assert data["sessions"][0]["amr"] == ["pwd"]
    assert data["account"]["email"] == "ann@example.com"
    assert data["identities"][0]["subject"] == "g-1"
    assert data["sessions"][0]["method"] == "password"
    assert [e["event"] for e in data["audit_events"]] == ["login.succeeded"]
    assert "token_hash" not in json.dumps(data) and "password_hash" not in json.dumps(data)


def test_audit_filters(runner, browser, signed_in, make_user, clock):
    browser.login("ann@example.com", "wrong password here")
    make_user("bob@example.com")
    lines = runner.invoke(["audit", "--json"]).output.splitlines()
    assert [json.loads(line)["event"] for line in lines] == [
        "login.failed", "login.succeeded"]
    assert json.loads(lines[0])["email"] == "ann@example.com"
    only = runner.invoke(["audit", "--type", "login.failed"]).output
    assert "login.failed" in only and "login.succeeded" not in only
    assert "login.succeeded" in runner.invoke(["audit", "--type", "login."]).output
    assert "ann@example.com" in runner.invoke(["audit", "--user", "ann@example.com"]).output
    assert runner.invoke(["audit", "--user", "bob@example.com", "--json"]).output == ""
    clock.advance(hours=2)
    assert runner.invoke(["audit", "--since", "1h", "--json"]).output == ""
    assert len(runner.invoke(["audit", "--since", "3h", "--json"]).output.splitlines()) == 2


def test_stats(runner, browser, signed_in, make_user, db_session):
    make_user("bob@example.com", confirmed=False)
    make_user("cy@example.com", disabled=True, password=None)
    db_session.add(Identity(user_id=signed_in, provider="github", subject="7"))
    db_session.add(OutboxMessage(template="x", to_address="a@b.c", subject="s", status="failed"))
    db_session.commit()
    browser.login("ann@example.com", "wrong password here")
    numbers = json.loads(runner.invoke(["stats", "--json"]).output)
    assert numbers["accounts"] == {"total": 3, "confirmed": 2, "disabled": 1, "admins": 0}
    assert numbers["accounts_by_sign_in_method"] == {"github": 1, "password": 2}
    assert numbers["sessions"] == {"active": 1}
    assert numbers["outbox"]["failed"] == 1
    assert numbers["last_24h"]["sign_ins"] == 1
    assert numbers["last_24h"]["sign_in_failures"] == 1
    assert "Accounts" in runner.invoke(["stats"]).output


@pytest.mark.settings(MAIL_MAX_ATTEMPTS=1)
def test_mail_outbox_retry_and_test(runner, browser, mailbox, deliver, db_session, clock):
    mailbox.stop()
    browser.submit("/password/forgot", {"email": "x@example.com"})  # no mail: unknown
    runner.invoke(["users", "create", "ann@example.com", "--password-stdin"], input=PASSWORD)
    deliver()
    failed = runner.invoke(["mail", "outbox", "--failed"]).output
    assert "ann@example.com" in failed and "failed" in failed
    assert "ConnectionRefusedError" in failed
    mailbox.start()
    message_id = db_session.scalar(select(OutboxMessage.id))
    assert runner.invoke(["mail", "retry", "999"]).exit_code == 1
    assert runner.invoke(["mail", "retry", str(message_id)]).output.strip() == (
        "1 message queued again.")
    assert deliver().sent == 1
    assert mailbox.subjects("ann@example.com")

    result = runner.invoke(["mail", "test", "ops@example.com"])
    assert result.exit_code == 0
    assert "accepted" in result.output
    assert mailbox.subjects("ops@example.com") == ["Red Africa Travel: test email"]
    mailbox.stop()
    down = runner.invoke(["mail", "test", "ops@example.com"])
    assert down.exit_code == 1
    assert "Error: sending through 127.0.0.1:" in down.output
    clock.advance(minutes=1)


def test_commands_say_when_the_database_is_not_migrated(runner):
    runner.invoke(["db", "downgrade", "base"])
    for args in (["users", "list"], ["stats"], ["audit"], ["users", "show", "a@example.com"]):
        result = runner.invoke(args)
        assert result.exit_code == 1, args
        assert result.output.strip() == (
            "Error: the database is not migrated: run `auth-service db upgrade`"), args


def test_every_command_has_help_with_an_example(runner):
    commands = [["users", c] for c in ("create", "list", "show", "disable", "enable", "delete",
                                       "set-password", "confirm", "send-reset",
                                       "revoke-sessions", "export", "promote", "demote")]
    commands += [["audit"], ["stats"], ["doctor"], ["mail", "outbox"], ["mail", "retry"],
                 ["mail", "test"], ["db", "upgrade"], ["db", "downgrade"], ["db", "current"],
                 ["db", "revision"], ["worker"], ["run"], ["users"], ["mail"], ["db"]]
    for args in commands:
        result = runner.invoke([*args, "--help"])
        assert result.exit_code == 0, args
        assert "Example:" in result.output and "auth-service" in result.output, args


def test_create_unconfirmed_without_password_sends_the_set_password_link(
        runner, deliver, mailbox, browser):
    result = runner.invoke(["users", "create", "eve@example.com", "--no-password"])
    assert result.exit_code == 0, result.output
    deliver()
    assert mailbox.subjects("eve@example.com") == ["Reset your Red Africa Travel password"]
    link = mail_path(mailbox, "eve@example.com", "/password/reset/")
    assert browser.submit(link, {"password": PASSWORD}).status_code == 200
    # The link proved the address: the new password signs in at once.
    assert browser.login("eve@example.com").status_code == 303


def test_no_password_and_password_stdin_together_is_a_usage_error(runner, db_session):
    result = runner.invoke(["users", "create", "fay@example.com", "--no-password",
                            "--password-stdin"], input=PASSWORD)
    assert result.exit_code == 2
    assert "--no-password and --password-stdin" in result.output
    assert db_session.scalar(select(User)) is None


@pytest.mark.parametrize("address", ["not-an-email", "two@@example.com"])
def test_an_invalid_address_is_refused_before_the_password_prompt(runner, address):
    result = runner.invoke(["users", "create", address], input="")
    assert result.exit_code == 1
    assert result.output == "Error: Enter a valid email address.\n"


def test_a_registered_address_is_refused_before_the_password_prompt(runner, make_user):
    make_user("gus@example.com")
    result = runner.invoke(["users", "create", "gus@example.com"], input="")
    assert result.output == "Error: gus@example.com is already registered\n"


def test_show_prints_yes_no_and_dashes_like_list(runner, make_user):
    make_user("hal@example.com")
    output = runner.invoke(["users", "show", "hal@example.com"]).output
    fields = dict(line.strip().split(": ", 1) for line in output.split("\n\n")[0].splitlines())
    assert fields["email confirmed"] == "yes"
    assert fields["disabled"] == "no" and fields["has password"] == "yes"
    assert fields["name"] == "-" and fields["roles"] == "-" and fields["last login at"] == "-"
    assert "True" not in output and "None" not in output and "False" not in output


def test_disabling_a_disabled_account_audits_once(runner, make_user, db_session):
    make_user("ivy@example.com")
    assert "Disabled" in runner.invoke(["users", "disable", "ivy@example.com"]).output
    again = runner.invoke(["users", "disable", "ivy@example.com"])
    assert again.exit_code == 0 and again.output == "ivy@example.com was already disabled.\n"
    events = db_session.scalars(select(AuditEvent.event)).all()
    assert events.count("account.disabled") == 1
    assert runner.invoke(["users", "enable", "ivy@example.com"]).exit_code == 0
    assert runner.invoke(["users", "enable", "ivy@example.com"]).output == (
        "ivy@example.com was not disabled.\n")
    db_session.expire_all()
    assert db_session.scalars(select(AuditEvent.event)).all().count("account.enabled") == 1


def test_mail_test_refuses_what_is_not_an_address(runner, mailbox):
    result = runner.invoke(["mail", "test", "not-an-address"])
    assert result.exit_code == 1
    assert result.output == "Error: Enter a valid email address.\n"
    assert mailbox.messages == []
