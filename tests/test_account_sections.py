"""The account's sections, each at its own address; "Download my data"; what the reader accepted.

/account/profile, /account/security, /account/sessions and /account/data (with
/account showing the first) are pages a reader can find and bookmark; every form
keeps its POST route, and its result lands on its section. The download is the
same document as ``auth-service users export``, after a fresh sign-in. The
versions of the terms and privacy policy accepted at sign-up are recorded,
shown on the data section and exported.
"""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from auth_service.models import AuditEvent, PolicyConsent
from tests.conftest import PASSWORD, READER, local_path, mail_path, register
from tests.social_support import OIDCProvider, provider_login, serve, start_oidc_provider

SECTIONS = {"profile": "Profile", "security": "Sign-in and security",
            "sessions": "Where you're signed in", "data": "Your data"}
TITLE = re.compile(r"<title>([^<]*)</title>")
CURRENT = re.compile(r'<a href="([^"]+)" aria-current="page">')
POLICIES = {"TERMS_VERSION": "2026-01", "PRIVACY_VERSION": "7",
            "TERMS_URL": "https://trusted.example/terms",
            "PRIVACY_URL": "https://trusted.example/privacy"}


@pytest.fixture(scope="module")
def provider():
    with serve(start_oidc_provider()) as base:
        yield OIDCProvider(base)


@pytest.fixture
def settings(settings, provider):  # overrides conftest's: the local provider on every app
    return {"OIDC_MOCK_DISCOVERY_URL": provider.discovery, "OIDC_MOCK_CLIENT_ID": "auth-service",
            "OIDC_MOCK_CLIENT_SECRET": "s3cret", "OIDC_MOCK_LABEL": "Travel ID", **settings}


@pytest.fixture
def signed_in(browser, reader):
    assert browser.login(READER).status_code == 303
    return reader


def title(browser) -> str:
    return TITLE.search(browser.last_page).group(1)


def test_each_section_has_its_own_address_title_and_place_in_the_menu(browser, signed_in):
    for name, label in SECTIONS.items():
        page = browser.get(f"/account/{name}")
        assert page.status_code == 200, name
        assert title(browser) == f"{label} · Your account · Red Africa Travel"
        assert CURRENT.findall(browser.last_page) == [f"/account/{name}"]
        assert f'<h2 class="section-title">{label}</h2>' in browser.last_page
        for other in SECTIONS:
            assert f'href="/account/{other}"' in browser.last_page
    # /account is the first section, profile.
    browser.get("/account")
    assert title(browser) == "Your account · Red Africa Travel"
    assert CURRENT.findall(browser.last_page) == ["/account/profile"]
    assert "New email address" in browser.last_page and "Ann Reader" in browser.last_page


def test_each_section_holds_its_own_part(browser, signed_in):
    parts = {"profile": ("Member since", "New email address"),
             "security": ("Ways to sign in", "Current password"),
             "sessions": ("Sign out everywhere", "/account/sessions/"),
             "data": ("What you accepted", "Download my data", "Delete my account")}
    for name, expected in parts.items():
        browser.get(f"/account/{name}")
        for text in expected:
            assert text in browser.last_page, (name, text)
        for other, theirs in parts.items():
            if other != name:
                assert theirs[-1] not in browser.last_page, (name, theirs[-1])


def test_sections_need_a_sign_in_and_unknown_ones_do_not_exist(browser, reader):
    for name in SECTIONS:
        page = browser.get(f"/account/{name}")
        assert page.status_code == 302 and "/login" in page.headers["Location"]
    browser.login(READER)
    assert browser.get("/account/settings").status_code == 404


def test_a_result_lands_on_its_section_with_its_notice(browser, signed_in):
    changed = browser.submit("/account/password", {"current_password": PASSWORD,
                                                   "new_password": "another long passphrase"},
                             form_url="/account/security")
    assert changed.headers["Location"] == "/account/security?done=password"
    browser.get(changed.headers["Location"])
    assert "Your password was changed" in browser.last_page
    # A notice meant for another section is not shown here.
    browser.get("/account/data?done=password")
    assert "Your password was changed" not in browser.last_page
    # A form sent with a mistake comes back on its section, with the error on its field.
    wrong = browser.submit("/account/password", {"current_password": "not the password",
                                                 "new_password": "yet another passphrase"},
                           form_url="/account/security")
    assert wrong.status_code == 400
    assert CURRENT.findall(browser.last_page) == ["/account/security"]
    assert 'aria-invalid="true"' in browser.last_page


