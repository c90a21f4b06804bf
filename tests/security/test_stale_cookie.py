"""A session that ended (idle, too old, revoked elsewhere) leaves no cookie behind: the next
page the browser opens clears it, /account included."""

from __future__ import annotations

import pytest

from tests.conftest import Browser


def cleared(response) -> bool:
    return any(c.startswith("auth_session=;") and "Max-Age=0" in c
               for c in response.headers.getlist("Set-Cookie"))


@pytest.mark.parametrize("days", [15, 91])  # past the idle timeout; past the absolute age
def test_account_clears_the_cookie_of_an_expired_session(browser, make_user, clock, days):
    make_user("alice@example.com")
    browser.login("alice@example.com")
    clock.advance(days=days)
    answer = browser.get("/account")
    assert answer.status_code == 302
    assert cleared(answer)
    assert browser.client.get_cookie("auth_session") is None


def test_account_clears_the_cookie_of_a_session_revoked_elsewhere(app, browser, make_user):
    make_user("alice@example.com")
    browser.login("alice@example.com")
    other = Browser(app.test_client())
    other.login("alice@example.com")
    other.submit("/account/sessions/revoke-all", {}, form_url="/account")
    answer = browser.get("/account")
    assert cleared(answer)
    assert browser.client.get_cookie("auth_session") is None
