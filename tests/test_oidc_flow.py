"""The code flow end to end, driven by an independent relying party (pyoidc).

A reader signs in at the service, a site registered as a client gets a code,
exchanges it (PKCE S256), validates the ID token against the JWKS, reads
userinfo, refreshes (rotation, reuse detection), and everything a client or an
attacker may get wrong is refused the way the specifications say.
"""

from __future__ import annotations

import base64
import hashlib

import jwt
import requests
from sqlalchemy import select

from tests.oidc_support import (
    EMAIL,
    RP,
    RelyingParty,
    authorize_url,
    base,
    port,
    query_of,
    reader,
    register,
    settings,
    sign_in_through,
    site,
    token_request,
)


def test_full_code_flow_with_pkce(base, reader, site):
    rp = RelyingParty(base, site)
    response, state = sign_in_through(rp, reader)
    assert response["state"] == state
    assert query_of(reader.get(rp.authorization_url()[0]).headers["Location"])["iss"] == base
    tokens = rp.exchange(response)
    id_token = tokens["id_token"]
    assert id_token["iss"] == base
    assert id_token["aud"] == [site["client_id"]]
    assert id_token["sub"].isdigit()
    assert id_token["email"] == EMAIL
    assert id_token["amr"] == ["pwd"]
    assert "sid" in id_token and "auth_time" in id_token
    info = rp.userinfo(state)
    assert info["sub"] == id_token["sub"]
    assert info["name"] == "Ana Marić"
    assert info["email_verified"] is True


def offline_tokens(base, reader, app):
    site = register(app, "Red Africa", redirect_uri=RP, first_party=True)
    rp = RelyingParty(base, site)
    response, state = sign_in_through(rp, reader, scope="openid offline_access")
    return rp, state, rp.exchange(response)


def test_refresh_tokens_only_for_offline_access(base, reader, site):
    rp = RelyingParty(base, site)
    response, _ = sign_in_through(rp, reader)
    assert "refresh_token" not in rp.exchange(response)


def test_refresh_rotates_and_a_spent_one_revokes_its_successors(base, reader, app):
    rp, state, first = offline_tokens(base, reader, app)
    old = first["refresh_token"]
    second = rp.refresh(state, old)
    assert second["refresh_token"] != old
    assert second["access_token"] != first["access_token"]
    assert second["id_token"]["sub"] == first["id_token"]["sub"]
    assert second["id_token"]["sid"] == first["id_token"]["sid"]
    # The spent one comes back (a copy in someone else's hands): refused...
    replay = token_request(base, rp.registration, grant_type="refresh_token", refresh_token=old)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    # ...and its successor dies with it, as does the access token it came with.
    successor = token_request(base, rp.registration, grant_type="refresh_token",
                              refresh_token=second["refresh_token"])
    assert successor.json()["error"] == "invalid_grant"
    info = requests.get(f"{base}/oauth/userinfo", timeout=5,
                        headers={"Authorization": f"Bearer {second['access_token']}"})
    assert info.status_code == 401


def test_prompt_none_without_a_session_goes_back_with_login_required(base, reader, site):
    rp = RelyingParty(base, site)
    url, state = rp.authorization_url(prompt="none")
    answer = reader.get(url)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(RP)
    query = query_of(location)
    assert query == {"error": "login_required", "state": state, "iss": base}


def test_prompt_none_with_a_session_gives_a_code_without_a_page(base, reader, site):
    rp = RelyingParty(base, site)
    reader.sign_in(EMAIL)
    url, state = rp.authorization_url(prompt="none")
    answer = reader.get(url)
    assert answer.status_code == 302
    response = rp.callback(answer.headers["Location"])
    assert response["state"] == state
    assert rp.exchange(response)["id_token"]["email"] == EMAIL


