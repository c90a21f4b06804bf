"""A reader deletes their own account from /account ("Delete account")."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from auth_service.models import AuditEvent, Identity, OutboxMessage, Session, User
from tests.conftest import PASSWORD, READER, Browser

COOKIE = "auth_session"
EMAIL = READER


def count(db_session, model) -> int:
    return db_session.scalar(select(func.count()).select_from(model))


def delete(browser: Browser, typed: str = EMAIL):
    return browser.submit("/account/delete", {"email": typed}, form_url="/account")


def test_deleting_ones_account_removes_it_everywhere(app, browser, reader, make_user,
                                                       db_session):
    other_device = Browser(app.test_client())
    other_device.login(EMAIL)
    browser.login(EMAIL)
    token = browser.client.get_cookie(COOKIE).value
    db_session.add(Identity(user_id=reader, provider="github", subject="42"))
    db_session.commit()
    assert "Delete your account" in browser.get("/account/data").get_data(as_text=True)

    response = delete(browser, typed="  Reader@Example.COM ")  # as typed, case and spaces aside
    assert response.status_code == 200
    assert "Your account was deleted" in browser.last_page
    assert browser.client.get_cookie(COOKIE) is None  # this browser's cookie is cleared
    for model in (User, Session, Identity):
        assert count(db_session, model) == 0, model
    # Every device is signed out at once, and the content site sees nobody.
    assert other_device.get("/account").status_code == 302
    fresh = app.test_client()
    assert fresh.get("/api/session", headers={"Authorization": f"Bearer {token}"}
                     ).status_code == 401
    events = db_session.scalars(select(AuditEvent)).all()
    assert events[-1].event == "account.deleted"
    assert {event.user_id for event in events} == {None}
    # The old password signs nobody in; the address is free for a new account.
    assert Browser(app.test_client()).login(EMAIL).status_code == 400
    make_user(EMAIL)


def test_unsent_mail_to_the_account_is_dropped(browser, reader, db_session):
    browser.login(EMAIL)
    db_session.add(OutboxMessage(template="x", to_address=EMAIL, subject="s", body_text="b",
                                 body_html="b"))
    db_session.commit()
    assert delete(browser).status_code == 200
    assert count(db_session, OutboxMessage) == 0


@pytest.mark.parametrize("typed", ["", "someone@example.com", "reader@example"])
def test_the_address_must_be_typed_to_confirm(browser, reader, db_session, typed):
    browser.login(EMAIL)
    response = delete(browser, typed=typed)
    assert response.status_code == 400
    assert count(db_session, User) == 1
    assert browser.get("/account").status_code == 200  # still signed in


def test_a_post_without_the_csrf_token_deletes_nothing(browser, reader, db_session):
    browser.login(EMAIL)
    response = browser.client.post("/account/delete", data={"email": EMAIL})
    assert response.status_code == 400
    assert count(db_session, User) == 1


def test_signed_out_visitors_cannot_delete(browser, reader, db_session):
    # A valid CSRF token (from any form) and the address are not enough without a session.
    response = browser.submit("/account/delete", {"email": EMAIL}, form_url="/password/forgot")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert count(db_session, User) == 1


def test_an_old_sign_in_must_prove_it_is_the_reader_first(browser, reader, clock, db_session):
    # A browser left signed in must not be enough to erase its owner's account.
    browser.login(EMAIL)
    clock.advance(minutes=11)
    asked = delete(browser)
    assert asked.status_code == 303
    assert asked.headers["Location"].startswith("/account/reauth?next=delete")
    assert count(db_session, User) == 1

    wrong = browser.submit("/account/reauth", {"password": "not-it-at-all", "next": "delete"})
    assert wrong.status_code == 400
    back = browser.submit("/account/reauth", {"password": PASSWORD, "next": "delete"})
    assert back.status_code == 303
    form = browser.get(back.headers["Location"])  # /account/reauth/done?next=delete
    assert form.status_code == 303
    assert form.headers["Location"].endswith("#delete-heading")
    browser.get(form.headers["Location"])
    assert "Confirm once more below to delete your account" in browser.last_page
    assert delete(browser).status_code == 200
    assert count(db_session, User) == 0
