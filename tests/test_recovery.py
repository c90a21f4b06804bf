"""Forgot password → emailed link → new password, through a real SMTP server."""

from __future__ import annotations

import html
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from auth_service.models import AuditEvent, User
from tests.conftest import CSRF, PASSWORD, Browser, forgot, local_path, tampered_tokens

NEW_PASSWORD = "a brand new passphrase 2024"
SUBJECT_RESET = "Reset your Red Africa Travel password"
SUBJECT_CHANGED = "Your Red Africa Travel password was changed"
SENT_PAGE = "If an account uses that address, we've sent it a link to reset the password."
INVALID = "This reset link is not valid or has already been used."
EXPIRED = "This reset link has expired."


def reset_link(browser, mailbox, deliver, email: str, typed: str | None = None) -> str:
    """Ask for a reset link (typing ``typed``, default ``email``); return it as emailed."""
    response = forgot(browser, typed or email)
    assert response.status_code == 200
    assert SENT_PAGE in browser.last_page
    assert deliver().sent >= 1
    assert mailbox.subject(mailbox.last(email)) == SUBJECT_RESET
    return mailbox.link(email, "/password/reset/")


def set_password(browser: Browser, path: str, password: str = NEW_PASSWORD):
    return browser.submit(path, {"password": password})


def assert_refused_with_new_link_form(response, browser: Browser, message: str) -> None:
    """A dead link: a 4xx page that says why and offers to send a new link."""
    assert 400 <= response.status_code < 500
    assert message in browser.last_page
    assert "Ask for a new one below." in browser.last_page
    assert 'action="/password/forgot"' in browser.last_page
    assert "Send a new reset link" in browser.last_page
    assert "Set new password" not in browser.last_page


def signed_in(browser: Browser) -> bool:
    return browser.get("/account").status_code == 200


def test_forgot_email_reset_and_sign_in(browser, mailbox, deliver, make_user, clock):
    make_user("reader@example.com")
    link = reset_link(browser, mailbox, deliver, "reader@example.com", " Reader@Example.COM")
    assert link.startswith("http://auth.test/password/reset/")
    assert link in mailbox.html(mailbox.last("reader@example.com"))
    assert "expires in 60 minutes" in mailbox.text(mailbox.last("reader@example.com"))

    # GET (a mail scanner, then the reader) and HEAD spend nothing.
    path = local_path(link)
    for _ in range(2):
        page = browser.get(path)
        assert page.status_code == 200
        assert "Choose a new password" in browser.last_page
        assert "reader@example.com" in browser.last_page
    assert browser.client.head(path).status_code == 200
    # Looking at the form spent nothing: the old password still works.
    assert browser.login("reader@example.com").status_code == 303
    browser.submit("/logout", {})

    done = set_password(browser, path)
    assert done.status_code == 200
    assert "Password changed" in browser.last_page
    assert "signed out everywhere" in browser.last_page

    assert deliver().sent == 1
    notice = mailbox.last("reader@example.com")
    assert mailbox.subject(notice) == SUBJECT_CHANGED
    assert "http://auth.test/password/forgot" in mailbox.text(notice)
    assert "/password/reset/" not in mailbox.text(notice)

    refused = browser.login("reader@example.com", PASSWORD)
    assert refused.status_code == 400
    assert "don't match an account" in browser.last_page
    assert not signed_in(browser)
    accepted = browser.login("reader@example.com", NEW_PASSWORD)
    assert accepted.status_code == 303
    assert signed_in(browser)
    browser.submit("/logout", {})

    # The link worked once: now it is refused, both to look at and to use.
    again = browser.get(path)
    assert_refused_with_new_link_form(again, browser, INVALID)
    reused = browser.client.post(path, data={"csrf_token": browser.csrf("/password/forgot"),
                                             "password": "yet another passphrase 99"})
    assert 400 <= reused.status_code < 500
    assert INVALID in html.unescape(reused.get_data(as_text=True))
    assert browser.login("reader@example.com", "yet another passphrase 99").status_code == 400
    assert browser.login("reader@example.com", NEW_PASSWORD).status_code == 303

    # The page's form really sends a new link.
    browser.submit("/logout", {})
    clock.advance(seconds=5)
    browser.get(path)
    token = CSRF.search(browser.last_page).group(1)
    browser.client.post("/password/forgot", data={"csrf_token": token,
                                                  "email": "reader@example.com"})
    deliver()
    fresh = mailbox.link("reader@example.com", "/password/reset/")
    assert fresh != link
    assert browser.get(local_path(fresh)).status_code == 200


