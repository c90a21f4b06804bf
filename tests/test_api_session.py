"""GET /api/session: the contract with the content site and its proxy."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import select, update

from auth_service.models import Session, User

COOKIE = "auth_session"


@pytest.fixture
def token(browser, make_user) -> str:
    make_user("reader@example.com", name="Ann Reader")
    browser.login("reader@example.com")
    return browser.client.get_cookie(COOKIE).value


def fresh(app):
    """A client with no cookies: the content site's server asking on a reader's behalf."""
    return app.test_client()


def test_valid_cookie_gives_the_reader(app, token, db_session):
    client = fresh(app)
    client.set_cookie(COOKIE, token)
    response = client.get("/api/session")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    session = db_session.scalar(select(Session))
    user = db_session.scalar(select(User))
    assert response.json == {
        "user": {
            "id": str(user.id),
            "email": "reader@example.com",
            "email_verified": True,
            "name": "Ann Reader",
            "avatar_url": None,
            "roles": [],
        },
        "session": {
            "id": session.id,
            "expires_at": session.idle_expires_at.isoformat().replace("+00:00", "Z"),
            "amr": ["pwd"],
            "auth_time": session.created_at.isoformat().replace("+00:00", "Z"),
        },
    }
    assert response.headers["X-Auth-User-Id"] == str(user.id)
    assert response.headers["X-Auth-Email"] == "reader@example.com"
    assert unquote(response.headers["X-Auth-Name"]) == "Ann Reader"
    assert response.headers["Cache-Control"] == "no-store"


def test_bearer_token_works_like_the_cookie(app, token):
    response = fresh(app).get("/api/session", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json["user"]["email"] == "reader@example.com"


def test_it_never_sets_a_cookie_or_redirects(app, token):
    client = fresh(app)
    client.set_cookie(COOKIE, token)
    for headers in ({}, {"Authorization": "Bearer nonsense"}):
        response = client.get("/api/session", headers=headers)
        assert "Set-Cookie" not in response.headers
        assert "Location" not in response.headers
    anonymous = fresh(app).get("/api/session")
    assert anonymous.status_code == 401
    assert "Set-Cookie" not in anonymous.headers
    assert "Location" not in anonymous.headers


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer "},
    {"Authorization": "Bearer not-a-token"},
    {"Authorization": "Basic cmVhZGVyOnB3"},
    {"Cookie": f"{COOKIE}=garbage"},
    {"Cookie": f"{COOKIE}="},
])
def test_unauthenticated_is_401_json(app, headers):
    response = fresh(app).get("/api/session", headers=headers)
    assert response.status_code == 401
    assert response.json == {"error": "unauthenticated"}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_roles_and_unicode_names(app, token, db_session):
    db_session.execute(update(User).values(is_admin=True, display_name="Jovanka Broz — Тито"))
    db_session.commit()
    response = fresh(app).get("/api/session", headers={"Authorization": f"Bearer {token}"})
    assert response.json["user"]["roles"] == ["admin"]
    assert response.json["user"]["name"] == "Jovanka Broz — Тито"
    assert unquote(response.headers["X-Auth-Name"]) == "Jovanka Broz — Тито"
    response.headers["X-Auth-Name"].encode("ascii")  # a header value proxies can pass on


def test_unconfirmed_reader_is_reported_as_such(app, browser, make_user):
    make_user("new@example.com", confirmed=False)
    app.config["REQUIRE_CONFIRMED_EMAIL"] = False
    browser.login("new@example.com")
    client = fresh(app)
    client.set_cookie(COOKIE, browser.client.get_cookie(COOKIE).value)
    assert client.get("/api/session").json["user"]["email_verified"] is False


def test_cors_only_for_trusted_origins_with_credentials(app, token):
    client = fresh(app)
    client.set_cookie(COOKIE, token)
    trusted = client.get("/api/session", headers={"Origin": "https://trusted.example"})
    assert trusted.headers["Access-Control-Allow-Origin"] == "https://trusted.example"
    assert trusted.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in trusted.headers["Vary"]

    for origin in ("https://evil.example", "null", "https://trusted.example.evil.example"):
        response = client.get("/api/session", headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in response.headers
        assert response.status_code == 200  # the browser, not us, withholds the body

    anonymous = fresh(app).get("/api/session", headers={"Origin": "https://trusted.example"})
    assert anonymous.status_code == 401
    assert anonymous.headers["Access-Control-Allow-Origin"] == "https://trusted.example"


def test_cors_preflight(app):
    client = fresh(app)
    allowed = client.options("/api/session", headers={
        "Origin": "http://localhost:5001", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://localhost:5001"
    assert "Authorization" in allowed.headers["Access-Control-Allow-Headers"]
    refused = client.options("/api/session", headers={"Origin": "https://evil.example",
                                                      "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert "*" not in str(allowed.headers) and "*" not in str(refused.headers)


def test_other_methods_are_refused(app, token):
    response = fresh(app).post("/api/session", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 405
    assert response.json["error"] == "405"


@pytest.mark.settings(DATABASE_URL="sqlite:////nonexistent-dir/never/auth.db")
def test_database_outage_is_a_json_503_not_a_traceback(app):
    response = fresh(app).get("/api/session", headers={"Authorization": "Bearer some-token"})
    assert response.status_code == 503
    assert response.json["error"] == "unavailable"
    assert "Traceback" not in response.get_data(as_text=True)


def login_target(response) -> tuple[str, dict[str, list[str]]]:
    """The X-Auth-Login-Url of a 401: the URL without its query, and the query parsed."""
    parts = urlsplit(response.headers["X-Auth-Login-Url"])
    return (f"{parts.scheme}://{parts.netloc}{parts.path}",
            parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query)))


PAGE = "/members/page?a=1&b=x+y&c=100%25&d=caf%C3%A9&e=%26%3D"


def test_a_refusal_says_where_to_sign_in_and_come_back_to_the_exact_page(app, token):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "trusted.example",
                 "X-Forwarded-Uri": PAGE}
    response = fresh(app).get("/api/session", headers=forwarded)
    assert response.status_code == 401
    # Percent-encoded once, whole: the page's own query survives, "&", "+" and "%" too.
    assert login_target(response) == ("http://auth.test/login",
                                      {"return_to": [f"https://trusted.example{PAGE}"]})
    # …and the login page reads it back as exactly that page.
    page = app.test_client().get(response.headers["X-Auth-Login-Url"])
    assert f'value="https://trusted.example{PAGE.replace("&", "&amp;")}"' in page.text

    # A port, and plain http, are kept as the proxy said them.
    response = fresh(app).get("/api/session", headers={
        **forwarded, "X-Forwarded-Proto": "http", "X-Forwarded-Host": "localhost:5001"})
    assert login_target(response)[1] == {"return_to": [f"http://localhost:5001{PAGE}"]}

    # A live session is no refusal: nothing to say.
    client = fresh(app)
    client.set_cookie(COOKIE, token)
    assert "X-Auth-Login-Url" not in client.get("/api/session", headers=forwarded).headers


@pytest.mark.parametrize("forwarded", [
    {},  # not behind a proxy (a content site asking itself)
    {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "trusted.example"},  # no page
    {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example", "X-Forwarded-Uri": "/"},
    {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "trusted.example.evil.example",
     "X-Forwarded-Uri": "/"},
    {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example/@trusted.example",
     "X-Forwarded-Uri": "/"},
    {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "trusted.example, evil.example",
     "X-Forwarded-Uri": "/"},
    {"X-Forwarded-Proto": "javascript", "X-Forwarded-Host": "trusted.example",
     "X-Forwarded-Uri": "/"},
    {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "trusted.example",
     "X-Forwarded-Uri": "//evil.example/"},
    {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "trusted.example",
     "X-Forwarded-Uri": "@evil.example/"},
    {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "trusted.example",
     "X-Forwarded-Uri": "/" + "a" * 3000},
])
def test_a_refusal_never_points_back_at_an_untrusted_or_unclear_page(app, forwarded):
    response = fresh(app).get("/api/session", headers=forwarded)
    assert response.status_code == 401
    assert response.headers["X-Auth-Login-Url"] == "http://auth.test/login"
