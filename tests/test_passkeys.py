"""Passkeys (WebAuthn) with a software authenticator: register from /account, sign in with one
alone, use one as the second factor, remove one; and the answers that must not work."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from auth_service.models import AuditEvent, WebAuthnChallenge, WebAuthnCredential
from tests.conftest import READER
from tests.webauthn_support import SoftAuthenticator

ORIGIN = "http://auth.test"  # the tests' AUTH_BASE_URL


@pytest.fixture
def phone() -> SoftAuthenticator:
    return SoftAuthenticator(origin=ORIGIN)


def post(browser, url, body=None, *, form_url="/login"):
    token = browser.csrf(form_url)
    return browser.client.post(url, data=json.dumps(body or {}), content_type="application/json",
                               headers={"X-CSRFToken": token})


def register(browser, authenticator, name="My phone", **create):
    options = post(browser, "/account/passkeys/options", form_url="/account")
    assert options.status_code == 200, options.get_data(as_text=True)
    answer = authenticator.create(options.json, **create)
    return post(browser, "/account/passkeys", {"credential": answer, "name": name},
                form_url="/account")


def passkey_login(browser, authenticator, return_to="", **get):
    options = post(browser, "/login/passkey/options")
    assert options.status_code == 200
    answer = authenticator.get(options.json, **get)
    return post(browser, "/login/passkey", {"credential": answer, "return_to": return_to})


def sign_out(browser):
    browser.submit("/logout", {})


@pytest.fixture
def registered(browser, reader, phone):
    browser.login(READER)
    answer = register(browser, phone)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return phone


@pytest.mark.parametrize("attestation", ["none", "packed"])
def test_a_passkey_registered_from_the_account_page_is_listed(browser, reader, attestation,
                                                               db_session):
    browser.login(READER)
    page = browser.get("/account/security")
    assert "Add a passkey" in browser.last_page and page.status_code == 200
    assert 'src="/static/passkeys.js"' in browser.last_page
    answer = register(browser, SoftAuthenticator(origin=ORIGIN, attestation=attestation),
                      name="Work laptop")
    assert answer.status_code == 201
    assert answer.json["redirect"] == "/account/security?done=passkey_added#passkeys-heading"
    browser.get("/account/security")
    assert "Work laptop" in browser.last_page and "never used" in browser.last_page
    stored = db_session.scalar(select(WebAuthnCredential))
    assert stored.transports == ["internal"] and stored.name == "Work laptop"


def test_registration_options_ask_for_a_discoverable_credential_with_verification(
        browser, reader):
    browser.login(READER)
    options = post(browser, "/account/passkeys/options", form_url="/account").json
    assert options["rp"] == {"id": "auth.test", "name": "Red Africa Travel"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["user"]["name"] == READER


def test_signing_in_with_the_passkey_alone(browser, registered, db_session):
    sign_out(browser)
    answer = passkey_login(browser, registered, return_to="https://trusted.example/page")
    assert answer.status_code == 200
    assert answer.json["redirect"] == "https://trusted.example/page"
    me = browser.client.get("/api/session").json
    assert me["user"]["email"] == READER and me["session"]["amr"] == ["hwk"]
    browser.get("/account/security")
    assert "last used" in browser.last_page
    db_session.expire_all()
    assert db_session.scalar(select(WebAuthnCredential.sign_count)) == 1


def test_the_login_page_offers_passkeys_and_their_autofill(browser):
    browser.get("/login")
    assert "Sign in with a passkey" in browser.last_page
    assert 'autocomplete="username webauthn"' in browser.last_page
    assert "<script>" not in browser.last_page  # only the script file, as the CSP wants


def test_a_challenge_works_once(browser, registered):
    sign_out(browser)
    options = post(browser, "/login/passkey/options").json
    answer = registered.get(options)
    assert post(browser, "/login/passkey", {"credential": answer}).status_code == 200
    sign_out(browser)
    replay = post(browser, "/login/passkey", {"credential": registered.get(options)})
    assert replay.status_code == 400 and replay.json["error"] == "passkeys.invalid"


def test_a_challenge_is_bound_to_the_browser_that_asked(browser, registered, app):
    sign_out(browser)
    options = post(browser, "/login/passkey/options").json
    from tests.conftest import Browser
    other = Browser(app.test_client())
    answer = post(other, "/login/passkey", {"credential": registered.get(options)})
    assert answer.status_code == 400
    assert other.client.get("/api/session").status_code == 401


def test_an_answer_from_another_origin_is_refused(browser, registered, db_session):
    sign_out(browser)
    wrong_origin = passkey_login(browser, registered, origin="https://evil.example")
    assert wrong_origin.status_code == 400
    assert browser.client.get("/api/session").status_code == 401
    failures = db_session.scalars(select(AuditEvent).where(
        AuditEvent.event == "login.failed")).all()
    assert any(e.details.get("method") == "passkey" for e in failures)


@pytest.mark.parametrize("create", [{"rp_id": "evil.example"},
                                    {"origin": "https://evil.example"}])
def test_a_passkey_made_for_another_site_is_not_registered(browser, reader, phone, create,
                                                            db_session):
    browser.login(READER)
    refused = register(browser, phone, **create)
    assert refused.status_code == 400 and refused.json["error"] == "passkeys.invalid"
    assert db_session.scalar(select(WebAuthnCredential)) is None


def test_sign_in_without_user_verification_is_refused(browser, registered):
    sign_out(browser)
    registered.verifies_user = False
    assert passkey_login(browser, registered).status_code == 400


def test_a_cloned_authenticator_is_refused(browser, registered):
    # Its sign count goes back: an assertion from a copy of the key.
    sign_out(browser)
    assert passkey_login(browser, registered).status_code == 200
    sign_out(browser)
    registered.credentials[-1].sign_count = 0
    assert passkey_login(browser, registered).status_code == 400


def test_an_unknown_passkey_and_garbage_are_a_clear_400(browser, registered):
    sign_out(browser)
    stranger = SoftAuthenticator(origin=ORIGIN)
    stranger.create({"rp": {"id": "auth.test"}, "user": {"id": "eA"}, "challenge": "eA"})
    assert passkey_login(browser, stranger).status_code == 400
    for body in ({"credential": "nonsense"}, {"credential": {"id": 5}}, {},
                 {"credential": {"id": registered.credentials[0].id.hex(), "response": 7}}):
        post(browser, "/login/passkey/options")
        assert post(browser, "/login/passkey", body).status_code == 400, body
    bare = browser.client.post("/login/passkey", data="{}", content_type="application/json")
    assert bare.status_code == 400  # no CSRF token


def test_a_passkey_is_also_a_second_factor(browser, registered, db_session, clock):
    sign_out(browser)
    asked = browser.login(READER)
    assert asked.headers["Location"].endswith("/login/two-factor")
    browser.get("/login/two-factor")
    assert "Use a passkey" in browser.last_page
    options = post(browser, "/login/passkey/second-factor/options",
                   form_url="/login/two-factor")
    assert options.status_code == 200
    assert options.json["allowCredentials"][0]["id"]
    answer = registered.get(options.json)
    done = post(browser, "/login/passkey/second-factor", {"credential": answer},
                form_url="/login/two-factor")
    assert done.status_code == 200 and done.json["redirect"] == "/account"
    assert browser.client.get("/api/session").json["session"]["amr"] == ["pwd", "hwk"]


def test_a_wrong_passkey_as_second_factor_counts_as_a_failure(browser, registered, db_session):
    sign_out(browser)
    browser.login(READER)
    options = post(browser, "/login/passkey/second-factor/options",
                   form_url="/login/two-factor").json
    answer = registered.get(options, origin="https://evil.example")
    refused = post(browser, "/login/passkey/second-factor", {"credential": answer},
                   form_url="/login/two-factor")
    assert refused.status_code == 400
    assert browser.client.get("/api/session").status_code == 401
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.event == "two_factor.failed"))


def test_removing_a_passkey_needs_a_recent_sign_in_and_is_mailed(
        clock, browser, registered, db_session, mailbox, deliver):
    credential_id = db_session.scalar(select(WebAuthnCredential.id))
    clock.advance(minutes=30)
    asked = browser.submit(f"/account/passkeys/{credential_id}/remove", {},
                           form_url="/account")
    assert asked.headers["Location"].startswith(
        f"/account/reauth?next=passkey-remove:{credential_id}")
    clock.advance(minutes=-30)
    done = browser.submit(f"/account/passkeys/{credential_id}/remove", {}, form_url="/account")
    assert done.headers["Location"] == "/account/security?done=passkey_removed#passkeys-heading"
    assert db_session.scalar(select(WebAuthnCredential)) is None
    deliver()
    subjects = mailbox.subjects(READER)
    assert any("passkey was added" in s for s in subjects)
    assert any("passkey was removed" in s for s in subjects)


def test_someone_elses_passkey_cannot_be_removed(browser, registered, make_user, db_session):
    credential_id = db_session.scalar(select(WebAuthnCredential.id))
    sign_out(browser)
    make_user("other@example.com")
    browser.login("other@example.com")
    answer = browser.submit(f"/account/passkeys/{credential_id}/remove", {},
                            form_url="/account")
    assert answer.status_code == 404
    assert db_session.scalar(select(WebAuthnCredential.id)) == credential_id


def test_challenges_are_rows_that_expire(browser, registered, clock, db_session):
    sign_out(browser)
    options = post(browser, "/login/passkey/options").json
    assert db_session.scalar(select(WebAuthnChallenge)) is not None
    clock.advance(minutes=6)
    late = post(browser, "/login/passkey", {"credential": registered.get(options)})
    assert late.status_code == 400
