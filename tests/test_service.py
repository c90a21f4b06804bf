"""The front door: health checks, error pages, security headers, rate limits, database outages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.exc import OperationalError

from auth_service import create_app
from auth_service.extensions import db
from tests.conftest import TEST_REDIS_URL, Browser, free_port, register


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    head = ready.json["checks"]["migrations"]["head"]
    assert ready.json == {"status": "ready", "checks": {
        "database": {"ok": True},
        "migrations": {"ok": True, "current": head, "head": head},
        "outbox": {"ok": True, "pending": 0, "oldest_pending_seconds": 0.0},
    }}


def test_readyz_reports_the_mail_waiting_without_failing_on_it(client, browser, clock):
    register(browser, "waiting@example.com")
    clock.advance(hours=3)
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["checks"]["outbox"] == {"ok": True, "pending": 1,
                                              "oldest_pending_seconds": 10800.0}


def test_readyz_fails_when_the_database_is_behind_the_code(client, runner):
    assert runner.invoke(["db", "downgrade", "0010"]).exit_code == 0
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["status"] == "unavailable"
    assert ready.json["checks"]["migrations"]["ok"] is False
    assert ready.json["checks"]["migrations"]["current"] == "0010"
    assert ready.json["checks"]["database"] == {"ok": True}


@pytest.mark.settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", RATELIMIT_ENABLED=True)
def test_readyz_fails_when_redis_does_not_answer(client):
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"]["redis"] == {"ok": False}
    assert ready.json["checks"]["database"] == {"ok": True}


@pytest.mark.skipif(not TEST_REDIS_URL, reason="needs AUTH_TEST_REDIS_URL (set by .ci/run)")
@pytest.mark.settings(RATELIMIT_ENABLED=True)
def test_readyz_checks_redis_when_it_is_configured(client):
    assert client.get("/readyz").json["checks"]["redis"] == {"ok": True}


@pytest.mark.settings(DATABASE_URL="sqlite:////nonexistent-dir/never/auth.db")
def test_database_outage_is_a_plain_503(client):
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["status"] == "unavailable"
    page = client.get("/login")  # renders without the database
    assert page.status_code == 200
    forgot = client.get("/password/forgot")
    token = forgot.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1]
    token = token.split('"')[0]
    response = client.post("/password/forgot", data={"csrf_token": token,
                                                      "email": "a@example.com"})
    assert response.status_code == 503
    body = response.get_data(as_text=True)
    assert "temporarily unavailable" in body
    assert "Traceback" not in body and "sqlite" not in body.lower()


def test_error_pages_share_the_site_style(client):
    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    text = missing.get_data(as_text=True)
    assert "Page not found" in text and "/static/style.css" in text
    wrong_method = client.delete("/login")
    assert wrong_method.status_code == 405
    assert "Allow" in wrong_method.headers
    assert "not allowed" in wrong_method.get_data(as_text=True)


def test_unexpected_errors_are_a_friendly_500(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = client.get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong on our side" in body
    assert "secret internals" not in body and "Traceback" not in body


def test_security_headers(client):
    response = client.get("/login")
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"


@pytest.mark.settings(GITHUB_CLIENT_ID="gh-id", GITHUB_CLIENT_SECRET="gh-secret")
def test_forms_may_lead_only_to_trusted_origins_and_providers(client):
    # Chromium checks the redirects after a form (sign in, then back to return_to; link a
    # provider, then to its sign-in page) against form-action: those origins, and no other.
    policy = dict(part.strip().split(" ", 1)
                  for part in client.get("/login").headers["Content-Security-Policy"].split(";"))
    assert policy["form-action"].split() == [
        "'self'", "http://auth.test", "https://trusted.example", "http://localhost:5001",
        "https://github.com"]


def test_forms_may_lead_to_the_provider_clients_too(app, client):
    # Signing in, consenting or signing out for a content site that trusts our OpenID
    # Connect provider ends in a redirect to that site, which form-action must allow.
    from auth_service.oidc import clients

    with app.app_context():
        clients.add("Travel blog", ["https://blog.example/wp-login.php"],
                    post_logout_redirect_uris=["https://shop.example/bye"])
    for path in ("/login", "/register"):
        policy = dict(part.strip().split(" ", 1) for part in
                      client.get(path).headers["Content-Security-Policy"].split(";"))
        assert policy["form-action"].split()[-2:] == ["https://blog.example",
                                                      "https://shop.example"]
    # Machine answers carry no page policy to extend.
    assert "blog.example" not in client.get("/api/session").headers.get(
        "Content-Security-Policy", "")


def test_pages_use_no_external_assets(client):
    for path in ("/login", "/register", "/password/forgot", "/confirm/resend"):
        body = client.get(path).get_data(as_text=True)
        assert "https://" not in body and "http://" not in body, path
        # Scripts only from this origin's static files, never inline (the CSP forbids both).
        scripts = re.findall(r"<script[^>]*>(.*?)</script>", body, re.S)
        assert all(not inline.strip() for inline in scripts), path
        assert re.findall(r"<script(?![^>]*src=\"/static/)", body) == [], path


@pytest.mark.settings(RATELIMIT_ENABLED=True)
def test_sign_in_is_rate_limited_per_address(browser, make_user):
    make_user("reader@example.com")
    statuses = [browser.login("reader@example.com", "wrong password!").status_code
                for _ in range(11)]
    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429
    assert "Too many attempts" in browser.last_page
    limited = browser.login("reader@example.com", "wrong password!")
    assert int(limited.headers["Retry-After"]) > 0
    # Another address from the same client is not blocked by this one's limit.
    assert browser.login("other@example.com", "wrong password!").status_code == 400


@pytest.mark.settings(RATELIMIT_ENABLED=True)
def test_password_reset_requests_are_rate_limited(browser):
    statuses = [browser.submit("/password/forgot", {"email": "x@example.com"}).status_code
                for _ in range(11)]
    assert statuses[-1] == 429
    assert statuses[:10] == [200] * 10


def test_readyz_reports_when_the_database_goes_away(app, client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    with app.app_context():
        monkeypatch.setattr(db.session, "execute", broken)
        assert client.get("/readyz").status_code == 503


@pytest.mark.skipif(not TEST_REDIS_URL, reason="needs AUTH_TEST_REDIS_URL (set by .ci/run)")
def test_rate_limits_are_shared_between_processes_through_redis(app, settings):
    # Two app instances stand for two service processes behind a load balancer.
    config = {k: app.config[k] for k in ("SECRET_KEY", "DATABASE_URL", "INSTANCE_PATH",
                                          "BASE_URL")}
    config.update(REDIS_URL=TEST_REDIS_URL, RATELIMIT_ENABLED=True)
    first, second = create_app(config), create_app(config)
    assert first.config["RATELIMIT_STORAGE_URI"] == TEST_REDIS_URL
    for attempt in range(10):
        assert Browser(first.test_client()).submit(
            "/password/forgot", {"email": "x@example.com"}).status_code == 200, attempt
    assert Browser(second.test_client()).submit(
        "/password/forgot", {"email": "x@example.com"}).status_code == 429


@pytest.mark.settings(RATELIMIT_ENABLED=True)
def test_only_a_429_carries_rate_limit_headers(browser, make_user):
    make_user("reader@example.com")
    answers = [browser.login("reader@example.com", "wrong password!") for _ in range(11)]
    answers.append(browser.submit("/password/forgot", {"email": "x@example.com"}))
    for answer in answers[:10] + answers[11:]:
        assert answer.status_code in {200, 400}
        named = {name.lower() for name, _ in answer.headers.items()}
        assert "retry-after" not in named, answer.status_code
        assert not {name for name in named if name.startswith("x-ratelimit")}
    refused = answers[10]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
