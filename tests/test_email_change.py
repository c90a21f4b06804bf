"""Change of address from /account: a link to the new address, through a real SMTP server."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from auth_service.models import AuditEvent, User
from tests.conftest import PASSWORD, READER, Browser, local_path, tampered_tokens

OLD = READER
NEW = "ann.new@example.org"
SITE = "Red Africa Travel"
SENT = "We've sent a link to your new address. Your address changes when you open it."


def ask(browser: Browser, typed: str):
    return browser.submit("/account/email", {"email": typed}, form_url="/account")


def seen(browser: Browser) -> str:
    """The last page as a reader reads it: tags dropped, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", browser.last_page).split())


def press_button(browser: Browser, link: str):
    """POST the link's button, as a page opened earlier would (any form's CSRF token works)."""
    return browser.submit(local_path(link), {}, form_url="/password/forgot")


def emailed_link(browser, mailbox, deliver, typed: str = NEW) -> str:
    response = ask(browser, typed)
    assert response.status_code == 303, browser.last_page
    browser.get(response.headers["Location"])
    assert SENT in browser.last_page
    deliver()
    assert mailbox.subject(mailbox.last(NEW)) == f"Confirm your new {SITE} email address"
    return mailbox.link(NEW, "/account/email/confirm/")


def test_the_address_changes_once_the_new_one_confirms(browser, reader, mailbox, deliver,
                                                       db_session):
    browser.login(OLD)
    link = emailed_link(browser, mailbox, deliver, typed=" Ann.New@Example.ORG ")
    assert link.startswith("http://auth.test/account/email/confirm/")
    # Nothing changes before the link is used; its page spends nothing.
    assert db_session.scalar(select(User.email)) == OLD
    page = browser.get(local_path(link))
    assert page.status_code == 200
    assert f"Use {NEW} instead of {OLD}" in seen(browser)
    assert db_session.scalar(select(User.email)) == OLD

    done = browser.submit(local_path(link), {})
    assert done.status_code == 200
    assert f"Your account now uses {NEW}" in seen(browser)
    user = db_session.scalar(select(User))
    db_session.refresh(user)
    assert (user.email, user.email_confirmed) == (NEW, True)
    # The old address is told; the content site sees the new one at once.
    deliver()
    notice = mailbox.last(OLD)
    assert mailbox.subject(notice) == f"Your {SITE} email address was changed"
    assert NEW in mailbox.text(notice)
    assert browser.get("/api/session").json["user"]["email"] == NEW
    # Sign-in is with the new address now.
    browser.client.post("/logout", data={"csrf_token": browser.csrf("/logout")})
    assert Browser(browser.client.application.test_client()).login(OLD).status_code == 400
    assert Browser(browser.client.application.test_client()).login(NEW).status_code == 303
    events = [e.event for e in db_session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert {"email_change.requested", "email_change.confirmed"} <= set(events)


def test_the_link_works_once(browser, reader, mailbox, deliver):
    browser.login(OLD)
    link = emailed_link(browser, mailbox, deliver)
    assert browser.submit(local_path(link), {}).status_code == 200
    again = press_button(browser, link)
    assert again.status_code == 400
    assert f"Your address is already {NEW}." in browser.last_page


def test_the_link_opens_on_another_device_without_signing_in(app, browser, reader, mailbox,
                                                            deliver, db_session):
    browser.login(OLD)
    link = emailed_link(browser, mailbox, deliver)
    phone = Browser(app.test_client())
    assert phone.submit(local_path(link), {}).status_code == 200
    assert "Sign in" in phone.last_page
    assert db_session.scalar(select(User.email)) == NEW


def test_an_address_with_an_account_gets_a_notice_and_the_asker_the_same_answer(
        browser, reader, make_user, mailbox, deliver, db_session):
    make_user(NEW)
    browser.login(OLD)
    response = ask(browser, NEW)
    assert response.status_code == 303
    browser.get(response.headers["Location"])
    assert SENT in browser.last_page  # the same words as for a free address
    deliver()
    notice = mailbox.last(NEW)
    assert mailbox.subject(notice) == f"Someone tried to use your address at {SITE}"
    assert "/account/email/confirm/" not in mailbox.text(notice)
    assert db_session.scalar(select(User.email).where(User.id == reader)) == OLD


def test_an_address_taken_after_the_link_was_sent_is_refused(browser, reader, make_user,
                                                             mailbox, deliver, db_session):
    browser.login(OLD)
    link = emailed_link(browser, mailbox, deliver)
    make_user(NEW)
    response = press_button(browser, link)
    assert response.status_code == 409
    assert "This address now belongs to another account" in browser.last_page
    assert db_session.scalar(select(User.email).where(User.id == reader)) == OLD


@pytest.mark.parametrize(("typed", "message"), [
    ("not an address", "Enter a valid email address."),
    (OLD, "That is already your address."),
    ("", "Enter your email address."),
])
def test_bad_new_addresses_are_refused_on_the_form(browser, reader, mailbox, deliver, typed,
                                                   message):
    browser.login(OLD)
    response = ask(browser, typed)
    assert response.status_code == 400
    assert message in browser.last_page
    deliver()
    assert mailbox.messages == []


def test_an_old_sign_in_must_prove_it_is_the_reader_first(browser, reader, clock, mailbox,
                                                         deliver):
    browser.login(OLD)
    clock.advance(minutes=11)
    asked = ask(browser, NEW)
    assert asked.status_code == 303
    assert asked.headers["Location"].startswith("/account/reauth?next=email")
    browser.get(asked.headers["Location"])
    assert "Changing your email address needs a recent sign-in" in browser.last_page
    back = browser.submit("/account/reauth", {"password": PASSWORD, "next": "email"})
    form = browser.get(back.headers["Location"])
    assert form.headers["Location"].endswith("#email-heading")
    browser.get(form.headers["Location"])
    assert "Enter your new address once more below." in browser.last_page
    assert emailed_link(browser, mailbox, deliver)


def test_a_password_change_kills_a_pending_link(browser, reader, mailbox, deliver,
                                                db_session):
    browser.login(OLD)
    link = emailed_link(browser, mailbox, deliver)
    changed = browser.submit("/account/password", {"current_password": PASSWORD,
                                                   "new_password": "another fine passphrase 9"},
                             form_url="/account")
    assert changed.status_code == 303
    assert press_button(browser, link).status_code == 400
    assert "This link is not valid any more" in browser.last_page
    assert db_session.scalar(select(User.email)) == OLD


def test_a_reset_link_sent_to_the_old_address_dies_with_the_change(app, browser, reader,
                                                                   mailbox, deliver):
    Browser(app.test_client()).submit("/password/forgot", {"email": OLD})
    deliver()
    reset = mailbox.link(OLD, "/password/reset/")
    browser.login(OLD)
    link = local_path(emailed_link(browser, mailbox, deliver))
    assert browser.submit(link, {}).status_code == 200
    stranger = Browser(app.test_client())
    response = stranger.submit(local_path(reset), {"password": "taken over at last 123"})
    assert response.status_code == 400
    assert "This reset link is not valid or has already been used." in stranger.last_page


def test_tampered_links_are_refused(browser, reader, mailbox, deliver, db_session):
    browser.login(OLD)
    link = emailed_link(browser, mailbox, deliver)
    token = local_path(link).rsplit("/", 1)[1]
    for bad in [*tampered_tokens(token), "x" + token[1:], "A" * 5000]:
        response = browser.get(f"/account/email/confirm/{bad}")
        assert response.status_code == 400
        assert "This link doesn't work" in browser.last_page
    assert db_session.scalar(select(User.email)) == OLD


def test_an_expired_link_is_refused(browser, reader, mailbox, deliver, clock, db_session):
    browser.login(OLD)
    link = emailed_link(browser, mailbox, deliver)
    clock.advance(hours=49)
    response = browser.get(local_path(link))
    assert response.status_code == 400
    assert "This link has expired" in browser.last_page
    assert db_session.scalar(select(User.email)) == OLD


def test_a_confirmation_link_is_not_an_email_change_link(browser, make_user, mailbox, deliver):
    # Each purpose has its own salt: a token for one is worthless for another.
    browser.submit("/register", {"email": "zed@example.com", "password": PASSWORD})
    deliver()
    confirm = local_path(mailbox.link("zed@example.com", "/confirm/")).rsplit("/", 1)[1]
    response = browser.get(f"/account/email/confirm/{confirm}")
    assert response.status_code == 400
    assert "This link doesn't work" in browser.last_page