def test_link_is_built_from_base_url_not_host_header(client, mailbox, deliver, make_user):
    make_user("reader@example.com")
    for headers in ({"Host": "evil.example"}, {"X-Forwarded-Host": "evil.example"}):
        page = client.get("/password/forgot", headers=headers)
        token = CSRF.search(page.get_data(as_text=True)).group(1)
        sent = client.post("/password/forgot", headers=headers,
                           data={"csrf_token": token, "email": "reader@example.com"})
        assert sent.status_code == 200
        assert deliver().sent == 1
        message = mailbox.last("reader@example.com")
        link = mailbox.link("reader@example.com", "/password/reset/")
        assert link.startswith("http://auth.test/password/reset/")
        assert "evil.example" not in mailbox.text(message)
        assert "evil.example" not in mailbox.html(message)


def test_unknown_address_gets_the_same_page_and_no_email(browser, mailbox, deliver, make_user):
    make_user("known@example.com")
    known = forgot(browser, "known@example.com")
    known_page = browser.last_page
    unknown = forgot(browser, "nobody@example.com")
    assert (known.status_code, unknown.status_code) == (200, 200)
    assert browser.last_page == known_page
    assert SENT_PAGE in browser.last_page
    deliver()
    assert mailbox.to("nobody@example.com") == []
    assert len(mailbox.to("known@example.com")) == 1


def test_disabled_account_gets_no_email(browser, mailbox, deliver, make_user):
    make_user("active@example.com")
    make_user("disabled@example.com", disabled=True)
    forgot(browser, "active@example.com")
    active_page = browser.last_page
    response = forgot(browser, "disabled@example.com")
    assert response.status_code == 200
    assert browser.last_page == active_page
    deliver()
    assert mailbox.to("disabled@example.com") == []


def test_link_of_an_account_disabled_later_is_refused(browser, mailbox, deliver, make_user,
                                                      db_session):
    make_user("reader@example.com")
    path = local_path(reset_link(browser, mailbox, deliver, "reader@example.com"))
    user = db_session.scalar(select(User).where(User.email == "reader@example.com"))
    user.disabled_at = user.created_at
    db_session.commit()
    assert_refused_with_new_link_form(browser.get(path), browser, INVALID)


def test_expired_link_is_refused_with_a_clear_page(browser, mailbox, deliver, make_user, clock):
    make_user("reader@example.com")
    path = local_path(reset_link(browser, mailbox, deliver, "reader@example.com"))
    clock.advance(minutes=59)
    assert browser.get(path).status_code == 200
    clock.advance(minutes=2)
    page = browser.get(path)
    assert_refused_with_new_link_form(page, browser, EXPIRED)
    assert "This link has expired" in browser.last_page
    assert set_password(browser, path, NEW_PASSWORD).status_code == 400
    assert EXPIRED in browser.last_page
    assert browser.login("reader@example.com", NEW_PASSWORD).status_code == 400
    assert browser.login("reader@example.com", PASSWORD).status_code == 303


def test_tampered_links_are_refused(browser, mailbox, deliver, make_user):
    make_user("reader@example.com")
    path = local_path(reset_link(browser, mailbox, deliver, "reader@example.com"))
    prefix, token = path.rsplit("/", 1)
    for bad in tampered_tokens(token):
        assert bad != token
        page = browser.get(f"{prefix}/{bad}")
        assert_refused_with_new_link_form(page, browser, INVALID)
    # The untouched link still works.
    assert set_password(browser, path).status_code == 200


def test_confirmation_token_is_not_a_reset_token(browser, mailbox, deliver, make_user):
    make_user("new@example.com", confirmed=False)
    browser.submit("/confirm/resend", {"email": "new@example.com"})
    deliver()
    confirm_token = local_path(mailbox.link("new@example.com", "/confirm/")).rsplit("/", 1)[1]
    page = browser.get(f"/password/reset/{confirm_token}")
    assert_refused_with_new_link_form(page, browser, INVALID)
    assert browser.login("new@example.com", NEW_PASSWORD).status_code == 400


