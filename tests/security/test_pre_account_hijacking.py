"""Pre-account hijacking: someone registers (or continues with a provider account) using the
victim's address before the victim does. When the victim confirms the address by the emailed
link, nothing the squatter attached may still sign in."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from auth_service.models import Identity, Session, User
from tests.conftest import PASSWORD, Browser, mail_path, register
from tests.social_support import continue_with, local_path

VICTIM = "victim@example.com"
SQUATTER_PASSWORD = "the squatter's own passphrase"


def confirmation(mailbox, deliver) -> str:
    deliver()
    return mail_path(mailbox, VICTIM, "/confirm/")


def signs_in(app, email: str, password: str) -> bool:
    return Browser(app.test_client()).login(email, password).status_code == 303


def count(db_session, model) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model))


def test_the_squatters_password_dies_when_the_victim_confirms(app, browser, mailbox, deliver,
                                                               db_session):
    register(browser, VICTIM, SQUATTER_PASSWORD)
    link = confirmation(mailbox, deliver)
    victim = Browser(app.test_client())
    victim.get(link)
    assert 'name="password"' in victim.last_page  # not the browser that chose it: it asks
    done = victim.submit(link, {"password": ""})
    assert done.status_code == 303
    assert "/password/reset/" in done.headers["Location"]
    assert not signs_in(app, VICTIM, SQUATTER_PASSWORD)
    # The victim chooses a password on the spot and is in.
    victim.get(local_path(done.headers["Location"]))
    assert "is confirmed" in victim.last_page
    assert victim.submit(local_path(done.headers["Location"]),
                         {"password": "the victim's real passphrase"}).status_code == 200
    assert signs_in(app, VICTIM, "the victim's real passphrase")
    assert not signs_in(app, VICTIM, SQUATTER_PASSWORD)


def test_a_wrong_password_on_the_confirm_page_changes_nothing(app, browser, mailbox, deliver,
                                                               db_session):
    register(browser, VICTIM, SQUATTER_PASSWORD)
    link = confirmation(mailbox, deliver)
    victim = Browser(app.test_client())
    answer = victim.submit(link, {"password": "a guess at it"})
    assert answer.status_code == 400
    assert "not this account's password" in victim.last_page
    user = db_session.scalar(select(User))
    assert user.email_confirmed_at is None


def test_registering_on_a_laptop_and_confirming_on_a_phone_asks_for_the_password(
        app, browser, mailbox, deliver):
    register(browser, VICTIM, PASSWORD)
    link = confirmation(mailbox, deliver)
    phone = Browser(app.test_client())
    assert phone.submit(link, {"password": PASSWORD}).status_code == 200
    assert "Address confirmed" in phone.last_page
    assert signs_in(app, VICTIM, PASSWORD)


def test_confirming_in_the_browser_that_registered_asks_nothing(app, browser, mailbox, deliver):
    register(browser, VICTIM, PASSWORD)
    link = confirmation(mailbox, deliver)
    browser.get(link)
    assert 'name="password"' not in browser.last_page
    assert browser.submit(link, {}).status_code == 200
    assert signs_in(app, VICTIM, PASSWORD)


def test_a_browser_that_signed_in_with_the_password_before_confirming_keeps_it(
        app, browser, mailbox, deliver):
    register(browser, VICTIM, PASSWORD)
    link = confirmation(mailbox, deliver)
    phone = Browser(app.test_client())
    assert phone.login(VICTIM, PASSWORD).status_code == 403  # "confirm your address first"
    phone.get(link)
    assert 'name="password"' not in phone.last_page
    assert phone.submit(link, {}).status_code == 200
    assert signs_in(app, VICTIM, PASSWORD)


@pytest.mark.settings(REQUIRE_CONFIRMED_EMAIL=False)
def test_the_squatters_sessions_end_when_the_victim_confirms(app, browser, mailbox, deliver,
                                                             db_session):
    register(browser, VICTIM, SQUATTER_PASSWORD)
    assert browser.login(VICTIM, SQUATTER_PASSWORD).status_code == 303  # allowed: not required
    link = confirmation(mailbox, deliver)
    Browser(app.test_client()).submit(link, {"password": ""})
    assert browser.get("/api/session").status_code == 401
    assert db_session.scalar(select(func.count()).select_from(Session)
                             .where(Session.revoked_at.is_(None))) == 0


def test_the_squatters_unverified_provider_account_is_unlinked(app, browser, provider,
                                                               mailbox, deliver, db_session):
    provider.set_user("squatter", email=VICTIM, email_verified=False, name="Squatter")
    assert continue_with(browser, "squatter").status_code == 403  # "confirm first"
    deliver()
    mail = mailbox.last(VICTIM)
    assert "Travel ID" in mailbox.text(mail)  # the email names the provider, as the page does
    assert "Squatter" not in mailbox.text(mail) + mailbox.html(mail)
    link = mail_path(mailbox, VICTIM, "/confirm/")
    victim = Browser(app.test_client())
    victim.get(link)
    assert "Confirming here unlinks <strong>Travel ID</strong>" in victim.last_page
    done = victim.submit(link, {})
    assert done.status_code == 303  # no way in left: choose a password
    assert count(db_session, Identity) == 0
    # The squatter's round trip no longer reaches the account.
    assert continue_with(browser, "squatter").status_code == 409
    assert browser.get("/api/session").status_code == 401


def test_a_reader_who_signed_up_with_a_provider_keeps_it_confirming_in_that_browser(
        app, browser, provider, mailbox, deliver, db_session):
    provider.set_user("reader", email=VICTIM, email_verified=False, name="Reader")
    assert continue_with(browser, "reader").status_code == 403
    link = confirmation(mailbox, deliver)
    browser.get(link)
    assert "unlinks" not in browser.last_page
    assert browser.submit(link, {}).status_code == 200
    assert count(db_session, Identity) == 1
    assert continue_with(browser, "reader").status_code == 303


def test_mail_to_an_unproven_address_never_carries_the_name_typed(browser, mailbox, deliver):
    register(browser, VICTIM, PASSWORD, display_name="Claim your prize at evil.example")
    deliver()
    mail = mailbox.last(VICTIM)
    assert "evil.example" not in mailbox.text(mail) + mailbox.html(mail)
