"""Sites that are not first-party get a consent page naming them; the answer is remembered."""

from __future__ import annotations

from tests.oidc_support import (  # base, port, reader, settings: fixtures
    EMAIL,
    RP,
    RelyingParty,
    base,
    port,
    query_of,
    reader,
    register,
    settings,
)


def test_a_third_party_site_asks_once(app, base, reader):
    third = register(app, "Travel Forum", redirect_uri=RP)
    rp = RelyingParty(base, third)
    reader.sign_in(EMAIL)
    url, state = rp.authorization_url(scope="openid email offline_access")
    page = reader.get(url)
    assert page.status_code == 200
    assert "Sign in to Travel Forum?" in reader.last_page
    assert "See your email address" in reader.last_page
    assert "Stay connected" in reader.last_page
    answer = reader.post(url, {"csrf_token": reader.csrf(page), "decision": "allow"})
    assert answer.status_code == 302
    response = rp.callback(answer.headers["Location"])
    assert response["state"] == state
    assert "refresh_token" in rp.exchange(response)
    # Asked once: the same request goes straight through now; a wider one asks again.
    url, _ = rp.authorization_url(scope="openid email")
    assert reader.get(url).headers["Location"].startswith(RP)
    url, _ = rp.authorization_url(scope="openid email profile")
    assert reader.get(url).status_code == 200
    url, _ = rp.authorization_url(scope="openid", prompt="consent")
    assert reader.get(url).status_code == 200


def test_cancelling_goes_back_with_access_denied(app, base, reader):
    rp = RelyingParty(base, register(app, "Travel Forum", redirect_uri=RP))
    reader.sign_in(EMAIL)
    url, state = rp.authorization_url()
    page = reader.get(url)
    answer = reader.post(url, {"csrf_token": reader.csrf(page), "decision": "deny"})
    query = query_of(answer.headers["Location"])
    assert query["error"] == "access_denied" and query["state"] == state
    assert query["iss"] == base


def test_prompt_none_without_consent_is_consent_required(app, base, reader):
    rp = RelyingParty(base, register(app, "Travel Forum", redirect_uri=RP))
    reader.sign_in(EMAIL)
    url, _ = rp.authorization_url(prompt="none")
    assert query_of(reader.get(url).headers["Location"])["error"] == "consent_required"


def test_the_consent_form_needs_its_csrf_token(app, base, reader):
    rp = RelyingParty(base, register(app, "Travel Forum", redirect_uri=RP))
    reader.sign_in(EMAIL)
    url, _ = rp.authorization_url()
    answer = reader.post(url, {"decision": "allow"})
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert "<html" in answer.text.lower()


def test_first_party_sites_skip_it(app, base, reader):
    rp = RelyingParty(base, register(app, "Our blog", redirect_uri=RP, first_party=True))
    reader.sign_in(EMAIL)
    url, _ = rp.authorization_url()
    assert reader.get(url).headers["Location"].startswith(RP)
