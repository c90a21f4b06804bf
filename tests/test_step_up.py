"""A content site asks for a fresher or stronger sign-in: ``/login?max_age=N`` on the service,
``step_up_url`` and ``second_factor_required`` in auth_service.client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, g

from auth_service.client import AuthSession, Reader, second_factor_required, step_up_url
from tests.conftest import READER

PAGE = "https://trusted.example/members"


def test_max_age_asks_again_only_when_the_sign_in_is_older(browser, reader, clock):
    browser.login(READER)
    fresh = browser.get(f"/login?return_to={PAGE}&max_age=300")
    assert fresh.status_code == 303 and fresh.headers["Location"] == PAGE
    first = browser.client.get("/api/session").json["session"]["auth_time"]
    clock.advance(minutes=10)
    asked = browser.get(f"/login?return_to={PAGE}&max_age=300")
    assert asked.status_code == 200 and "Sign in" in browser.last_page
    again = browser.login(READER, return_to=PAGE, max_age="300")
    assert again.headers["Location"] == PAGE
    second = browser.client.get("/api/session").json["session"]["auth_time"]
    assert second > first
    assert browser.get(f"/login?return_to={PAGE}&max_age=0").status_code == 200


def test_step_up_url_names_return_to_and_max_age():
    url = step_up_url("https://login.example.com/", "https://site.example/pay?x=1&y=2",
                      max_age=120)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "login.example.com", "/login")
    assert parse_qs(parts.query) == {"return_to": ["https://site.example/pay?x=1&y=2"],
                                     "max_age": ["120"]}
    with pytest.raises(ValueError):
        step_up_url("https://login.example.com", "https://site.example/", max_age=-1)


def reader_with(amr: tuple[str, ...], signed_in_ago: timedelta) -> Reader:
    now = datetime.now(UTC)
    return Reader(id="7", email="a@example.com", email_verified=True, name="A",
                  avatar_url=None, roles=(), session_id="s", expires_at=now + timedelta(days=1),
                  amr=amr, auth_time=now - signed_in_ago)


@pytest.fixture
def site():
    """A content site on AuthSession; each test puts the reader it wants in g.reader."""
    app = Flask(__name__)
    app.config.update(AUTH_SERVICE_URL="https://login.example.com")
    AuthSession(app)
    holder: dict[str, Reader | None] = {"reader": None}
    app.before_request(lambda: setattr(g, "reader", holder["reader"]))

    @app.get("/pay")
    @second_factor_required
    def pay() -> str:
        return "paid"

    @app.get("/admin")
    @second_factor_required(max_age=300)
    def admin() -> str:
        return "admin"

    return app, holder


def test_a_second_factor_lets_the_reader_in(site):
    app, holder = site
    holder["reader"] = reader_with(("pwd", "otp"), timedelta(hours=2))
    assert app.test_client().get("/pay").get_data(as_text=True) == "paid"
    holder["reader"] = reader_with(("hwk",), timedelta(hours=2))
    assert app.test_client().get("/pay").status_code == 200


def test_without_one_the_reader_signs_in_again(site):
    app, holder = site
    holder["reader"] = reader_with(("pwd",), timedelta(hours=2))
    answer = app.test_client().get("/pay")
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query == {"return_to": ["http://localhost/pay"], "max_age": ["0"]}


def test_one_who_just_did_and_has_none_is_told_to_turn_one_on(site):
    app, holder = site
    holder["reader"] = reader_with(("pwd",), timedelta(seconds=5))
    answer = app.test_client().get("/pay")
    assert answer.status_code == 403
    assert "https://login.example.com/account/two-factor" in answer.get_data(as_text=True)


def test_max_age_wants_the_second_factor_recently(site):
    app, holder = site
    holder["reader"] = reader_with(("pwd", "otp"), timedelta(minutes=10))
    assert app.test_client().get("/admin").status_code == 302
    holder["reader"] = reader_with(("pwd", "otp"), timedelta(minutes=1))
    assert app.test_client().get("/admin").status_code == 200


def test_anonymous_visitors_go_to_sign_in(site):
    app, _ = site
    answer = app.test_client().get("/pay")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("https://login.example.com/login?return_to=")
    assert "max_age" not in answer.headers["Location"]


def test_the_reader_reads_amr_and_auth_time_from_the_session_answer():
    reader = Reader.from_json({
        "user": {"id": "1", "email": "a@example.com", "email_verified": True, "name": "A",
                 "avatar_url": None, "roles": []},
        "session": {"id": "s", "expires_at": "2030-01-01T00:00:00Z", "amr": ["pwd", "otp"],
                    "auth_time": "2029-12-31T23:00:00Z"}})
    assert reader.amr == ("pwd", "otp") and reader.has_second_factor
    assert reader.auth_time == datetime(2029, 12, 31, 23, tzinfo=UTC)
    claims = Reader.from_claims({"sub": "1", "email": "a@example.com", "email_verified": True,
                                 "name": "A", "sid": "s", "exp": 1900000000, "amr": ["hwk"],
                                 "auth_time": 1899990000})
    assert claims.has_second_factor and claims.auth_time.year == 2030
