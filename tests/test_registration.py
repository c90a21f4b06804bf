"""Registration → confirmation email → confirm → sign in, through a real SMTP server."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import func, select

from auth_service.models import AuditEvent, OutboxMessage, User
from tests.conftest import register


def test_register_confirm_and_sign_in(browser, mailbox, deliver, db_session):
    response = register(browser, "Ann.Reader@Example.COM", display_name="Ann")
    assert response.status_code == 200
    assert "Check your email" in browser.last_page

    # Not delivered until the worker runs: the email sits in the outbox.
    assert mailbox.messages == []
    assert deliver().sent == 1
    message = mailbox.last("ann.reader@example.com")
    assert mailbox.subject(message) == "Confirm your email address for Red Africa Travel"
    link = mailbox.link("ann.reader@example.com", "/confirm/")
    assert link.startswith("http://auth.test/confirm/")
    assert link in mailbox.html(message)

    # Before confirming, the password is right but sign-in is refused with a way forward.
    refused = browser.login("ann.reader@example.com")
    assert refused.status_code == 403
    assert "Confirm your email address first" in browser.last_page
    assert "/confirm/resend" in browser.last_page

    path = urlsplit(link).path
    page = browser.get(path)
    assert page.status_code == 200
    assert "Confirm my address" in browser.last_page
    confirmed = browser.submit(path, {})
    assert confirmed.status_code == 200
    assert "Address confirmed" in browser.last_page

    signed_in = browser.login("ann.reader@example.com")
    assert signed_in.status_code == 303
    assert signed_in.headers["Location"] == "/account"
    account = browser.get("/account")
    assert account.status_code == 200
    assert "ann.reader@example.com" in browser.last_page
    assert "Ann" in browser.last_page

    events = db_session.scalars(select(AuditEvent.event).order_by(AuditEvent.id)).all()
    assert events == ["registration.created", "login.failed", "verification.confirmed",
                      "login.succeeded"]


def test_address_is_normalised_and_case_insensitive(browser, deliver, db_session, mailbox):
    register(browser, "  Someone@EXAMPLE.com ")
    register(browser, "someone@example.com")
    assert db_session.scalar(select(func.count()).select_from(User)) == 1
    assert db_session.scalar(select(User.email)) == "someone@example.com"
    deliver()
    subjects = mailbox.subjects("someone@example.com")
    assert subjects[0].startswith("Confirm your email address")
    assert subjects[1].startswith("Someone tried to create an account")


def test_the_longest_local_part_the_standard_allows_is_accepted(browser, db_session):
    longest = "x" * 64 + "@example.com"  # RFC 5321: 64 octets; 65 is refused (test_bad_input)
    register(browser, longest)
    assert db_session.scalar(select(User.email)) == longest


def test_registered_address_gets_the_same_page_and_an_email(browser, make_user, deliver,
                                                            mailbox, db_session):
    make_user("taken@example.com", "an old password 123")
    fresh = register(browser, "fresh@example.com")
    fresh_page = browser.last_page
    taken = register(browser, "taken@example.com")
    assert (fresh.status_code, taken.status_code) == (200, 200)
    assert browser.last_page == fresh_page

    deliver()
    notice = mailbox.last("taken@example.com")
    assert "Someone tried to create an account" in mailbox.subject(notice)
    body = mailbox.text(notice)
    assert "http://auth.test/login" in body
    assert "http://auth.test/password/forgot" in body
    # No confirmation link: the first registrant chose that password, not necessarily the owner.
    assert "/confirm/" not in body
    # The existing account is untouched: the old password still works, the new one does not.
    user = db_session.scalar(select(User).where(User.email == "taken@example.com"))
    assert user.display_name is None
    assert browser.login("taken@example.com", "an old password 123").status_code == 303


def test_weak_passwords_are_refused_with_a_reason(browser, db_session):
    cases = {
        "short1": "at least 8 characters",
        "password123": "too common",
        "aaaaaaaaaaaa": "repeats too few characters",
        "person@example.com": "Don't use your email address",
        "x" * 257: "at most 256 characters",
    }
    for password, reason in cases.items():
        response = register(browser, "person@example.com", password)
        assert response.status_code == 400, password
        assert reason in browser.last_page, password
    assert db_session.scalar(select(func.count()).select_from(User)) == 0
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_long_passphrases_and_unicode_are_accepted(browser, deliver, mailbox, db_session):
    passphrase = "Ünïcödé passphrase with spaces, " + "ß" * 200
    assert register(browser, "long@example.com", passphrase[:256]).status_code == 200
    assert db_session.scalar(select(func.count()).select_from(User)) == 1


def test_return_to_survives_confirmation(browser, deliver, mailbox):
    register(browser, "back@example.com", return_to="https://trusted.example/articles/tito")
    deliver()
    path = urlsplit(mailbox.link("back@example.com", "/confirm/")).path
    browser.submit(path, {})
    assert "/login?return_to=https://trusted.example/articles/tito" in browser.last_page
    signed_in = browser.login("back@example.com",
                              return_to="https://trusted.example/articles/tito")
    assert signed_in.headers["Location"] == "https://trusted.example/articles/tito"
