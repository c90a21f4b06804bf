"""Server-side sessions: the cookie, rotation, expiry, and every way a session is revoked."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

import pytest
from sqlalchemy import delete, select

from auth_service import clock as service_clock
from auth_service.models import AuditEvent, Session, User
from tests.conftest import PASSWORD, Browser

COOKIE = "auth_session"


def session_token(browser: Browser) -> str | None:
    cookie = browser.client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def api_status(client, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get("/api/session", headers=headers).status_code


@pytest.fixture
def second_browser(app) -> Browser:
    return Browser(app.test_client())


def test_sign_in_sets_an_opaque_cookie_and_stores_only_its_hash(browser, reader, db_session):
    response = browser.login("reader@example.com")
    set_cookie = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE)]
    assert len(set_cookie) == 1
    attributes = [part.strip() for part in set_cookie[0].split(";")]
    assert "HttpOnly" in attributes
    assert "SameSite=Lax" in attributes
    assert "Path=/" in attributes
    assert "Secure" not in attributes  # the test base URL is plain http
    assert not any(a.startswith("Domain=") for a in attributes)  # host-only by default
    token = session_token(browser)
    assert len(token) >= 43  # 32 random bytes, base64url

    row = db_session.scalar(select(Session))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(db_session.execute(select(Session.__table__)).all())
    assert row.method == "password"
    assert row.user_id == reader
    assert row.ip == "127.0.0.1"


@pytest.mark.settings(BASE_URL="https://login.example.com", COOKIE_DOMAIN=".example.com",
                      SESSION_COOKIE="site_login")
def test_cookie_attributes_follow_configuration(client, reader):
    page = client.get("/login", base_url="https://login.example.com")
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1]
    # Over HTTPS, Flask-WTF also wants a same-origin Referer, as browsers send under our policy.
    response = client.post("/login", base_url="https://login.example.com", data={
        "csrf_token": token.split('"')[0], "email": "reader@example.com", "password": PASSWORD},
        headers={"Referer": "https://login.example.com/login"})
    assert response.status_code == 303
    cookie = next(h for h in response.headers.getlist("Set-Cookie")
                  if h.startswith("site_login="))
    assert "Secure" in cookie
    assert "Domain=example.com" in cookie or "Domain=.example.com" in cookie
    assert "Max-Age=7776000" in cookie  # 90 days: the absolute lifetime


def test_signed_in_state_does_not_live_in_flasks_cookie(browser, reader):
    browser.login("reader@example.com")
    browser.client.delete_cookie("auth_csrf")
    assert browser.get("/account").status_code == 200
    browser.client.delete_cookie(COOKIE)
    assert browser.get("/account").status_code == 302


def test_every_sign_in_rotates_the_session(browser, reader, client, db_session):
    browser.login("reader@example.com")
    first = session_token(browser)
    # Signing in again on the same browser (a form left open in another tab).
    again = browser.submit("/login", {"email": "reader@example.com", "password": PASSWORD},
                           form_url="/password/forgot")
    assert again.status_code == 303
    second = session_token(browser)
    assert first != second
    assert api_status(client, first) == 401
    assert api_status(client, second) == 200
    reasons = db_session.scalars(select(Session.revoked_reason).order_by(Session.created_at)).all()
    assert sorted(reasons, key=str) == sorted(["replaced", None], key=str)


def test_a_forged_cookie_is_not_adopted_at_sign_in(browser, reader, db_session):
    # Session fixation: a token planted before sign-in never becomes a session.
    browser.client.set_cookie(COOKIE, "planted-by-an-attacker")
    browser.login("reader@example.com")
    assert session_token(browser) != "planted-by-an-attacker"
    assert api_status(browser.client, "planted-by-an-attacker") == 401


def test_idle_sessions_expire_and_activity_extends_them(browser, reader, client, clock):
    browser.login("reader@example.com")
    token = session_token(browser)
    clock.advance(days=13)
    assert api_status(client, token) == 200  # use within the idle window...
    clock.advance(days=13)
    assert api_status(client, token) == 200  # ...keeps it alive
    clock.advance(days=14, seconds=1)
    assert api_status(client, token) == 401  # 14 days untouched: gone
    assert browser.get("/account").status_code == 302


@pytest.mark.settings(SESSION_IDLE_TIMEOUT=3600, SESSION_MAX_AGE=3 * 3600)
def test_absolute_expiry_ends_even_an_active_session(browser, reader, client, clock):
    browser.login("reader@example.com")
    token = session_token(browser)
    for _ in range(5):
        clock.advance(minutes=35)
        assert api_status(client, token) == 200
    clock.advance(minutes=6)  # 3 h 1 min after sign-in
    assert api_status(client, token) == 401


def test_last_seen_is_written_at_most_once_a_minute(browser, reader, client, clock, db_session):
    browser.login("reader@example.com")
    token = session_token(browser)
    created = db_session.scalar(select(Session.last_seen_at))
    clock.advance(seconds=30)
    api_status(client, token)
    db_session.expire_all()
    assert db_session.scalar(select(Session.last_seen_at)) == created
    clock.advance(seconds=31)
    api_status(client, token)
    db_session.expire_all()
    assert db_session.scalar(select(Session.last_seen_at)) == service_clock.now()


def test_logout_revokes_the_session(browser, reader, client):
    browser.login("reader@example.com")
    token = session_token(browser)
    response = browser.submit("/logout", {})
    assert response.status_code == 303
    assert api_status(client, token) == 401
    assert any(h.startswith(f"{COOKIE}=;") for h in response.headers.getlist("Set-Cookie"))


def test_revoke_one_session_from_the_account_page(browser, second_browser, reader, client,
                                                  db_session):
    second_browser.client.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0")
    second_browser.login("reader@example.com")
    other = session_token(second_browser)
    browser.client.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36")
    browser.login("reader@example.com")

    page = browser.get("/account/sessions")
    assert "Firefox on Windows" in browser.last_page
    assert "Chrome on Linux" in browser.last_page
    assert browser.last_page.count('<span class="badge ok">this device</span>') == 1
    other_id = db_session.scalar(select(Session.id).where(
        Session.token_hash == hashlib.sha256(other.encode()).hexdigest()))
    assert f"/account/sessions/{other_id}/revoke" in browser.last_page
    assert page.status_code == 200

    done = browser.submit(f"/account/sessions/{other_id}/revoke", {}, form_url="/account")
    assert done.status_code == 303
    assert api_status(client, other) == 401
    assert second_browser.get("/account").status_code == 302  # the very next request
    assert browser.get("/account").status_code == 200  # this browser is untouched
    assert "Firefox on Windows" not in browser.last_page


def test_cannot_revoke_someone_elses_session(browser, second_browser, reader, make_user,
                                             client, db_session):
    make_user("other@example.com")
    second_browser.login("other@example.com")
    victim = session_token(second_browser)
    victim_id = db_session.scalar(select(Session.id))
    browser.login("reader@example.com")
    response = browser.submit(f"/account/sessions/{victim_id}/revoke", {}, form_url="/account")
    assert response.status_code == 404
    assert api_status(client, victim) == 200


def test_sign_out_everywhere(browser, second_browser, reader, client, db_session):
    second_browser.login("reader@example.com")
    browser.login("reader@example.com")
    tokens = [session_token(browser), session_token(second_browser)]
    response = browser.submit("/account/sessions/revoke-all", {}, form_url="/account")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert [api_status(client, t) for t in tokens] == [401, 401]
    events = db_session.scalars(select(AuditEvent.event)).all()
    assert "session.revoked_all" in events


def test_password_change_keeps_this_session_and_ends_the_others(
        browser, second_browser, reader, client, mailbox, deliver):
    second_browser.login("reader@example.com")
    browser.login("reader@example.com")
    mine, other = session_token(browser), session_token(second_browser)

    wrong = browser.submit("/account/password", {"current_password": "not it at all",
                                                 "new_password": "a brand new passphrase"},
                           form_url="/account")
    assert wrong.status_code == 400
    assert "Your current password is not right." in browser.last_page
    assert api_status(client, other) == 200

    done = browser.submit("/account/password", {"current_password": PASSWORD,
                                                "new_password": "a brand new passphrase"},
                          form_url="/account")
    assert done.status_code == 303
    assert api_status(client, mine) == 200
    assert api_status(client, other) == 401
    deliver()
    assert mailbox.subjects("reader@example.com") == ["Your Red Africa Travel password was changed"]
    assert second_browser.login("reader@example.com", "a brand new passphrase").status_code == 303


def test_password_reset_ends_every_session(browser, second_browser, reader, client, mailbox,
                                           deliver):
    second_browser.login("reader@example.com")
    other = session_token(second_browser)
    browser.submit("/password/forgot", {"email": "reader@example.com"})
    deliver()
    path = urlsplit(mailbox.link("reader@example.com", "/password/reset/")).path
    browser.submit(path, {"password": "an entirely new passphrase"})
    assert "Password changed" in browser.last_page
    assert api_status(client, other) == 401
    assert second_browser.get("/account").status_code == 302


def test_disabled_account_sessions_stop_at_once(browser, reader, client, db_session):
    browser.login("reader@example.com")
    token = session_token(browser)
    user = db_session.get(User, reader)
    user.disabled_at = service_clock.now()
    db_session.commit()
    assert api_status(client, token) == 401
    assert browser.get("/account").status_code == 302


def test_deleted_account_cookie_is_refused(browser, reader, client, db_session):
    browser.login("reader@example.com")
    token = session_token(browser)
    db_session.execute(delete(Session))
    db_session.execute(delete(User))
    db_session.commit()
    assert api_status(client, token) == 401
    assert browser.get("/account").status_code == 302


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1],
    lambda t: t[:20],
    lambda t: t + "A",
    lambda t: ("B" if t[0] != "B" else "C") + t[1:],
    lambda t: "",
    lambda t: "x" * 3000,
    lambda t: hashlib.sha256(t.encode()).hexdigest(),  # the stored hash is not a token
])
def test_forged_or_truncated_cookies_are_refused(browser, reader, app, mangle):
    browser.login("reader@example.com")
    forged = mangle(session_token(browser))
    fresh = app.test_client()
    fresh.set_cookie(COOKIE, forged)
    assert fresh.get("/api/session").status_code == 401
    assert fresh.get("/account").status_code == 302
