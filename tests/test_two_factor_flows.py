"""Two-step sign-in wherever a first factor ends: "continue with" (a real OpenID provider), the
re-authentication before sensitive changes, and turning the factor off or making new codes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from auth_service.models import AuditEvent, RecoveryCode, TotpFactor
from tests.conftest import PASSWORD, READER
from tests.social_support import (
    OIDCProvider,
    continue_with,
    local_path,
    provider_login,
    serve,
    start_oidc_provider,
)
from tests.two_factor_support import enrol


@pytest.fixture(scope="module")
def provider():
    with serve(start_oidc_provider()) as base:
        yield OIDCProvider(base)


@pytest.fixture
def settings(settings, provider):  # every app of this module knows the provider
    return {"OIDC_MOCK_DISCOVERY_URL": provider.discovery, "OIDC_MOCK_CLIENT_ID": "auth-service",
            "OIDC_MOCK_CLIENT_SECRET": "s3cret", "OIDC_MOCK_LABEL": "Travel ID", **settings}


@pytest.fixture
def enrolled(browser, reader, clock):
    browser.login(READER)
    app, codes = enrol(browser, clock)
    clock.advance(seconds=60)
    return app, codes


def second_step(browser, code):
    return browser.submit("/login/two-factor", {"code": code})


def test_continue_with_a_provider_still_asks_for_the_second_factor(
        browser, enrolled, provider, db_session):
    app, _ = enrolled
    browser.submit("/logout", {})
    provider.set_user("sub-ann", email=READER, email_verified=True)
    back = browser.get("/login/mock?return_to=https://trusted.example/tito")
    answer = browser.get(local_path(provider_login(back.headers["Location"], "sub-ann")))
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/login/two-factor")
    assert browser.get("/api/session").status_code == 401
    done = second_step(browser, app.code())
    assert done.headers["Location"] == "https://trusted.example/tito"
    assert browser.get("/api/session").json["session"]["amr"] == ["oidc", "otp"]
    asked = db_session.scalars(select(AuditEvent.event).where(
        AuditEvent.event.in_(["login.second_factor_asked", "login.succeeded"]))
        .order_by(AuditEvent.id)).all()
    assert asked[-2:] == ["login.second_factor_asked", "login.succeeded"]


def test_a_provider_sign_in_without_a_factor_goes_straight_back(browser, provider):
    provider.set_user("sub-new", email="new@example.com", email_verified=True)
    answer = continue_with(browser, "sub-new")
    assert answer.status_code == 303 and answer.headers["Location"] == "/account"
    assert browser.get("/api/session").json["session"]["amr"] == ["oidc"]


def test_the_recent_sign_in_asks_for_the_second_factor_too(browser, enrolled, clock):
    app, _ = enrolled
    clock.advance(minutes=30)  # the sign-in is no longer recent
    asked = browser.submit("/account/two-factor/disable", {}, form_url="/account/two-factor")
    assert asked.headers["Location"].startswith("/account/reauth?next=two-factor-off")
    password = browser.submit("/account/reauth", {"password": PASSWORD,
                                                  "next": "two-factor-off"})
    assert password.headers["Location"].endswith("/login/two-factor")
    done = second_step(browser, app.code())
    assert done.headers["Location"].startswith("/account/reauth/done?next=two-factor-off")
    page = browser.get(done.headers["Location"])
    assert "Turn off two-step sign-in" in browser.last_page and page.status_code == 200
    off = browser.submit("/account/two-factor/disable", {}, form_url="/account/two-factor")
    assert off.headers["Location"] == "/account/security?done=two_factor_off#two-factor-heading"


def test_turning_it_off_needs_a_recent_sign_in_and_is_mailed(
        browser, enrolled, db_session, mailbox, deliver):
    off = browser.submit("/account/two-factor/disable", {}, form_url="/account/two-factor")
    assert off.status_code == 303
    assert off.headers["Location"] == "/account/security?done=two_factor_off#two-factor-heading"
    assert db_session.scalar(select(TotpFactor)) is None
    assert db_session.scalar(select(RecoveryCode)) is None
    deliver()
    assert "turned off" in mailbox.subjects(READER)[-1]
    browser.submit("/logout", {})
    assert "/login/two-factor" not in browser.login(READER).headers["Location"]


def test_new_recovery_codes_replace_the_old_ones(browser, enrolled):
    _, old = enrolled
    page = browser.submit("/account/two-factor/recovery-codes", {},
                          form_url="/account/two-factor")
    assert page.status_code == 200 and "Your old codes no longer work" in browser.last_page
    browser.submit("/logout", {})
    browser.login(READER)
    assert second_step(browser, old[0]).status_code == 400


def test_new_recovery_codes_need_a_recent_sign_in(browser, enrolled, clock):
    clock.advance(minutes=30)
    asked = browser.submit("/account/two-factor/recovery-codes", {},
                           form_url="/account/two-factor")
    assert asked.headers["Location"].startswith("/account/reauth?next=recovery-codes")


def test_enrolling_twice_is_refused(browser, enrolled):
    page = browser.get("/account/two-factor")
    assert "Turn off two-step sign-in" in browser.last_page and page.status_code == 200
