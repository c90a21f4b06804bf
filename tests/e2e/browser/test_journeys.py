"""A reader's whole life on the service, in a real browser: from registering to deleting.

Each test is one journey a person makes, with the pages they would see. Sign-in
and registration are done with the keyboard alone (Tab and Enter), and every
stop on the way must show where the focus is.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.browser.conftest import PROVIDER_LABEL, Live
from tests.e2e.browser.reader import heading, press_enter, sign_in, tab_to, type_into

NEW_PASSWORD = "a brand new passphrase for ana"
ARTICLE = "/articles/enter-the-red-army"
# The account's sections.
PROFILE, SECURITY, SESSIONS, DATA = ("/account/profile", "/account/security",
                                     "/account/sessions", "/account/data")


def test_register_confirm_and_sign_in_with_the_keyboard(live: Live, page: Page):
    email, name = "kim@example.com", "Kim Keyboard"
    page.goto(live.site + ARTICLE)
    page.get_by_role("banner").get_by_role("link", name="Sign in").click()
    expect(page).to_have_title(re.compile("^Sign in"))
    # New here: to the registration form, still on the keyboard.
    stops = tab_to(page, "Create an account")
    assert any(stop.text == f"Continue with {PROVIDER_LABEL}" for stop in stops)
    press_enter(page)
    expect(page).to_have_title(re.compile("^Create an account"))
    type_into(page, "#email", email)
    type_into(page, "#password", PASSWORD)
    type_into(page, "#display_name", name)
    press_enter(page)
    assert heading(page) == "Check your email"

    # The link in the email, opened in the same browser: one button to press.
    page.goto(live.link(email, "/confirm/"))
    assert heading(page) == "Confirm your address"
    tab_to(page, "Confirm my address")
    press_enter(page)
    assert heading(page) == "Address confirmed"
    tab_to(page, "Sign in")
    press_enter(page)

    # Sign in with the keyboard: back on the article the reader started from.
    type_into(page, "#email", email)
    type_into(page, "#password", PASSWORD)
    press_enter(page)
    page.wait_for_url(live.site + ARTICLE)
    expect(page.locator(".who .name")).to_have_text(name)

    # The members' page of the content site knows the reader.
    page.goto(live.site + "/members")
    expect(page.locator("dd.email")).to_have_text(email)

    # Signing out from the site: the service asks, then sends the reader back, signed out.
    page.goto(live.site + ARTICLE)
    page.get_by_role("link", name="Sign out").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(live.site + ARTICLE)
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()


def test_wrong_password_is_told_next_to_the_form(live: Live, page: Page):
    live.make_user("lee@example.com")
    page.goto(live.url("/login"))
    type_into(page, "#email", "lee@example.com")
    type_into(page, "#password", "not the password at all")
    press_enter(page)
    expect(page.get_by_role("alert")).to_contain_text("don't match an account")
    # Errors bring the reader back to a form that still works from the keyboard.
    type_into(page, "#password", PASSWORD)
    press_enter(page)
    assert heading(page) != "Sign in"


PHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")


def test_sign_out_another_device_then_change_password(live: Live, new_page):
    email = "noor@example.com"
    live.make_user(email, name="Noor")
    phone, laptop = new_page(390, 844, user_agent=PHONE), new_page()
    sign_in(phone, live.base, email)
    sign_in(laptop, live.base, email)

    # On the laptop: where you're signed in, the phone among them; sign it out.
    laptop.goto(live.url(SESSIONS))
    devices = laptop.get_by_role("region", name="Devices").get_by_role("listitem")
    expect(devices).to_have_count(2)
    expect(laptop.locator("li[aria-current] strong").first).not_to_have_text("Safari on iPhone")
    laptop.get_by_role("button", name="Sign out Safari on iPhone").click()
    expect(laptop.get_by_role("status")).to_have_text("That session was signed out.")
    expect(devices).to_have_count(1)
    phone.goto(live.url("/account"))
    assert heading(phone) == "Sign in"  # the phone's very next page

    # A new password: this browser stays signed in, the old password stops working.
    laptop.goto(live.url(SECURITY))
    laptop.get_by_label("Current password").fill(PASSWORD)
    laptop.get_by_label("New password").fill(NEW_PASSWORD)
    laptop.get_by_role("button", name="Change password").click()
    expect(laptop.get_by_role("status")).to_contain_text("Your password was changed")
    sign_in(phone, live.base, email, NEW_PASSWORD)
    assert heading(phone) == "Your account"


def test_reset_a_forgotten_password(live: Live, page: Page):
    email = "omar@example.com"
    live.make_user(email)
    page.goto(live.url("/login"))
    page.get_by_role("link", name="Reset your password").click()
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    page.goto(live.link(email, "/password/reset/"))
    assert heading(page) == "Choose a new password"
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Choose a new password")
    sign_in(page, live.base, email, NEW_PASSWORD)
    assert heading(page) == "Your account"


def provider_sign_in(page: Page, sub: str) -> None:
    """At the provider's page (the local OpenID Connect provider): sign in as ``sub``."""
    page.wait_for_url(re.compile(r".*/oauth2/authorize.*"))
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize").click()