def download(browser):
    return browser.submit("/account/data/export", {}, form_url="/account/data")


def test_download_my_data_is_the_export_of_the_cli(browser, signed_in, runner, db_session):
    answer = download(browser)
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    assert re.fullmatch(r'attachment; filename="account-data-\d{4}-\d\d-\d\d\.json"',
                        answer.headers["Content-Disposition"])
    assert answer.headers["Cache-Control"] == "no-store"
    mine = json.loads(answer.get_data(as_text=True))
    cli = json.loads(runner.invoke(["users", "export", READER]).output)
    mine.pop("exported_at"), cli.pop("exported_at")
    assert mine == cli
    assert mine["account"]["email"] == READER
    assert mine["sessions"][0]["method"] == "password"
    assert "account.exported" in db_session.scalars(select(AuditEvent.event)).all()
    # No secret of the account is in it.
    text = answer.get_data(as_text=True)
    assert "argon2" not in text and "token_hash" not in text


def test_download_my_data_after_an_old_sign_in_asks_who_it_is(browser, signed_in, clock):
    clock.advance(minutes=11)
    ask = download(browser)
    assert ask.status_code == 303 and ask.headers["Location"] == "/account/reauth?next=export"
    browser.get(ask.headers["Location"])
    assert "Downloading your data needs a recent sign-in" in browser.last_page
    done = browser.submit("/account/reauth", {"password": PASSWORD, "next": "export"})
    back = browser.get(done.headers["Location"])
    assert back.headers["Location"] == "/account/data?done=confirm_export#export-heading"
    browser.get(back.headers["Location"])
    assert "Your data is ready to download below" in browser.last_page
    answer = download(browser)
    assert answer.status_code == 200 and "attachment" in answer.headers["Content-Disposition"]


def test_download_my_data_needs_the_form(browser, signed_in):
    assert browser.client.post("/account/data/export").status_code == 400
    assert browser.client.get("/account/data/export").status_code == 405


@pytest.mark.settings(**POLICIES)
def test_registering_records_the_versions_accepted(browser, deliver, mailbox, db_session):
    browser.get("/register")
    assert "By creating an account" in browser.last_page
    assert 'href="https://trusted.example/terms">terms of use</a>' in browser.last_page
    register(browser, "new@example.com")
    rows = db_session.scalars(select(PolicyConsent).order_by(PolicyConsent.id)).all()
    assert [(r.document, r.version, r.method) for r in rows] == [
        ("terms", "2026-01", "password"), ("privacy", "7", "password")]
    deliver()
    confirm = mail_path(mailbox, "new@example.com", "/confirm/")
    # Registering an address again accepts nothing for anyone.
    register(browser, "new@example.com")
    assert len(db_session.scalars(select(PolicyConsent)).all()) == 2

    browser.submit(confirm, {})
    browser.login("new@example.com")
    browser.get("/account/data")
    assert "Terms of use</strong>, version 2026-01" in browser.last_page
    assert "Privacy policy</strong>, version 7" in browser.last_page
    assert "when you created your account" in browser.last_page
    exported = json.loads(download(browser).get_data(as_text=True))
    assert [(c["document"], c["version"], c["method"]) for c in exported["consents"]] == [
        ("terms", "2026-01", "password"), ("privacy", "7", "password")]


def test_without_versions_nothing_is_recorded(browser, db_session, signed_in):
    register(browser, "other@example.com")
    assert db_session.scalars(select(PolicyConsent)).all() == []
    browser.get("/account/data")
    assert "No version of the terms of use or privacy policy was recorded" in browser.last_page


@pytest.mark.settings(**POLICIES)
def test_signing_up_with_a_provider_records_the_versions_accepted(browser, provider, db_session):
    provider.set_user("sub-new", email="zoe@example.com", email_verified=True, name="Zoe")
    start = browser.get("/login/mock")
    assert start.status_code == 302, browser.last_page
    browser.get(local_path(provider_login(start.headers["Location"], "sub-new")))
    rows = db_session.scalars(select(PolicyConsent).order_by(PolicyConsent.id)).all()
    assert [(r.document, r.version, r.method) for r in rows] == [
        ("terms", "2026-01", "mock"), ("privacy", "7", "mock")]
    browser.get("/account/data")
    assert "when you signed up with Travel ID" in browser.last_page
