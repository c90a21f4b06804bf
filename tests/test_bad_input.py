"""Hostile or broken form input: a 4xx page a reader can act on, never a 500, nothing written.

Every case posts to one of the five forms that take an address or a password
(register, sign in, forgot password, resend confirmation, reset password) and
checks three things: the status, the sentence on the page, and that the
database holds exactly what it held before (accounts, outbox, audit log).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import func, select

from auth_service.models import AuditEvent, OutboxMessage, User
from tests.conftest import PASSWORD

KNOWN = "reader@example.com"
FORM_EXPIRED = "This form has expired or did not come from this site."
NOT_ALLOWED = "The form contained a character that is not allowed."
TOO_LARGE = "What you sent is too large."
NOT_UTF8 = "could not be read"
INVALID_EMAIL = "Enter a valid email address."
MISSING_EMAIL = "Enter your email address."
MISSING_PASSWORD = "Enter a password."
BAD_NAME = "The name contains characters that are not allowed."
FORM = "application/x-www-form-urlencoded"


@dataclass
class Endpoint:
    """One form: where it posts, a valid submission, and the fields it has."""

    name: str
    url: str
    valid: dict[str, str]

    @property
    def has_email(self) -> bool:
        return "email" in self.valid

    @property
    def has_password(self) -> bool:
        return "password" in self.valid


NAMES = ["register", "login", "forgot", "resend", "reset"]
WITH_EMAIL = ["register", "login", "forgot", "resend"]
WITH_PASSWORD = ["register", "login", "reset"]


@pytest.fixture
def endpoint(request, make_user, browser, deliver, mailbox) -> Endpoint:
    """The form named by the test's parameter; a confirmed account ``KNOWN`` exists."""
    make_user(KNOWN)
    name = request.param
    if name == "register":
        return Endpoint(name, "/register",
                        {"email": "new@example.com", "password": PASSWORD, "display_name": "Ann"})
    if name == "login":
        return Endpoint(name, "/login", {"email": KNOWN, "password": PASSWORD})
    if name == "forgot":
        return Endpoint(name, "/password/forgot", {"email": KNOWN})
    if name == "resend":
        return Endpoint(name, "/confirm/resend", {"email": KNOWN})
    # The reset form of a real emailed link, as the reader opens it.
    browser.submit("/password/forgot", {"email": KNOWN})
    deliver()
    path = urlsplit(mailbox.link(KNOWN, "/password/reset/")).path
    return Endpoint(name, path, {"password": "a brand new passphrase"})


# --- what the database holds ----------------------------------------------------------


def snapshot(db_session) -> dict[str, object]:
    """Everything a hostile request could have written: accounts, mail, audit rows."""
    db_session.rollback()  # read what is committed now, not a cached view
    users = db_session.execute(
        select(User.id, User.email, User.password_hash, User.display_name,
               User.email_confirmed_at).order_by(User.id)
    ).all()
    return {
        "users": [tuple(row) for row in users],
        "outbox": db_session.scalar(select(func.count()).select_from(OutboxMessage)),
        "audit": db_session.scalar(select(func.count()).select_from(AuditEvent)),
    }


def page_text(response) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    text = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return " ".join(html.unescape(text).split())


def post(browser, endpoint: Endpoint, fields: dict[str, str], **kwargs):
    """Submit ``fields`` (merged over a valid submission) with a fresh CSRF token."""
    return browser.submit(endpoint.url, {**endpoint.valid, **fields}, **kwargs)


def assert_refused(response, status: int, message: str) -> None:
    text = page_text(response)
    assert response.status_code == status, (response.status_code, text[:300])
    assert message in text, text[:500]
    assert response.mimetype == "text/html"
    assert "Traceback" not in text


# --- the valid submission works, so the refusals below are about the input -----------


@pytest.mark.parametrize("endpoint", NAMES, indirect=True)
def test_the_valid_submission_is_accepted(endpoint, browser, db_session):
    before = snapshot(db_session)
    response = post(browser, endpoint, {})
    assert response.status_code in {200, 303}, page_text(response)[:300]
    assert snapshot(db_session) != before  # a real submission does write something