def test_unregistered_redirect_uri_is_a_page_never_a_redirect(base, reader, site):
    reader.sign_in(EMAIL)
    for uri in ("https://evil.example/cb", RP + "/", RP + "?x=1", "https://rp.example/CB"):
        answer = reader.get(authorize_url(base, {**site, "redirect_uri": uri}))
        assert answer.status_code == 400, uri
        assert "Location" not in answer.headers
        assert "This sign-in link doesn't work" in reader.last_page
    answer = reader.get(authorize_url(base, {**site, "client_id": "nobody"}))
    assert answer.status_code == 400 and "Location" not in answer.headers
    answer = reader.get(authorize_url(base, {**site, "redirect_uri": ""}))
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_other_errors_go_back_with_state_and_iss(base, reader, site):
    reader.sign_in(EMAIL)
    answer = reader.get(authorize_url(base, site, response_type="token"))
    assert query_of(answer.headers["Location"]) == {
        "error": "unsupported_response_type", "state": "st-1", "iss": base,
        "error_description": query_of(answer.headers["Location"])["error_description"]}
    answer = reader.get(authorize_url(base, site, code_challenge="x" * 43,
                                      code_challenge_method="plain"))
    query = query_of(answer.headers["Location"])
    assert query["error"] == "invalid_request" and query["state"] == "st-1"
    assert query["iss"] == base


def test_wrong_client_secret_is_refused(base, reader, site):
    rp = RelyingParty(base, site)
    response, _ = sign_in_through(rp, reader)
    wrong = {**site, "client_secret": site["client_secret"][:-1] + "x"}
    answer = token_request(base, wrong, grant_type="authorization_code", code=response["code"],
                           redirect_uri=RP, code_verifier=rp.verifiers[response["state"]])
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_client_secret_is_stored_hashed(app, site, db_session):
    from auth_service.models import OAuthClient

    row = db_session.scalar(select(OAuthClient).where(OAuthClient.client_id == site["client_id"]))
    assert site["client_secret"] not in (row.secret_hash or "")
    assert len(row.secret_hash) == 64


def test_a_replayed_code_is_refused_and_revokes_what_it_issued(base, reader, site):
    rp = RelyingParty(base, site)
    response, _ = sign_in_through(rp, reader)
    code, verifier = response["code"], rp.verifiers[response["state"]]
    tokens = rp.exchange(response)
    again = token_request(base, site, grant_type="authorization_code", code=code,
                          redirect_uri=RP, code_verifier=verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    info = requests.get(f"{base}/oauth/userinfo", timeout=5,
                        headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 401


def test_an_expired_code_is_refused(base, reader, site, clock):
    rp = RelyingParty(base, site)
    response, _ = sign_in_through(rp, reader)
    clock.advance(seconds=61)
    answer = token_request(base, site, grant_type="authorization_code", code=response["code"],
                           redirect_uri=RP, code_verifier=rp.verifiers[response["state"]])
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_a_code_just_under_a_minute_old_still_works(base, reader, site, clock):
    rp = RelyingParty(base, site)
    response, _ = sign_in_through(rp, reader)
    clock.advance(seconds=59)
    # A raw request: the service's clock moved, pyoidc's did not (its iat check would object).
    answer = token_request(base, site, grant_type="authorization_code", code=response["code"],
                           redirect_uri=RP, code_verifier=rp.verifiers[response["state"]])
    assert answer.status_code == 200 and "id_token" in answer.json()


def test_wrong_pkce_verifier_is_refused(base, reader, site):
    rp = RelyingParty(base, site)
    response, _ = sign_in_through(rp, reader)
    answer = token_request(base, site, grant_type="authorization_code", code=response["code"],
                           redirect_uri=RP, code_verifier="a" * 64)
    assert answer.json()["error"] == "invalid_grant"


def test_public_client_without_pkce_is_refused(app, base, reader):
    public = register(app, "Phone app", redirect_uri=RP, public=True, first_party=True)
    assert public["client_secret"] is None
    reader.sign_in(EMAIL)
    answer = reader.get(authorize_url(base, public))
    query = query_of(answer.headers["Location"])
    assert query["error"] == "invalid_request" and "PKCE" in query["error_description"]
    # With PKCE it works, without a secret; the token request must carry the verifier.
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    answer = reader.get(authorize_url(base, public, code_challenge=challenge.decode(),
                                      code_challenge_method="S256"))
    code = query_of(answer.headers["Location"])["code"]
    missing = requests.post(f"{base}/oauth/token", timeout=5, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": RP,
        "client_id": public["client_id"]})
    assert missing.json()["error"] in {"invalid_request", "invalid_grant"}
    answer = reader.get(authorize_url(base, public, code_challenge=challenge.decode(),
                                      code_challenge_method="S256"))
    code = query_of(answer.headers["Location"])["code"]
    good = requests.post(f"{base}/oauth/token", timeout=5, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": RP,
        "client_id": public["client_id"], "code_verifier": verifier})
    assert good.status_code == 200, good.text
    assert "id_token" in good.json()


