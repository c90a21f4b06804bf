"""The confirmation link: look without spending, confirm once, expire, resend."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from auth_service.models import User
from tests.conftest import CSRF, PASSWORD, Browser, register, tampered_tokens

SUBJECT = "Confirm your email address for Red Africa Travel"
RESENT_PAGE = "If that address belongs to an account that still needs confirming"
NOT_VALID = "This confirmation link is not valid."
ALREADY = "This address is already confirmed. You can sign in."


def confirm_path(mailbox, email: str) -> str:
    message = mailbox.last(email)
    assert mailbox.subject(message) == SUBJECT
    link = mailbox.link(email, "/confirm/")
    assert link.startswith("http://auth.test/confirm/")
    return urlsplit(link).path


def registered(browser, mailbox, deliver, email: str = "new@example.com") -> str:
    """Register ``email`` and return the path of the confirmation link it receives."""
    assert register(browser, email).status_code == 200
    assert deliver().sent == 1
    return confirm_path(mailbox, email)


def is_confirmed(db_session, email: str) -> bool:
    db_session.expire_all()
    user = db_session.scalar(select(User).where(User.email == email))
    return user.email_confirmed_at is not None


def resend_form_email(page: str) -> str | None:
    """The value pre-filled in the resend form's email field, if any."""
    form = re.search(r'<form[^>]*action="/confirm/resend".*?</form>', page, re.S)
    assert form, "no resend form on the page"
    field = re.search(r'<input[^>]*name="email"[^>]*>', form.group(0))
    assert field, "no email field in the resend form"
    value = re.search(r'value="([^"]*)"', field.group(0))
    return value.group(1) if value else None


def assert_offers_resend(response, browser: Browser, heading: str, message: str) -> None:
    assert 400 <= response.status_code < 500
    assert heading in browser.last_page
    assert message in browser.last_page
    assert "Send a new link" in browser.last_page
    assert "Confirm my address" not in browser.last_page


def test_get_and_head_do_not_spend_the_link(browser, mailbox, deliver, db_session):
    path = registered(browser, mailbox, deliver)
    for _ in range(3):
        page = browser.get(path)
        assert page.status_code == 200
        assert "Confirm my address" in browser.last_page
        assert "new@example.com" in browser.last_page
        head = browser.client.head(path)
        assert head.status_code == 200
    assert not is_confirmed(db_session, "new@example.com")
    assert browser.login("new@example.com").status_code == 403

    confirmed = browser.submit(path, {})
    assert confirmed.status_code == 200
    assert "Address confirmed" in browser.last_page
    assert is_confirmed(db_session, "new@example.com")
    assert browser.login("new@example.com").status_code == 303


def test_post_without_csrf_does_not_confirm(browser, mailbox, deliver, db_session):
    path = registered(browser, mailbox, deliver)
    refused = browser.client.post(path, data={})
    assert refused.status_code == 400
    assert not is_confirmed(db_session, "new@example.com")


def test_second_post_says_already_confirmed(browser, mailbox, deliver, db_session):
    path = registered(browser, mailbox, deliver)
    token = browser.csrf(path)  # the page stays open: a double click, or back and resubmit
    first = browser.client.post(path, data={"csrf_token": token})
    assert first.status_code == 200
    second = browser.client.post(path, data={"csrf_token": token})
    page = second.get_data(as_text=True)
    assert 400 <= second.status_code < 500
    assert "Already confirmed" in page
    assert ALREADY in page
    assert 'href="/login"' in page
    assert "Something went wrong" not in page

    # Opening the link again later says the same, with a way to sign in.
    again = browser.get(path)
    assert 400 <= again.status_code < 500
    assert ALREADY in browser.last_page
    assert is_confirmed(db_session, "new@example.com")


def test_expired_link_offers_a_new_one_prefilled(browser, mailbox, deliver, db_session, clock):
    path = registered(browser, mailbox, deliver, "late@example.com")
    clock.advance(hours=47)
    assert browser.get(path).status_code == 200
    clock.advance(hours=2)

    page = browser.get(path)
    assert_offers_resend(page, browser, "This link has expired",
                         "This confirmation link has expired.")
    assert resend_form_email(browser.last_page) == "late@example.com"
    token = browser.csrf(path)
    expired_post = browser.client.post(path, data={"csrf_token": token})
    assert 400 <= expired_post.status_code < 500
    assert not is_confirmed(db_session, "late@example.com")

    # Submitting the offered form, as it is, sends a new link that works.
    token = CSRF.search(browser.get(path).get_data(as_text=True)).group(1)
    sent = browser.client.post("/confirm/resend", data={
        "csrf_token": token, "email": resend_form_email(browser.last_page)})
    assert sent.status_code == 200
    assert deliver().sent == 1
    new_path = confirm_path(mailbox, "late@example.com")
    assert new_path != path
    assert browser.submit(new_path, {}).status_code == 200
    assert "Address confirmed" in browser.last_page
    assert is_confirmed(db_session, "late@example.com")


