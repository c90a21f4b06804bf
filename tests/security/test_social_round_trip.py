"""The social round trip under attack: flooding it, replaying a spent callback with an old
cookie, a callback naming another issuer (mix-up), a return_to nobody can parse."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.wrappers import Request, Response

from auth_service.models import Session
from tests.conftest import Browser
from tests.social_support import local_path, provider_login, serve


@dataclass
class Front:
    """Stands before the real provider: its discovery document (with ``extra`` claims of
    its own), and a token endpoint that passes every request on and counts it."""

    upstream: str
    extra: dict[str, object] = field(default_factory=dict)
    token_calls: int = 0
    base: str = ""

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path == "/.well-known/openid-configuration":
            meta = requests.get(f"{self.upstream}/.well-known/openid-configuration",
                                timeout=5).json()
            meta.update(token_endpoint=f"{self.base}/token", **self.extra)
            response = Response(json.dumps(meta), mimetype="application/json")
        else:
            self.token_calls += 1
            upstream = requests.post(
                f"{self.upstream}/oauth2/token", data=request.form.to_dict(),
                headers={"Authorization": request.headers.get("Authorization", "")}, timeout=5)
            response = Response(upstream.content, status=upstream.status_code,
                                mimetype="application/json")
        return response(environ, start_response)


@pytest.fixture
def front(provider):
    front = Front(upstream=provider.base)
    with serve(front) as base:
        front.base = base
        yield front


@pytest.fixture
def settings(settings, front):  # the service talks to the provider through the front
    return {**settings, "OIDC_MOCK_DISCOVERY_URL": f"{front.base}/.well-known/openid-configuration"}


@pytest.fixture
def reader(provider):
    provider.set_user("reader", email="reader@example.com", email_verified=True)
    return "reader"


def start(browser, query: str = "") -> str:
    answer = browser.get("/login/mock" + query)
    assert answer.status_code == 302, browser.last_page
    return answer.headers["Location"]


def sessions(db_session) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(Session))


@pytest.mark.settings(RATELIMIT_ENABLED=True)
def test_starting_round_trips_is_limited_per_ip(browser):
    statuses = [browser.get("/login/mock").status_code for _ in range(31)]
    assert statuses[:30] == [302] * 30
    assert statuses[30] == 429


@pytest.mark.settings(RATELIMIT_ENABLED=True)
def test_callbacks_with_bogus_codes_are_limited_per_ip(browser):
    statuses = [browser.get(f"/login/mock/callback?code=bogus{i}&state=x").status_code
                for i in range(31)]
    assert statuses[:30] == [400] * 30
    assert statuses[30] == 429


def test_a_spent_callback_with_an_old_cookie_never_reaches_the_provider(app, browser, front,
                                                                        reader, db_session):
    authorize = start(browser)
    old_cookie = browser.client.get_cookie("auth_csrf").value
    callback = local_path(provider_login(authorize, reader))
    assert browser.get(callback).status_code == 303
    assert front.token_calls == 1
    # An attacker (or a restored browser tab) sends the old cookie with the spent callback.
    replay = Browser(app.test_client())
    replay.client.set_cookie("auth_csrf", old_cookie)
    answer = replay.get(callback)
    assert answer.status_code == 400
    assert "expired or was already used" in replay.last_page
    assert front.token_calls == 1, "the spent code was sent to the provider again"
    assert sessions(db_session) == 1


def test_a_callback_naming_another_issuer_is_refused_before_the_code_is_sent(
        browser, front, reader, db_session):
    callback = local_path(provider_login(start(browser), reader))
    answer = browser.get(callback + "&iss=https%3A%2F%2Fevil.example")
    assert answer.status_code == 400
    assert "did not come from Travel ID" in browser.last_page
    assert front.token_calls == 0
    assert sessions(db_session) == 0


def test_a_callback_naming_the_providers_own_issuer_is_accepted(browser, provider, front,
                                                                reader):
    callback = local_path(provider_login(start(browser), reader))
    assert browser.get(callback + "&iss=" + provider.base).status_code == 303


def test_a_provider_that_always_sends_iss_must_send_it(browser, front, reader, db_session):
    front.extra["authorization_response_iss_parameter_supported"] = True
    callback = local_path(provider_login(start(browser), reader))
    assert browser.get(callback).status_code == 400  # no iss: someone else's answer
    assert front.token_calls == 0
    assert sessions(db_session) == 0


@pytest.mark.parametrize("value", ["http://[", "https://trusted.example：443/x"])
def test_an_unparseable_return_to_does_not_break_the_start(browser, front, reader, value):
    authorize = start(browser, "?return_to=" + value)
    answer = browser.get(local_path(provider_login(authorize, reader)))
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/account"