def test_a_signed_out_reader_comes_back_to_the_request(base, reader, site):
    rp = RelyingParty(base, site)
    url, _ = rp.authorization_url(login_hint=EMAIL)
    login = reader.get(url).headers["Location"]
    reader.get(login)
    assert f'value="{EMAIL}"' in reader.last_page  # login_hint fills the address in
    back = reader.sign_in(EMAIL, login_url=login).headers["Location"]
    assert back == url.replace(base, "") or back == url


def test_provider_hint_goes_straight_to_that_provider(base, reader, site):
    rp = RelyingParty(base, site)
    url, _ = rp.authorization_url(provider="github")
    location = reader.get(url).headers["Location"]
    assert location.startswith("/login/github?return_to=")
    url, _ = rp.authorization_url(provider="no-such-provider")
    assert reader.get(url).headers["Location"].startswith("/login?return_to=")


def test_prompt_login_asks_again_even_when_signed_in(base, reader, site, clock):
    rp = RelyingParty(base, site)
    reader.sign_in(EMAIL)
    first = rp.exchange(rp.callback(reader.get(rp.authorization_url()[0]).headers["Location"]))
    clock.advance(minutes=5)
    url, _ = rp.authorization_url(prompt="login")
    login = reader.get(url).headers["Location"]
    assert login.startswith("/login?") and "max_age=0" in login
    assert reader.get(login).status_code == 200  # the form, not straight back
    reader.sign_in(EMAIL, login_url=login)
    response = rp.callback(reader.follow_to(url, RP))
    answer = token_request(base, site, grant_type="authorization_code", code=response["code"],
                           redirect_uri=RP, code_verifier=rp.verifiers[response["state"]])
    # Decoded without checks: the service's clock moved, pyoidc's and PyJWT's did not.
    claims = jwt.decode(answer.json()["id_token"], options={"verify_signature": False})
    assert claims["auth_time"] >= first["id_token"]["auth_time"] + 300


def test_max_age_asks_for_a_fresher_sign_in(base, reader, site, clock):
    rp = RelyingParty(base, site)
    reader.sign_in(EMAIL)
    clock.advance(minutes=10)
    url, _ = rp.authorization_url(max_age="3600")
    assert reader.get(url).headers["Location"].startswith(RP)
    url, _ = rp.authorization_url(max_age="60")
    assert reader.get(url).headers["Location"].startswith("/login?")
    url, _ = rp.authorization_url(max_age="60", prompt="none")
    assert query_of(reader.get(url).headers["Location"])["error"] == "login_required"


def test_discovery_lists_the_endpoints_and_providers(base, site):
    meta = requests.get(f"{base}/.well-known/openid-configuration", timeout=5).json()
    assert meta["issuer"] == base
    for name, path in [("authorization_endpoint", "/oauth/authorize"),
                       ("token_endpoint", "/oauth/token"), ("userinfo_endpoint", "/oauth/userinfo"),
                       ("jwks_uri", "/oauth/jwks"), ("revocation_endpoint", "/oauth/revoke"),
                       ("end_session_endpoint", "/oauth/logout")]:
        assert meta[name] == base + path
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert set(meta["scopes_supported"]) == {"openid", "email", "profile", "offline_access"}
    assert set(meta["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic", "client_secret_post", "none"}
    assert meta["backchannel_logout_supported"] is True
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert {"name": "github", "label": "GitHub"} in meta["auth_service_providers"]


def test_revoking_a_refresh_token_ends_its_family(base, reader, app):
    rp, _, tokens = offline_tokens(base, reader, app)
    answer = requests.post(f"{base}/oauth/revoke", timeout=5, data={
        "token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        auth=(rp.registration["client_id"], rp.registration["client_secret"]))
    assert answer.status_code == 200
    again = token_request(base, rp.registration, grant_type="refresh_token",
                          refresh_token=tokens["refresh_token"])
    assert again.json()["error"] == "invalid_grant"
    info = requests.get(f"{base}/oauth/userinfo", timeout=5,
                        headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 401


def test_token_endpoint_garbage_is_a_json_error(base, site):
    for form in ({}, {"grant_type": "password", "username": "a", "password": "b"},
                 {"grant_type": "authorization_code", "code": "nope", "redirect_uri": RP}):
        answer = token_request(base, site, **form)
        assert 400 <= answer.status_code < 500
        assert "error" in answer.json()