# --- missing fields ---------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", NAMES, indirect=True)
def test_missing_fields_are_named(endpoint, browser, db_session):
    before = snapshot(db_session)
    token = browser.csrf(endpoint.url)
    nothing = browser.client.post(endpoint.url, data={"csrf_token": token})
    assert nothing.status_code == 400
    text = page_text(nothing)
    if endpoint.has_email:
        assert MISSING_EMAIL in text
    if endpoint.has_password:
        assert MISSING_PASSWORD in text
    for missing in endpoint.valid:
        if missing == "display_name":  # optional
            continue
        fields = {k: v for k, v in endpoint.valid.items() if k != missing}
        response = browser.client.post(endpoint.url, data={"csrf_token": token, **fields})
        expected = MISSING_EMAIL if missing == "email" else MISSING_PASSWORD
        assert_refused(response, 400, expected)
    if endpoint.has_email:
        assert_refused(post(browser, endpoint, {"email": "   "}), 400, MISSING_EMAIL)
    assert snapshot(db_session) == before


# --- malformed addresses ----------------------------------------------------------------

MALFORMED = [
    "no-at-sign.example.com",
    "two@@example.com",
    "ann@smith@example.com",
    "ann smith@example.com",
    "ann@exa mple.com",
    "a@b",
    "@example.com",
    "ann@",
    "ann.@example.com",
    "ann@-example.com",
    "ann\u202e@example.com",  # right-to-left override
    "ann@exa\u200bmple.com",  # zero-width space
    "x" * 250 + "@example.com",  # local part far beyond any limit, address > 254
    "x" * 65 + "@example.com",  # one octet over RFC 5321's 64 for the local part
    "é" * 33 + "@example.com",  # 33 characters, 66 octets
]


@pytest.mark.parametrize("endpoint", WITH_EMAIL, indirect=True)
def test_malformed_addresses_are_refused(endpoint, browser, db_session):
    before = snapshot(db_session)
    for address in MALFORMED:
        response = post(browser, endpoint, {"email": address})
        assert_refused(response, 400, INVALID_EMAIL)
        # The form comes back so the reader can correct the address.
        assert 'name="email"' in response.get_data(as_text=True), address
    too_long = post(browser, endpoint, {"email": "x" * 400 + "@example.com"})
    assert_refused(too_long, 400, "That is too long for an email address.")
    assert snapshot(db_session) == before


# --- NUL bytes --------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", NAMES, indirect=True)
def test_nul_bytes_are_refused_in_every_field(endpoint, browser, db_session):
    before = snapshot(db_session)
    cases = []
    if endpoint.has_email:
        cases += [{"email": "ann\x00@example.com"}, {"email": KNOWN + "\x00"}]
    if endpoint.has_password:
        cases += [{"password": PASSWORD + "\x00"}, {"password": "\x00" * 12}]
    if "display_name" in endpoint.valid:
        cases += [{"display_name": "Ann\x00Smith"}]
    cases += [{"extra\x00field": "x"}, {"return_to": "https://trusted.example/\x00"}]
    for fields in cases:
        assert_refused(post(browser, endpoint, fields), 400, NOT_ALLOWED)
    assert snapshot(db_session) == before


def test_nul_byte_in_a_link_path_is_refused(browser, db_session):
    before = snapshot(db_session)
    for path in ("/confirm/abc%00def", "/password/reset/abc%00def"):
        response = browser.get(path)
        assert 400 <= response.status_code < 500, path
        assert "Traceback" not in browser.last_page
    assert snapshot(db_session) == before


# --- sizes --------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", NAMES, indirect=True)
def test_a_megabyte_field_is_refused_before_it_is_read(endpoint, browser, db_session):
    before = snapshot(db_session)
    huge = "x" * 1_000_000
    for name in endpoint.valid:
        assert_refused(post(browser, endpoint, {name: huge}), 413, TOO_LARGE)
    token = browser.csrf(endpoint.url)
    as_multipart = browser.client.post(endpoint.url, data={"csrf_token": token, "email": huge},
                                       content_type="multipart/form-data")
    assert_refused(as_multipart, 413, TOO_LARGE)
    assert snapshot(db_session) == before


@pytest.mark.parametrize("endpoint", WITH_PASSWORD, indirect=True)
def test_an_overlong_password_is_refused_without_hashing_it(endpoint, browser, db_session):
    before = snapshot(db_session)
    response = post(browser, endpoint, {"password": "long passphrase " * 625})  # 10 000 chars
    assert_refused(response, 400, "Use at most 256 characters.")
    assert snapshot(db_session) == before


