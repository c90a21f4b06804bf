"""Continue with Google: the provider contract, and what is Google's own.

Google is OpenID Connect by discovery. Here its discovery document, keys and
endpoints are those of the real OpenID provider the suite runs on 127.0.0.1
(oidc-provider-mock, behind a faithful front), configured as an operator would
point AUTH_GOOGLE_DISCOVERY_URL at a Google-compatible issuer.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.provider_contract import ProviderContract
from tests.social_support import (
    OIDCAdapter,
    front_of,
    running_oidc_provider,
)


@pytest.fixture(scope="module")
def provider():
    with running_oidc_provider() as running:
        yield running


@pytest.fixture
def front(provider):
    with front_of(provider) as front:
        yield front


@pytest.fixture
def settings(settings, front):  # overrides conftest's: Google, as an operator configures it
    return {"GOOGLE_CLIENT_ID": "1234-travel.apps.googleusercontent.com",
            "GOOGLE_CLIENT_SECRET": "google-secret",
            "GOOGLE_DISCOVERY_URL": f"{front.base}/.well-known/openid-configuration",
            **settings}


class TestGoogleContract(ProviderContract):
    @pytest.fixture
    def adapter(self, provider, front):
        return OIDCAdapter(provider, front, name="google", label="Google")


class TestGoogleQuirks:
    def test_login_and_register_pages_offer_google(self, browser):
        for page in ("/login", "/register"):
            browser.get(page)
            assert "Continue with Google" in browser.last_page
            assert 'href="/login/google"' in browser.last_page

    def test_authorize_request_asks_for_the_email_and_profile_with_pkce(self, browser, front):
        response = browser.get("/login/google")
        location = response.headers["Location"]
        assert location.startswith(front.upstream)  # the discovery document's endpoint
        query = parse_qs(urlsplit(location).query)
        assert query["client_id"] == ["1234-travel.apps.googleusercontent.com"]
        assert set(query["scope"][0].split()) >= {"openid", "email", "profile"}
        assert query["code_challenge_method"] == ["S256"]
        assert query["nonce"] and query["state"]

    def test_email_verified_false_from_google_is_not_trusted(self, browser, provider, front,
                                                             db_session, deliver, mailbox):
        adapter = OIDCAdapter(provider, front, name="google", label="Google")
        adapter.add("g-ida", "ida@example.com", verified=False)
        response = ProviderContract().round_trip(browser, adapter, "g-ida")
        assert response.status_code == 403  # confirmed by our own link first
        deliver()
        assert mailbox.subjects("ida@example.com")[0].startswith("Confirm your email address")
