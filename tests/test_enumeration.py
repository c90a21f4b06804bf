"""No answer tells whether an address has an account: not its status, its text, or its time.

Each test sends the same form for a registered address and an unregistered one
and compares what comes back: the status, the headers a browser acts on, and the
page with the CSRF token's value (random per form) and the typed address (echoed
back into the field) taken out.
"""

from __future__ import annotations

import html
import re
import statistics
import time

import pytest
from sqlalchemy import select

from auth_service.models import AuditEvent
from tests.conftest import PASSWORD

CSRF_VALUE = re.compile(r'(name="csrf_token" type="hidden" value=")[^"]+(")')
UNKNOWN = "nobody@example.com"
CONFIRMED = "known@example.com"
UNCONFIRMED = "pending@example.com"
DISABLED = "disabled@example.com"
WRONG_PASSWORD = "not the right password at all"


def answer(response, typed: str) -> tuple[int, str | None, str | None, list[str], str]:
    """What a visitor (or a script) can observe, minus the per-form token and their input."""
    body = html.unescape(CSRF_VALUE.sub(r"\1<csrf>\2", response.get_data(as_text=True)))
    body = body.replace(typed, "<typed address>")
    cookies = sorted(c.split("=", 1)[0] for c in response.headers.getlist("Set-Cookie"))
    return (response.status_code, response.headers.get("Location"), response.mimetype, cookies,
            body)


@pytest.fixture
def accounts(make_user) -> None:
    make_user(CONFIRMED)
    make_user(UNCONFIRMED, confirmed=False)
    make_user(DISABLED, disabled=True)


def post_each(browser, url: str, addresses: list[str], **fields: str) -> dict[str, tuple]:
    return {address: answer(browser.submit(url, {"email": address, **fields}), address)
            for address in addresses}


def assert_all_equal(answers: dict[str, tuple]) -> None:
    (first, expected), *others = answers.items()
    for address, got in others:
        assert got[:4] == expected[:4], (first, address)
        assert got[4] == expected[4], f"the page for {address} differs from the one for {first}"


# --- register ---------------------------------------------------------------------------


def test_register_answers_the_same_for_new_registered_and_unconfirmed(browser, accounts):
    answers = post_each(browser, "/register",
                        [UNKNOWN, CONFIRMED, UNCONFIRMED, DISABLED, "Known@Example.COM"],
                        password=PASSWORD, display_name="Ann")
    assert answers[UNKNOWN][0] == 200
    assert "Check your email" in answers[UNKNOWN][4]
    assert_all_equal(answers)


def test_register_refusals_do_not_depend_on_the_address(browser, accounts):
    """A weak password is refused before the address is looked up, with the same page."""
    for password in ("short", "password123"):
        answers = post_each(browser, "/register", [UNKNOWN, CONFIRMED, UNCONFIRMED],
                            password=password)
        assert answers[UNKNOWN][0] == 400
        assert_all_equal(answers)


# --- forgot password and resend confirmation -------------------------------------------


def test_forgot_password_answers_the_same_for_every_address(browser, accounts):
    answers = post_each(browser, "/password/forgot",
                        [UNKNOWN, CONFIRMED, UNCONFIRMED, DISABLED])
    assert answers[UNKNOWN][0] == 200
    assert "If an account uses that address" in answers[UNKNOWN][4]
    assert_all_equal(answers)


def test_resend_answers_the_same_for_unknown_unconfirmed_and_confirmed(browser, accounts):
    answers = post_each(browser, "/confirm/resend",
                        [UNKNOWN, CONFIRMED, UNCONFIRMED, DISABLED])
    assert answers[UNKNOWN][0] == 200
    assert "If that address belongs to an account" in answers[UNKNOWN][4]
    assert_all_equal(answers)


# --- sign in ------------------------------------------------------------------------------


def test_sign_in_fails_the_same_for_unknown_address_and_wrong_password(browser, accounts,
                                                                     db_session):
    answers = post_each(browser, "/login", [UNKNOWN, CONFIRMED, UNCONFIRMED, DISABLED],
                        password=WRONG_PASSWORD, return_to="")
    assert answers[UNKNOWN][0] == 400
    assert "That email and password don't match an account." in answers[UNKNOWN][4]
    assert_all_equal(answers)
    # The reader sees one message; the operator's log still tells the cases apart.
    events = db_session.scalars(select(AuditEvent).where(AuditEvent.event == "login.failed")
                                .order_by(AuditEvent.id)).all()
    assert [e.user_id is None for e in events] == [True, False, False, False]


def test_sign_in_with_a_wrong_password_reveals_nothing_about_the_account_state(browser,
                                                                             make_user):
    """Only the right password may learn that an account is unconfirmed or disabled."""
    make_user(UNCONFIRMED, confirmed=False)
    make_user(DISABLED, disabled=True)
    wrong = post_each(browser, "/login", [UNCONFIRMED, DISABLED], password=WRONG_PASSWORD)
    assert {a[0] for a in wrong.values()} == {400}
    assert "don't match an account" in wrong[DISABLED][4]
    assert "disabled" not in wrong[DISABLED][4]
    assert "Confirm your email address first" not in wrong[UNCONFIRMED][4]


# --- time -----------------------------------------------------------------------------------


def _timed(post) -> float:
    started = time.perf_counter()
    response = post()
    elapsed = time.perf_counter() - started
    assert response.status_code in {200, 400}, response.status_code
    return elapsed


@pytest.mark.real_hasher
def test_sign_in_takes_as_long_for_an_unknown_address_as_for_a_wrong_password(browser,
                                                                             make_user):
    """The unknown address is checked against a dummy hash, so the two failures cost the same.

    Production argon2 parameters make one check take tens to hundreds of
    milliseconds; skipping it for unknown addresses would show as a ratio near 0.
    """
    make_user(CONFIRMED)
    token = browser.csrf("/login")

    def sign_in(address: str):
        return lambda: browser.client.post("/login", data={
            "csrf_token": token, "email": address, "password": WRONG_PASSWORD})

    unknown, known = [], []
    # Interleaved, so load on the machine affects both alike. The first unknown address
    # also builds the dummy hash (once per process): the median ignores that one.
    for _ in range(7):
        unknown.append(_timed(sign_in(UNKNOWN)))
        known.append(_timed(sign_in(CONFIRMED)))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 < ratio < 2, (f"unknown {statistics.median(unknown) * 1000:.1f} ms, "
                             f"known {statistics.median(known) * 1000:.1f} ms")


def test_forgot_password_takes_as_long_for_an_unknown_address(browser, make_user):
    """An unknown address renders (and discards) the same email, so the answer costs the same."""
    make_user(CONFIRMED)
    token = browser.csrf("/password/forgot")

    def forgot(address: str):
        return lambda: browser.client.post("/password/forgot", data={
            "csrf_token": token, "email": address})

    _timed(forgot(UNKNOWN))
    _timed(forgot(CONFIRMED))  # warm the template cache for both paths
    unknown, known = [], []
    for _ in range(7):
        unknown.append(_timed(forgot(UNKNOWN)))
        known.append(_timed(forgot(CONFIRMED)))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 < ratio < 2, (f"unknown {statistics.median(unknown) * 1000:.1f} ms, "
                             f"known {statistics.median(known) * 1000:.1f} ms")
