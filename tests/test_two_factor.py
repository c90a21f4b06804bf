"""Two-step sign-in with an authenticator app (TOTP) and recovery codes, driven as a reader.

The clock is frozen (the ``clock`` fixture): codes, their window and the pending
sign-in's expiry are all read from it.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from auth_service.models import AuditEvent, RecoveryCode, Session, TotpFactor
from tests.conftest import PASSWORD, READER
from tests.two_factor_support import enrol


@pytest.fixture
def enrolled(browser, reader, clock):
    """READER signed in with two-step sign-in on; returns (app, recovery codes)."""
    browser.login(READER)
    app, codes = enrol(browser, clock)
    clock.advance(seconds=60)  # the code used to enrol spent its time step (and older ones)
    return app, codes


def sign_out(browser):
    browser.submit("/logout", {}, form_url="/logout")


def second_step(browser, code, form_url="/login/two-factor", **extra):
    return browser.submit("/login/two-factor", {"code": code, **extra}, form_url=form_url)


GONE = "/password/forgot"  # a form to take the CSRF token from once the pending sign-in is gone


def events(db_session, name):
    db_session.expire_all()
    return list(db_session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def test_enrolment_page_shows_a_qr_code_and_the_secret_as_text(browser, reader, clock):
    browser.login(READER)
    page = browser.get("/account/two-factor")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<svg" in text and "<script" not in text  # inline SVG, no script
    uri = re.search(r"otpauth://totp/[^<\s]+", browser.last_page).group(0)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', text).group(1)
    assert f"secret={secret}" in uri and "issuer=Red%20Africa%20Travel" in uri
    # Reloading the page keeps the same secret: an app that scanned it still works.
    assert secret in browser.get("/account/two-factor").get_data(as_text=True)


def test_a_wrong_code_does_not_turn_it_on(browser, reader, clock, db_session):
    browser.login(READER)
    browser.get("/account/two-factor")
    answer = browser.submit("/account/two-factor", {"code": "000000"})
    assert answer.status_code == 400
    assert "That code is not right" in browser.last_page
    assert db_session.scalar(select(TotpFactor)).confirmed_at is None


def test_enrolling_shows_ten_recovery_codes_once_and_stores_only_hashes(
        browser, enrolled, db_session, mailbox, deliver):
    _, codes = enrolled
    assert len(set(codes)) == 10
    stored = list(db_session.scalars(select(RecoveryCode.code_hash)))
    assert len(stored) == 10 and not set(codes) & set(stored)
    # Shown once: the account page now shows how many are left, not the codes.
    page = browser.get("/account/two-factor")
    assert "10" in browser.last_page and codes[0] not in page.get_data(as_text=True)
    assert events(db_session, "two_factor.enrolled")
    deliver()
    assert "Two-step sign-in is on" in mailbox.subjects(READER)[-1]


def test_recovery_codes_download_as_text(browser, enrolled):
    _, codes = enrolled
    answer = browser.submit("/account/two-factor/recovery-codes.txt", {"codes": codes},
                            form_url="/account/two-factor")
    assert answer.status_code == 200
    assert answer.mimetype == "text/plain"
    assert "attachment" in answer.headers["Content-Disposition"]
    assert all(code in answer.get_data(as_text=True) for code in codes)
    # Only the account's own live codes: the endpoint does not echo text of one's choosing.
    forged = browser.submit("/account/two-factor/recovery-codes.txt",
                            {"codes": ["<script>alert(1)</script>"]},
                            form_url="/account/two-factor")
    assert forged.status_code == 400 and "<script>" not in forged.get_data(as_text=True)


def test_signing_in_asks_for_the_code_after_the_password(browser, enrolled, client):
    app, _ = enrolled
    sign_out(browser)
    answer = browser.login(READER, return_to="https://trusted.example/page")
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/login/two-factor")
    assert client.get_cookie("auth_session") is None  # not signed in yet
    assert browser.get("/account").status_code == 302
    done = second_step(browser, app.code())
    assert done.status_code == 303
    assert done.headers["Location"] == "https://trusted.example/page"
    session = browser.client.get("/api/session").json["session"]
    assert session["amr"] == ["pwd", "otp"]


def test_a_code_from_the_step_before_or_after_is_accepted(browser, enrolled):
    app, _ = enrolled
    for steps in (-1, 1):
        sign_out(browser)
        browser.login(READER)
        assert second_step(browser, app.code(steps)).status_code == 303, steps


def test_a_code_two_steps_away_is_refused(browser, enrolled):
    app, _ = enrolled
    sign_out(browser)
    browser.login(READER)
    for steps in (-2, 2):
        answer = second_step(browser, app.code(steps))
        assert answer.status_code == 400
        assert "That code is not right" in browser.last_page


def test_a_used_code_is_refused_for_the_rest_of_its_window(browser, enrolled, clock):
    app, _ = enrolled
    code = app.code()
    sign_out(browser)
    browser.login(READER)
    assert second_step(browser, code).status_code == 303
    sign_out(browser)
    clock.advance(seconds=10)  # still the same time step
    browser.login(READER)
    assert second_step(browser, code).status_code == 400
    clock.advance(seconds=30)
    assert second_step(browser, app.code()).status_code == 303


def test_a_recovery_code_works_once(browser, enrolled, db_session, mailbox, deliver):
    _, codes = enrolled
    sign_out(browser)
    browser.login(READER)
    page = browser.get("/login/two-factor")
    assert "Use a recovery code" in browser.last_page and page.status_code == 200
    assert second_step(browser, codes[0].upper().replace("-", " "), use="recovery"
                       ).status_code == 303
    assert browser.client.get("/api/session").json["session"]["amr"] == ["pwd", "otp"]
    sign_out(browser)
    browser.login(READER)
    assert second_step(browser, codes[0]).status_code == 400
    assert second_step(browser, codes[1]).status_code == 303
    assert len(events(db_session, "two_factor.recovery_code_used")) == 2
    deliver()
    assert any("recovery code" in subject for subject in mailbox.subjects(READER))


def test_wrong_codes_are_audited_mailed_and_end_the_pending_sign_in(
        browser, enrolled, db_session, mailbox, deliver):
    app, _ = enrolled
    sign_out(browser)
    browser.login(READER)
    for _ in range(4):
        assert second_step(browser, "123456").status_code == 400
    last = second_step(browser, "123456")
    assert last.status_code == 429
    assert "sign in again" in browser.last_page.lower()
    # The pending sign-in is gone: even the right code needs the password again.
    assert second_step(browser, app.code(), form_url=GONE).status_code == 400
    assert "Sign in again" in browser.last_page
    assert len(events(db_session, "two_factor.failed")) == 5
    deliver()
    assert any("failed" in subject.lower() for subject in mailbox.subjects(READER))


def test_the_pending_sign_in_expires(browser, enrolled, clock, db_session):
    app, _ = enrolled
    sign_out(browser)
    browser.login(READER)
    clock.advance(minutes=6)
    answer = second_step(browser, app.code(), form_url=GONE)
    assert answer.status_code == 400
    assert "took too long" in browser.last_page
    assert db_session.scalar(select(Session).where(Session.revoked_at.is_(None))) is None


def test_the_pending_sign_in_is_on_the_server_not_in_the_cookie(browser, enrolled, app):
    # A copy of the browser's cookie taken while it waited for the code replays nothing
    # once the second step is done: the row it names is spent.
    totp, _ = enrolled
    sign_out(browser)
    browser.login(READER)
    stolen = browser.client.get_cookie("auth_csrf").value
    assert second_step(browser, totp.code()).status_code == 303
    thief = app.test_client()
    thief.set_cookie("auth_csrf", stolen)
    from tests.conftest import Browser
    copy = Browser(thief)
    assert copy.get("/login/two-factor").status_code == 400
    assert "Sign in again" in copy.last_page


@pytest.mark.settings(RATELIMIT_ENABLED=True)
def test_codes_are_rate_limited_per_account(browser, enrolled):
    _, codes = enrolled
    statuses = []
    for _ in range(3):  # a fresh pending sign-in each time: the limit is the account's
        sign_out(browser)
        browser.login(READER)
        statuses += [second_step(browser, "123456").status_code for _ in range(4)]
    assert 429 in statuses
    limited = second_step(browser, codes[0])
    assert limited.status_code == 429 and "Retry-After" in limited.headers


def test_a_password_reset_keeps_the_second_factor(browser, enrolled, mailbox, deliver):
    from tests.conftest import forgot, mail_path
    app, _ = enrolled
    sign_out(browser)
    forgot(browser, READER)
    deliver()
    reset = mail_path(mailbox, READER, "/password/reset/")
    browser.submit(reset, {"password": "a brand new passphrase"})
    answer = browser.login(READER, "a brand new passphrase")
    assert answer.headers["Location"].endswith("/login/two-factor")
    assert second_step(browser, app.code()).status_code == 303


def test_without_a_second_factor_the_password_is_enough(browser, reader):
    answer = browser.login(READER)
    assert answer.status_code == 303 and "/login/two-factor" not in answer.headers["Location"]
    assert browser.client.get("/api/session").json["session"]["amr"] == ["pwd"]


def test_the_second_step_without_a_pending_sign_in_says_sign_in_again(browser):
    answer = browser.get("/login/two-factor")
    assert answer.status_code == 400
    assert "Sign in again" in browser.last_page
    assert PASSWORD not in browser.last_page


def test_reset_2fa_removes_the_factor_audited_and_mailed(
        browser, enrolled, runner, db_session, mailbox, deliver):
    result = runner.invoke(["users", "reset-2fa", READER])
    assert result.exit_code == 0, result.output
    assert "Removed the authenticator app, 10 recovery code(s)" in result.output
    assert db_session.scalar(select(TotpFactor)) is None
    assert db_session.scalar(select(RecoveryCode)) is None
    event = events(db_session, "two_factor.reset")[-1]
    assert event.details["by"] == "admin" and event.user_agent == "auth-service cli"
    deliver()
    assert "turned off" in mailbox.subjects(READER)[-1]
    assert "administrators" in mailbox.text(mailbox.last(READER))
    sign_out(browser)
    assert "/login/two-factor" not in browser.login(READER).headers["Location"]
    again = runner.invoke(["users", "reset-2fa", READER])
    assert again.exit_code == 0 and "nothing to remove" in again.output


def test_the_export_lists_the_factors_without_their_secrets(enrolled, runner, db_session):
    import json
    data = json.loads(runner.invoke(["users", "export", READER]).output)["second_factors"]
    assert data["totp"]["confirmed"] is True and data["recovery_codes_left"] == 10
    secret = db_session.scalar(select(TotpFactor.secret))
    assert secret not in json.dumps(data)


def test_reset_2fa_of_an_unknown_address_is_one_line_and_exit_1(runner):
    result = runner.invoke(["users", "reset-2fa", "nobody@example.com"])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.settings(REQUIRE_2FA_ROLES=("admin",))
def test_a_role_that_requires_it_must_enrol_before_anything_else(
        browser, make_user, db_session, clock):
    from auth_service.models import User
    user_id = make_user("boss@example.com")
    db_session.get(User, user_id).is_admin = True
    db_session.commit()
    browser.login("boss@example.com")
    page = browser.get("/account")
    assert page.status_code == 303 and page.headers["Location"].startswith("/account/two-factor")
    browser.get(page.headers["Location"])
    assert "needs two-step sign-in" in browser.last_page
    assert browser.get("/oauth/authorize?client_id=x").status_code == 303  # nor a site's sign-in
    enrol(browser, clock)
    assert browser.get("/account").status_code == 200


@pytest.mark.settings(REQUIRE_2FA_ROLES=("admin",))
def test_other_roles_are_not_asked_to_enrol(browser, reader):
    browser.login(READER)
    assert browser.get("/account").status_code == 200