def test_link_dies_when_the_password_changes_another_way(browser, mailbox, deliver, make_user,
                                                        clock):
    make_user("reader@example.com")
    first = local_path(reset_link(browser, mailbox, deliver, "reader@example.com"))
    clock.advance(minutes=5)
    second = local_path(reset_link(browser, mailbox, deliver, "reader@example.com"))
    assert first != second
    assert browser.get(first).status_code == 200

    assert set_password(browser, second, NEW_PASSWORD).status_code == 200
    assert_refused_with_new_link_form(browser.get(first), browser, INVALID)
    browser.client.post(first, data={"csrf_token": browser.csrf("/password/forgot"),
                                     "password": "the attacker's choice 1"})
    assert browser.login("reader@example.com", "the attacker's choice 1").status_code == 400
    assert browser.login("reader@example.com", NEW_PASSWORD).status_code == 303


def test_weak_password_is_refused_and_the_link_still_works(browser, mailbox, deliver, make_user):
    make_user("reader@example.com")
    path = local_path(reset_link(browser, mailbox, deliver, "reader@example.com"))
    cases = {
        "short1": "at least 8 characters",
        "password123": "too common",
        "reader@example.com": "Don't use your email address",
    }
    for password, reason in cases.items():
        refused = set_password(browser, path, password)
        assert refused.status_code == 400, password
        assert reason in browser.last_page, password
        assert "Choose a new password" in browser.last_page
    deliver()
    assert SUBJECT_CHANGED not in mailbox.subjects("reader@example.com")
    assert browser.login("reader@example.com", PASSWORD).status_code == 303
    browser.submit("/logout", {})

    assert browser.get(path).status_code == 200
    assert set_password(browser, path, NEW_PASSWORD).status_code == 200
    assert browser.login("reader@example.com", NEW_PASSWORD).status_code == 303


def test_reset_signs_out_every_browser(app, browser, mailbox, deliver, make_user):
    make_user("reader@example.com")
    other = Browser(app.test_client())
    assert other.login("reader@example.com").status_code == 303
    assert signed_in(other)

    path = local_path(reset_link(browser, mailbox, deliver, "reader@example.com"))
    assert signed_in(other)  # asking for a link changes nothing yet
    assert set_password(browser, path).status_code == 200

    page = other.get("/account")
    assert page.status_code == 302
    assert urlsplit(page.headers["Location"]).path == "/login"
    assert not signed_in(browser)
    # Signing in again with the new password works on the other browser.
    assert other.login("reader@example.com", NEW_PASSWORD).status_code == 303
    assert signed_in(other)


def test_reset_confirms_an_unconfirmed_address(browser, mailbox, deliver, make_user,
                                               db_session):
    make_user("new@example.com", confirmed=False)
    assert browser.login("new@example.com").status_code == 403
    path = local_path(reset_link(browser, mailbox, deliver, "new@example.com"))
    assert set_password(browser, path).status_code == 200
    user = db_session.scalar(select(User).where(User.email == "new@example.com"))
    assert user.email_confirmed_at is not None
    assert browser.login("new@example.com", NEW_PASSWORD).status_code == 303


def test_audit_log_records_request_and_completion(browser, mailbox, deliver, make_user,
                                                  db_session):
    user_id = make_user("reader@example.com")
    path = local_path(reset_link(browser, mailbox, deliver, "reader@example.com"))
    forgot(browser, "nobody@example.com")
    set_password(browser, path)
    rows = db_session.execute(
        select(AuditEvent.event, AuditEvent.user_id, AuditEvent.details)
        .where(AuditEvent.event.like("recovery.%")).order_by(AuditEvent.id)
    ).all()
    assert [(event, uid) for event, uid, _ in rows] == [
        ("recovery.requested", user_id),
        ("recovery.requested", None),
        ("recovery.completed", user_id),
    ]
    token = path.rsplit("/", 1)[1]
    for _, _, details in rows:
        assert token not in str(details)
        assert NEW_PASSWORD not in str(details)


@pytest.mark.settings(RESET_MAX_AGE=10 * 60)
def test_reset_max_age_is_honoured(browser, mailbox, deliver, make_user, clock):
    make_user("reader@example.com")
    path = local_path(reset_link(browser, mailbox, deliver, "reader@example.com"))
    message = mailbox.last("reader@example.com")
    assert "expires in 10 minutes" in mailbox.text(message)
    assert "expires in 10 minutes" in mailbox.html(message)
    clock.advance(minutes=9)
    assert browser.get(path).status_code == 200
    clock.advance(minutes=2)
    assert_refused_with_new_link_form(browser.get(path), browser, EXPIRED)
