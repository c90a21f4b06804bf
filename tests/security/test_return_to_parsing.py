"""return_to values the URL parser cannot read: each was a 500 (and, on POST /login, a
session cookie behind the error page). Now they are untrusted like any other stranger."""

from __future__ import annotations

import pytest

from auth_service.security.redirects import safe_return_to

UNPARSEABLE = [
    "http://[",  # "Invalid IPv6 URL"
    "https://trusted.example：443/members",  # a fullwidth colon in the host part
    "http://]/",
    "https://[::1/x",
    "http://trusted.example＃@evil.example/",  # a fullwidth number sign before an @
]


@pytest.mark.parametrize("value", UNPARSEABLE)
def test_the_check_itself_never_raises(value):
    assert safe_return_to(value, base_url="http://auth.test",
                          trusted=["https://trusted.example"]) is None


@pytest.mark.parametrize("value", UNPARSEABLE)
def test_sign_in_goes_to_the_account_page_with_one_session(value, browser, make_user,
                                                           db_session):
    make_user("alice@example.com")
    answer = browser.login("alice@example.com", return_to=value)
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/account"
    # Signed in already, the sign-in page sends the reader on the same way.
    again = browser.get("/login?return_to=" + value)
    assert again.status_code == 303
    assert again.headers["Location"] == "/account"


@pytest.mark.parametrize("value", UNPARSEABLE)
def test_sign_out_registration_and_widget_ignore_it(value, browser, make_user):
    make_user("alice@example.com")
    browser.login("alice@example.com")
    out = browser.submit("/logout", {"return_to": value})
    assert out.status_code == 303
    assert out.headers["Location"] == "/login"
    assert browser.get("/logout?return_to=" + value).status_code == 200
    registered = browser.submit("/register?return_to=" + value,
                                {"email": "bob@example.com", "password": "a long passphrase",
                                 "return_to": value})
    assert registered.status_code == 200
    assert "Check your email" in browser.last_page
    widget = browser.get("/widget/login-buttons?redirect=" + value)
    assert widget.status_code == 200
