"""Sign-in, sign-out, the return_to check, and password rehashing."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from auth_service.models import AuditEvent, User
from auth_service.security.redirects import safe_return_to
from tests.conftest import PASSWORD

TRUSTED = ("http://auth.test", "https://trusted.example", "http://localhost:5001")

HOSTILE_RETURN_TO = [
    "https://evil.example",
    "https://evil.example/articles",
    "//evil.example",
    "//evil.example/path",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http://trusted.example.evil.example",
    "https://trusted.example.evil.example/",
    "https://trusted.example@evil.example/",
    "https://trusted.example:443@evil.example/",
    "https://evil.example#https://trusted.example",
    "https://evil.example?https://trusted.example",
    "http://trusted.example/",  # right host, wrong scheme
    "https://trusted.example:8443/",  # right host, wrong port
    "https:evil.example",
    "https:/evil.example",
    "/%0d%0aLocation:%20https://evil.example",
    "\x00https://trusted.example/",
    "https://trusted.example/\r\nSet-Cookie: x=1",
    "%2F%2Fevil.example",
    "https://%65vil.example/",
    "https://trusted.example%2eevil.example/",
    "ftp://trusted.example/",
    "https://" + "a" * 3000 + ".example/",
]

SAFE_RETURN_TO = {
    "https://trusted.example/articles/tito-stalin-split":
        "https://trusted.example/articles/tito-stalin-split",
    "https://TRUSTED.example:443/a?b=c#d": "https://TRUSTED.example:443/a?b=c#d",
    "http://localhost:5001/members": "http://localhost:5001/members",
    "/account": "http://auth.test/account",
    "/confirm/resend?x=1": "http://auth.test/confirm/resend?x=1",
}


@pytest.mark.parametrize("value", HOSTILE_RETURN_TO)
def test_hostile_return_to_is_refused(value):
    assert safe_return_to(value, base_url="http://auth.test", trusted=TRUSTED) is None


@pytest.mark.parametrize(("value", "expected"), SAFE_RETURN_TO.items())
def test_trusted_return_to_is_kept(value, expected):
    assert safe_return_to(value, base_url="http://auth.test", trusted=TRUSTED) == expected


@pytest.mark.parametrize("value", ["https://evil.example", "//evil.example", "/\\evil.example",
                                   "javascript:alert(1)", "http://trusted.example.evil.example"])
def test_sign_in_with_hostile_return_to_lands_on_account(browser, make_user, value):
    make_user("reader@example.com")
    response = browser.login("reader@example.com", return_to=value)
    assert response.status_code == 303
    assert response.headers["Location"] == "/account"


def test_sign_in_honours_a_trusted_return_to(browser, make_user):
    make_user("reader@example.com")
    response = browser.login("reader@example.com", return_to="https://trusted.example/a?b=1")
    assert response.status_code == 303
    assert response.headers["Location"] == "https://trusted.example/a?b=1"


def test_unknown_address_and_wrong_password_fail_alike(browser, make_user, db_session):
    make_user("reader@example.com")
    wrong = browser.login("reader@example.com", "not my password at all")
    wrong_page = browser.last_page
    unknown = browser.login("nobody@example.com", PASSWORD)
    assert wrong.status_code == unknown.status_code == 400
    assert "That email and password don't match an account" in wrong_page
    assert wrong_page.split("csrf_token")[0] == browser.last_page.split("csrf_token")[0]
    assert browser.get("/account").status_code == 302  # still signed out
    reasons = db_session.scalars(select(AuditEvent.details).where(
        AuditEvent.event == "login.failed")).all()
    assert reasons == [{"reason": "bad_credentials"}, {"reason": "bad_credentials"}]


def test_disabled_account_cannot_sign_in(browser, make_user):
    make_user("gone@example.com", disabled=True)
    response = browser.login("gone@example.com")
    assert response.status_code == 403
    assert "disabled" in browser.last_page
    assert browser.get("/account").status_code == 302


def test_disabling_ends_an_open_session(browser, make_user, db_session):
    from auth_service import clock

    user_id = make_user("reader@example.com")
    browser.login("reader@example.com")
    assert browser.get("/account").status_code == 200
    user = db_session.get(User, user_id)
    user.disabled_at = clock.now()
    db_session.commit()
    assert browser.get("/account").status_code == 302


def test_account_page_requires_sign_in_and_comes_back(browser):
    response = browser.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_home_sends_visitors_to_login_and_readers_to_account(browser, make_user):
    assert browser.get("/").headers["Location"] == "/login"
    make_user("reader@example.com")
    browser.login("reader@example.com")
    assert browser.get("/").headers["Location"] == "/account"
    # A signed-in reader opening /login goes straight on.
    assert browser.get("/login?return_to=https://trusted.example/x").headers["Location"] == (
        "https://trusted.example/x")


def test_logout_get_only_asks_post_signs_out(browser, make_user, client):
    make_user("reader@example.com")
    browser.login("reader@example.com")
    page = browser.get("/logout")
    assert page.status_code == 200
    assert "Sign out?" in browser.last_page
    assert browser.get("/account").status_code == 200  # a GET never signs anyone out

    # Without the CSRF token the POST is refused and the reader stays signed in.
    assert client.post("/logout").status_code == 400
    assert browser.get("/account").status_code == 200

    done = browser.submit("/logout?return_to=https://trusted.example/bye",
                          {"return_to": "https://trusted.example/bye"})
    assert done.status_code == 303
    assert done.headers["Location"] == "https://trusted.example/bye"
    assert browser.get("/account").status_code == 302


def test_logout_refuses_untrusted_return_to(browser, make_user):
    make_user("reader@example.com")
    browser.login("reader@example.com")
    done = browser.submit("/logout", {"return_to": "https://evil.example/"})
    assert done.headers["Location"] == "/login"


def test_password_is_rehashed_when_parameters_change(app, browser, make_user, db_session):
    user_id = make_user("reader@example.com")
    old_hash = db_session.get(User, user_id).password_hash
    assert "m=1024,t=1,p=1" in old_hash

    app.config.update(ARGON2_TIME_COST=2, ARGON2_MEMORY_COST=2048)
    app.extensions.pop("auth_password_hasher")
    assert browser.login("reader@example.com").status_code == 303

    db_session.expire_all()
    new_hash = db_session.get(User, user_id).password_hash
    assert new_hash != old_hash
    assert "m=2048,t=2,p=1" in new_hash
    assert PasswordHasher().verify(new_hash, PASSWORD)


@pytest.mark.real_hasher
def test_production_parameters_are_argon2id(make_user, db_session):
    user_id = make_user("reader@example.com")
    stored = db_session.get(User, user_id).password_hash
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_encoded_characters_in_a_trusted_query_are_kept():
    value = "https://trusted.example/search?q=red%20army&from=%2F%2Fhome"
    assert safe_return_to(value, base_url="http://auth.test", trusted=TRUSTED) == value
