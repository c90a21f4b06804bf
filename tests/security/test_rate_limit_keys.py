"""Rate limits an attacker tried to get around: spellings of one address, and passwords
typed by someone who already holds a session."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

# Each is alice@example.com to the account lookup (IDNA maps fullwidth letters and the
# ideographic full stop in the domain), and each was a fresh allowance of tries.
VARIANTS = [
    "alice@example.com", "alice@ｅxample.com", "alice@eｘample.com", "alice@exａmple.com",
    "alice@examｐle.com", "alice@example。com", "alice@ｅｘample.com",
    "alice@ＥＸＡＭＰＬＥ.ＣＯＭ",
    "ALICE@example.com", "alice@example.ｃom", "Alice@ｅxample。com", "alice@exampｌe.com",
    "alice@examplｅ.com",
]


@pytest.mark.settings(RATELIMIT_ENABLED=True)
def test_unicode_variants_of_an_address_share_one_sign_in_allowance(browser, make_user):
    make_user("alice@example.com")
    statuses = [browser.login(variant, "wrong password!").status_code for variant in VARIANTS]
    assert statuses[:10] == [400] * 10
    assert set(statuses[10:]) == {429}
    # The correct password through yet another spelling is refused too, not signed in.
    answer = browser.login("alice@ｅxamplｅ.com", PASSWORD)
    assert answer.status_code == 429
    assert "auth_session=" not in answer.headers.get("Set-Cookie", "")


@pytest.mark.settings(RATELIMIT_ENABLED=True)
def test_unicode_variants_cannot_send_one_mailbox_more_reset_mails(browser, make_user,
                                                                   deliver, mailbox):
    make_user("alice@example.com")
    statuses = [browser.submit("/password/forgot", {"email": v}).status_code for v in VARIANTS]
    assert statuses[:10] == [200] * 10
    assert set(statuses[10:]) == {429}
    deliver()
    assert len(mailbox.to("alice@example.com")) == 10


@pytest.mark.settings(RATELIMIT_ENABLED=True)
def test_a_string_that_is_not_an_address_is_limited_as_typed(browser):
    statuses = [browser.login("not an address", "wrong password!").status_code
                for _ in range(11)]
    assert statuses[-1] == 429
    # ...which does not use up a real address's allowance.
    assert browser.login("bob@example.com", "wrong password!").status_code == 400


@pytest.mark.settings(RATELIMIT_ENABLED=True)
@pytest.mark.parametrize("path, field", [("/account/reauth", "password"),
                                         ("/account/password", "current_password")])
def test_a_held_session_cannot_guess_the_password_without_limit(browser, make_user, path,
                                                                field):
    make_user("alice@example.com")
    assert browser.login("alice@example.com").status_code == 303
    data = {field: "wrong password!", "new_password": "another long passphrase"}
    statuses = [browser.submit(path, data, form_url="/account/reauth").status_code
                for _ in range(11)]
    assert statuses[:10] == [400] * 10, statuses
    assert statuses[10] == 429
    # The right password is refused as well until the window passes.
    data[field] = PASSWORD
    assert browser.submit(path, data, form_url="/account/reauth").status_code == 429