def test_expired_link_of_a_confirmed_address_says_already_confirmed(browser, mailbox, deliver,
                                                                    clock):
    path = registered(browser, mailbox, deliver)
    assert browser.submit(path, {}).status_code == 200
    clock.advance(hours=49)
    page = browser.get(path)
    assert 400 <= page.status_code < 500
    assert ALREADY in browser.last_page


def test_tampered_or_truncated_link_is_not_valid(browser, mailbox, deliver, db_session):
    path = registered(browser, mailbox, deliver)
    prefix, token = path.rsplit("/", 1)
    for bad in tampered_tokens(token):
        get = browser.get(f"{prefix}/{bad}")
        assert_offers_resend(get, browser, "This link doesn't work", NOT_VALID)
        assert resend_form_email(browser.last_page) in (None, "")
        post = browser.client.post(f"{prefix}/{bad}",
                                   data={"csrf_token": browser.csrf("/confirm/resend")})
        assert 400 <= post.status_code < 500
    assert not is_confirmed(db_session, "new@example.com")
    # A reset link is no confirmation link either.
    browser.submit("/password/forgot", {"email": "new@example.com"})
    deliver()
    reset_token = mailbox.link("new@example.com", "/password/reset/").rsplit("/", 1)[1]
    assert_offers_resend(browser.get(f"/confirm/{reset_token}"), browser,
                         "This link doesn't work", NOT_VALID)
    assert not is_confirmed(db_session, "new@example.com")


def test_resend_only_to_unconfirmed_accounts_with_the_same_page(browser, mailbox, deliver,
                                                                make_user, db_session):
    make_user("pending@example.com", confirmed=False)
    make_user("done@example.com", confirmed=True)
    make_user("off@example.com", confirmed=False, disabled=True)
    pages = {}
    for email in ("pending@example.com", "done@example.com", "nobody@example.com",
                  "off@example.com"):
        response = browser.submit("/confirm/resend", {"email": email})
        assert response.status_code == 200, email
        assert RESENT_PAGE in browser.last_page
        pages[email] = browser.last_page
    assert len(set(pages.values())) == 1

    assert deliver().sent == 1
    assert [m["To"] for m in mailbox.messages] == ["pending@example.com"]
    path = confirm_path(mailbox, "pending@example.com")
    # This browser did not register the account: the page asks for its password.
    assert browser.submit(path, {"password": PASSWORD}).status_code == 200
    assert is_confirmed(db_session, "pending@example.com")


def test_resend_page_prefills_the_address_from_the_query(browser):
    page = browser.get("/confirm/resend?email=someone@example.com")
    assert page.status_code == 200
    assert resend_form_email(browser.last_page) == "someone@example.com"


def test_unconfirmed_account_cannot_sign_in_by_default(browser, make_user):
    make_user("pending@example.com", confirmed=False)
    refused = browser.login("pending@example.com")
    assert refused.status_code == 403
    assert "Confirm your email address first" in browser.last_page
    assert browser.get("/account").status_code == 302


@pytest.mark.settings(REQUIRE_CONFIRMED_EMAIL=False)
def test_unconfirmed_account_can_sign_in_when_not_required(browser, make_user):
    make_user("pending@example.com", confirmed=False)
    response = browser.login("pending@example.com")
    assert response.status_code == 303
    assert browser.get("/account").status_code == 200
    assert "pending@example.com" in browser.last_page


@pytest.mark.settings(CONFIRM_MAX_AGE=2 * 3600)
def test_confirm_max_age_is_honoured(browser, mailbox, deliver, db_session, clock):
    path = registered(browser, mailbox, deliver)
    assert "expires in 2 hours" in mailbox.text(mailbox.last("new@example.com"))
    clock.advance(hours=1, minutes=59)
    assert browser.get(path).status_code == 200
    clock.advance(minutes=2)
    page = browser.get(path)
    assert_offers_resend(page, browser, "This link has expired",
                         "This confirmation link has expired.")
    assert not is_confirmed(db_session, "new@example.com")


@pytest.mark.settings(CONFIRM_MAX_AGE=30 * 60)
def test_short_confirm_max_age_is_told_in_minutes(browser, mailbox, deliver, clock):
    path = registered(browser, mailbox, deliver)
    message = mailbox.last("new@example.com")
    assert "expires in 30 minutes" in mailbox.text(message)
    assert "expires in 30 minutes" in mailbox.html(message)
    clock.advance(minutes=31)
    assert_offers_resend(browser.get(path), browser, "This link has expired",
                         "This confirmation link has expired.")