# --- CSRF -----------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", NAMES, indirect=True)
def test_missing_or_wrong_csrf_token_says_the_form_expired(endpoint, browser, app, db_session):
    before = snapshot(db_session)
    browser.get(endpoint.url)  # the reader has the page open
    missing = browser.client.post(endpoint.url, data=endpoint.valid)
    assert_refused(missing, 400, FORM_EXPIRED)
    assert "reload the page and try again" in page_text(missing)
    wrong = browser.client.post(endpoint.url, data={"csrf_token": "not-a-token", **endpoint.valid})
    assert_refused(wrong, 400, FORM_EXPIRED)
    # A token that is valid for another browser is not valid for this one.
    other_token = type(browser)(app.test_client()).csrf(endpoint.url)
    foreign = browser.client.post(endpoint.url,
                                  data={"csrf_token": other_token, **endpoint.valid})
    assert_refused(foreign, 400, FORM_EXPIRED)
    assert snapshot(db_session) == before


# --- bodies that are not UTF-8 ----------------------------------------------------------------


def _urlencoded(fields: dict[str, str]) -> bytes:
    return "&".join(f"{quote(k)}={quote(v)}" for k, v in fields.items()).encode()


@pytest.mark.parametrize("endpoint", NAMES, indirect=True)
def test_a_body_that_is_not_utf8_is_refused(endpoint, browser, db_session):
    before = snapshot(db_session)
    token = browser.csrf(endpoint.url)
    bad_field = "email" if endpoint.has_email else "password"
    rest = _urlencoded({"csrf_token": token,
                        **{k: v for k, v in endpoint.valid.items() if k != bad_field}})
    good_value = quote(endpoint.valid[bad_field]).encode()
    bodies = [
        # Percent-escaped bytes that are not UTF-8: must not become a literal "%FF%FE…".
        rest + f"&{bad_field}=".encode() + b"%FF%FE" + good_value,
        rest + f"&{bad_field}=".encode() + b"%FF%FE%40example.com",
        # A truncated two-byte sequence at the end of the field.
        rest + f"&{bad_field}=".encode() + good_value + b"%C3",
        # Raw bytes that are not UTF-8 at all.
        rest + f"&{bad_field}=".encode() + b"\xff\xfe" + good_value,
        b"\xff\xfe\xfd=\x80\x81",
    ]
    for body in bodies:
        response = browser.client.post(endpoint.url, data=body, content_type=FORM)
        text = page_text(response)
        assert response.status_code == 400, (body, response.status_code, text[:300])
        assert NOT_UTF8 in text, (body, text[:300])
        assert "Traceback" not in text
    assert snapshot(db_session) == before


def test_a_multipart_field_that_is_not_utf8_is_refused(browser, db_session):
    before = snapshot(db_session)
    token = browser.csrf("/register")
    boundary = "----hostile"
    parts = [("csrf_token", token.encode()), ("email", b"\xff\xfe@example.com"),
             ("password", PASSWORD.encode())]
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value + b"\r\n"
        for name, value in parts
    ) + f"--{boundary}--\r\n".encode()
    response = browser.client.post("/register", data=body,
                                   content_type=f"multipart/form-data; boundary={boundary}")
    assert_refused(response, 400, NOT_UTF8)
    assert snapshot(db_session) == before


# --- display names ------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["register"], indirect=True)
def test_display_name_with_control_characters_is_refused(endpoint, browser, db_session):
    before = snapshot(db_session)
    for name in ["Ann\x07", "Ann\x1b[31mRed", "\x7fAnn", "Ann\u202eevil", "Ann\u200b",
                 "\u2066Ann", "Ann\ue000"]:
        response = post(browser, endpoint, {"display_name": name})
        assert_refused(response, 400, BAD_NAME)
    assert snapshot(db_session) == before


@pytest.mark.parametrize("endpoint", ["register"], indirect=True)
def test_line_breaks_and_tabs_in_a_display_name_become_single_spaces(endpoint, browser,
                                                                     db_session):
    name = " Ann\tMary\r\nSmith\x85Jr\u2028\x1f "
    assert post(browser, endpoint, {"display_name": name}).status_code == 200
    stored = db_session.scalar(select(User.display_name).where(User.email == "new@example.com"))
    assert stored == "Ann Mary Smith Jr"


