"""Which language a reader gets, on pages and in emails, and that it reads that way.

The expected words come from the shipped catalogues themselves (so the test
follows the translators' wording), and each is checked to differ from the
English, so a page that silently fell back to English fails.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from babel.support import Translations
from sqlalchemy import select

from auth_service.i18n import TRANSLATIONS
from auth_service.models import User
from tests.conftest import PASSWORD, forgot, register


def words(code: str, message: str, **variables: object) -> str:
    translated = Translations.load(str(TRANSLATIONS), [code]).gettext(message)
    assert translated != message, f"{code} has no translation of {message!r}"
    return translated % variables if variables else translated


def html_lang(page: str) -> str:
    return page.split("<html", 1)[1].split(">", 1)[0]


def test_english_by_default(browser):
    browser.get("/login")
    assert 'lang="en" dir="ltr"' in html_lang(browser.last_page)
    assert "<h1>Sign in</h1>" in browser.last_page


@pytest.mark.parametrize("code", ["fr", "pt", "es", "de", "it", "nl", "pl", "sw", "ar"])
def test_lang_parameter_picks_the_language(browser, code):
    browser.get(f"/login?lang={code}")
    direction = "rtl" if code == "ar" else "ltr"
    assert f'lang="{code}" dir="{direction}"' in html_lang(browser.last_page)
    assert words(code, "Reset your password") in browser.last_page
    assert words(code, "Email address") in browser.last_page  # a form label, from Python


def test_the_choice_is_kept_in_a_cookie(client, browser):
    response = browser.get("/login?lang=fr")
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("auth_lang="))
    assert "auth_lang=fr" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    browser.get("/register")  # no ?lang: the cookie decides
    assert 'lang="fr"' in html_lang(browser.last_page)
    assert words("fr", "Create an account") in browser.last_page


def test_accept_language_when_nothing_else_says(browser):
    browser.get("/login", headers={"Accept-Language": "de-CH;q=0.9, pt-BR, en;q=0.5"})
    assert 'lang="pt"' in html_lang(browser.last_page)  # pt-BR counts as pt, the best match
    browser.get("/login", headers={"Accept-Language": "ja, ko"})
    assert 'lang="en"' in html_lang(browser.last_page)  # none offered: the default


@pytest.mark.settings(LANGUAGES=("en", "fr"))
def test_only_offered_languages_are_used(browser):
    browser.get("/login?lang=de")
    assert 'lang="en"' in html_lang(browser.last_page)
    assert 'hreflang="de"' not in browser.last_page
    assert 'hreflang="fr"' in browser.last_page


def test_hostile_lang_values_fall_back(browser):
    for value in ["xx", "../../etc", "fr\r\nSet-Cookie: a=b", "é" * 50, ""]:
        response = browser.get("/login", query_string={"lang": value})
        assert response.status_code == 200
        assert 'lang="en"' in html_lang(browser.last_page)
        assert "a=b" not in "".join(response.headers.getlist("Set-Cookie"))


def test_a_signed_in_choice_is_saved_on_the_account_and_used_for_email(
        app, browser, reader, db_session, mailbox, deliver):
    browser.login("reader@example.com")
    browser.get("/account?lang=es")
    db_session.expire_all()
    assert db_session.scalar(select(User.language).where(User.id == reader)) == "es"
    # Another browser, no cookie, an English Accept-Language: the account decides.
    other = type(browser)(app.test_client())
    other.login("reader@example.com")
    other.get("/account", headers={"Accept-Language": "en"})
    assert 'lang="es"' in html_lang(other.last_page)
    # And the reset email is in Spanish, whatever the page that asked for it.
    fresh = type(browser)(app.test_client())
    forgot(fresh, "reader@example.com")
    deliver()
    message = mailbox.last("reader@example.com")
    assert mailbox.subject(message) == words("es", "Reset your %(site_name)s password",
                                             site_name="Red Africa Travel")


def test_a_new_account_gets_the_language_of_the_page_it_was_made_from(
        browser, db_session, mailbox, deliver):
    browser.get("/register?lang=pl")
    register(browser, "nowy@example.com")
    assert db_session.scalar(select(User.language)) == "pl"
    deliver()
    assert mailbox.subject(mailbox.last("nowy@example.com")) == words(
        "pl", "Confirm your email address for %(site_name)s", site_name="Red Africa Travel")


def test_arabic_runs_right_to_left_with_its_own_words(browser):
    browser.get("/register?lang=ar")
    assert 'lang="ar" dir="rtl"' in html_lang(browser.last_page)
    assert words("ar", "Create an account") in browser.last_page


def test_errors_from_flows_are_translated(browser, reader):
    browser.get("/login?lang=de")
    browser.login("reader@example.com", "not the password at all")
    assert words("de", "That email and password don't match an account. Check them and "
                       "try again.") in browser.last_page
    register(browser, "someone@example.com", "short")
    assert words("de", "Use at least %(num)d characters.", num=8) in browser.last_page


def test_dates_are_written_the_language_way(app, browser, make_user, db_session):
    user_id = make_user("dates@example.com", PASSWORD, confirmed=True)
    db_session.get(User, user_id).created_at = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    db_session.commit()
    browser.login("dates@example.com")
    browser.get("/account?lang=fr")
    assert "2 décembre 2026" in browser.last_page
    browser.get("/account?lang=en")
    assert "December 2, 2026" in browser.last_page