def test_continue_with_the_provider(live: Live, page: Page):
    live.provider.set_user("sub-zoe", email="zoe@example.com", email_verified=True,
                           name="Zoe Traveller")
    page.goto(live.url(f"/login?return_to={live.site}/members"))
    page.get_by_role("link", name=f"Continue with {PROVIDER_LABEL}").click()
    provider_sign_in(page, "sub-zoe")
    page.wait_for_url(live.site + "/members")
    expect(page.locator("dd.email")).to_have_text("zoe@example.com")

    # Its only way in: the account page will not unlink it.
    page.goto(live.url(SECURITY))
    page.get_by_role("button", name=f"Unlink {PROVIDER_LABEL}").click()
    expect(page.get_by_role("alert")).to_contain_text("only way to sign in")


def test_link_and_unlink_the_provider(live: Live, page: Page):
    email = "pia@example.com"
    live.make_user(email, name="Pia")
    live.provider.set_user("sub-pia", email="pia.travels@example.com", email_verified=True,
                           name="Pia T.")
    sign_in(page, live.base, email)
    page.goto(live.url(SECURITY))
    page.get_by_role("button", name=f"Link {PROVIDER_LABEL}").click()
    provider_sign_in(page, "sub-pia")
    expect(page.get_by_role("status")).to_contain_text("The account was linked")
    expect(page.get_by_role("button", name=f"Unlink {PROVIDER_LABEL}")).to_be_visible()

    # Signed out, the provider now signs in to this account.
    sign_out(live, page)
    page.goto(live.url("/login"))
    page.get_by_role("link", name=f"Continue with {PROVIDER_LABEL}").click()
    provider_sign_in(page, "sub-pia")
    page.goto(live.url("/account"))
    expect(page.locator("main")).to_contain_text(email)

    page.goto(live.url(SECURITY))
    page.get_by_role("button", name=f"Unlink {PROVIDER_LABEL}").click()
    expect(page.get_by_role("status")).to_contain_text("The account was unlinked")
    expect(page.get_by_role("button", name=f"Link {PROVIDER_LABEL}")).to_be_visible()


def sign_out(live: Live, page: Page) -> None:
    """The header's "Sign out", then the button that does it."""
    page.goto(live.url("/account"))
    page.get_by_role("navigation", name="Account", exact=True).get_by_role(
        "link", name="Sign out").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_change_the_email_address(live: Live, page: Page):
    old, new = "quinn@example.com", "quinn.new@example.com"
    live.make_user(old)
    sign_in(page, live.base, old)
    page.goto(live.url(PROFILE))
    page.get_by_label("New email address").fill(new)
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("status")).to_contain_text("We've sent a link to your new address")

    page.goto(live.link(new, "/account/email/confirm/"))
    page.get_by_role("button", name="Use my new address").click()
    expect(page.locator("main")).to_contain_text(new)
    sign_out(live, page)
    sign_in(page, live.base, new)
    assert heading(page) == "Your account"


def test_download_my_data_then_delete_the_account(live: Live, page: Page):
    email = "rui@example.com"
    live.make_user(email)
    sign_in(page, live.base, email)
    page.goto(live.url(DATA))
    with page.expect_download() as started:
        page.get_by_role("button", name="Download my data").click()
    download = started.value
    assert re.fullmatch(r"account-data-\d{4}-\d\d-\d\d\.json", download.suggested_filename)
    data = json.loads(Path(download.path()).read_text())
    assert data["account"]["email"] == email
    assert "account.exported" in [event["event"] for event in data["audit_events"]]

    page.get_by_label("Your email address").fill(email)
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account was deleted")
    page.goto(live.url("/account"))
    assert heading(page) == "Sign in"
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("don't match an account")