@pytest.mark.parametrize("endpoint", ["register"], indirect=True)
def test_overlong_display_name_is_refused(endpoint, browser, db_session):
    before = snapshot(db_session)
    for name in ["a" * 101, "Ann " * 1000]:
        assert_refused(post(browser, endpoint, {"display_name": name}), 400,
                       "Use at most 100 characters.")
    assert snapshot(db_session) == before
    # The limit itself is allowed, so the refusal above is about the length.
    assert post(browser, endpoint, {"display_name": "a" * 100}).status_code == 200
    assert db_session.scalar(select(User.display_name)
                             .where(User.email == "new@example.com")) == "a" * 100


# --- unknown pages and wrong methods -----------------------------------------------------------


def test_unknown_path_is_a_404_page_in_the_site_style(browser, db_session):
    before = snapshot(db_session)
    for path in ("/no-such-page", "/login/../../etc/passwd", "/password/reset", "/%FF%FE"):
        response = browser.get(path)
        assert response.status_code == 404, path
        assert response.mimetype == "text/html"
        text = page_text(response)
        assert "Page not found" in text
        assert "There is no page at this address." in text
        assert "Red Africa Travel" in text  # the site's header
        assert "Back to sign in" in text
        assert "/static/style.css" in browser.last_page
    assert snapshot(db_session) == before


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/login"), ("DELETE", "/register"), ("PATCH", "/password/forgot"),
    ("PUT", "/confirm/resend"), ("DELETE", "/password/reset/some-token"),
    ("POST", "/account"), ("POST", "/"),
])
def test_wrong_method_is_a_405_page(client, db_session, method, path):
    before = snapshot(db_session)
    response = client.open(path, method=method, data={"email": KNOWN})
    assert response.status_code == 405
    assert "That action is not allowed on this page." in page_text(response)
    assert "Red Africa Travel" in page_text(response)
    assert "GET" in response.headers["Allow"]
    assert snapshot(db_session) == before


# --- links are not spent by looking at them --------------------------------------------------


def test_head_and_get_do_not_spend_a_confirmation_link(browser, deliver, mailbox, db_session):
    browser.submit("/register", {"email": "new@example.com", "password": PASSWORD})
    deliver()
    path = urlsplit(mailbox.link("new@example.com", "/confirm/")).path
    before = snapshot(db_session)

    # A mail scanner probes the link, a reader opens it twice.
    assert browser.client.head(path).status_code == 200
    for _ in range(2):
        assert browser.get(path).status_code == 200
        assert "Confirm my address" in browser.last_page
    assert snapshot(db_session) == before
    assert db_session.scalar(select(User.email_confirmed_at)) is None
    assert browser.login("new@example.com").status_code == 403

    # The link still works for the button.
    assert browser.submit(path, {}).status_code == 200
    assert "Address confirmed" in browser.last_page
    db_session.rollback()
    assert db_session.scalar(select(User.email_confirmed_at)) is not None


@pytest.mark.parametrize("endpoint", ["reset"], indirect=True)
def test_refused_reset_attempts_leave_the_link_and_password_working(endpoint, browser,
                                                                     db_session):
    for fields in ({"password": ""}, {"password": "short"}, {"password": "\x00" * 10}):
        assert post(browser, endpoint, fields).status_code == 400
    assert browser.client.head(endpoint.url).status_code == 200
    assert browser.login(KNOWN).status_code == 303  # the old password still works
    assert post(browser, endpoint, {}).status_code == 200
    assert "Traceback" not in browser.last_page
    assert browser.login(KNOWN, endpoint.valid["password"]).status_code == 303


@pytest.mark.parametrize("path", ["/confirm/%FF%FE", "/password/reset/%FF%FE",
                                  "/confirm/" + "A" * 5000, "/password/reset/not.a.token"])
def test_mangled_links_explain_themselves(browser, db_session, path):
    before = snapshot(db_session)
    response = browser.get(path)
    assert response.status_code == 400
    assert "not valid" in browser.last_page
    assert snapshot(db_session) == before
