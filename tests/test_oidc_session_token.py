"""The fourth trust mode: GET /api/session/token, verified offline.

The token is checked with PyJWT (a JOSE library the service does not use)
against the published JWKS, then with the client's TokenVerifier, which must
refuse every forgery: ``alg: none``, another key, HS256 signed with the public
key, an expired token, another issuer or audience, an ID token passed off as a
session token. The Python client's token mode and its back-channel handler are
tested here too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import PyJWKClient

from auth_service.client import (
    BackchannelLogout,
    InvalidToken,
    SessionClient,
    TokenSessionClient,
    TokenVerifier,
)
from auth_service.client import (
    Reader as SiteReader,
)
from tests.oidc_support import (  # base, port, reader, settings, site: fixtures
    EMAIL,
    RelyingParty,
    base,
    port,
    reader,
    register,
    settings,
    sign_in_through,
    site,
)
from tests.social_support import serve
from tests.test_oidc_logout import drain

SITE = "https://trusted.example"


def session_token(reader, **params):
    answer = reader.get("/api/session/token" + (
        "?" + requests.compat.urlencode(params) if params else ""))
    return answer


def test_a_signed_out_browser_gets_401(base, reader):
    answer = session_token(reader)
    assert answer.status_code == 401
    assert answer.json() == {"error": "unauthenticated"}


def test_the_token_verifies_with_pyjwt_against_the_jwks(base, reader):
    reader.sign_in(EMAIL)
    answer = session_token(reader)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert 290 <= body["expires_in"] <= 300
    assert answer.headers["Cache-Control"] == "no-store"
    key = PyJWKClient(f"{base}/oauth/jwks").get_signing_key_from_jwt(body["token"])
    claims = jwt.decode(body["token"], key.key, algorithms=["RS256"], issuer=base,
                        options={"require": ["exp", "iat", "sub", "sid"]})
    session = reader.get("/api/session").json()
    assert claims["sub"] == session["user"]["id"]
    assert claims["sid"] == session["session"]["id"]
    assert claims["email"] == EMAIL and claims["email_verified"] is True
    assert claims["name"] == "Ana Marić" and claims["roles"] == []
    assert claims["amr"] == ["pwd"]
    assert claims["exp"] - claims["iat"] <= 300
    assert "aud" not in claims
    assert jwt.get_unverified_header(body["token"])["typ"] == "auth-session+jwt"


def test_a_bearer_session_token_works_too(base, reader):
    reader.sign_in(EMAIL)
    cookie = reader.http.cookies.get("auth_session")
    answer = requests.get(f"{base}/api/session/token", timeout=5,
                          headers={"Authorization": f"Bearer {cookie}"})
    assert answer.status_code == 200


def test_audience_only_for_a_trusted_origin(base, reader):
    reader.sign_in(EMAIL)
    token = session_token(reader, audience=SITE).json()["token"]
    assert jwt.decode(token, options={"verify_signature": False})["aud"] == SITE
    refused = session_token(reader, audience="https://evil.example")
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_audience"


@pytest.mark.settings(SESSION_TOKEN_TTL=60)
def test_the_lifetime_is_configurable_and_never_past_the_session(base, reader, app):
    reader.sign_in(EMAIL)
    assert session_token(reader).json()["expires_in"] <= 60


def test_a_revoked_session_gets_no_token(base, reader):
    reader.sign_in(EMAIL)
    page = reader.get("/logout")
    cookie = reader.http.cookies.get("auth_session")
    reader.post("/logout", {"csrf_token": reader.csrf(page), "return_to": ""})
    answer = requests.get(f"{base}/api/session/token", timeout=5,
                          headers={"Authorization": f"Bearer {cookie}"})
    assert answer.status_code == 401


# --- TokenVerifier -------------------------------------------------------------------------


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture
def issued(base, reader):
    reader.sign_in(EMAIL)
    token = session_token(reader).json()["token"]
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    return token, header, claims


def test_verifier_accepts_a_real_token(base, issued):
    token, _, claims = issued
    verifier = TokenVerifier(base)
    assert verifier.verify(token)["sid"] == claims["sid"]
    assert verifier.verify(token)["sub"] == claims["sub"]
    assert verifier.fetches == 1  # the keys are fetched once, then cached


def test_verifier_refuses_forgeries(base, issued):
    token, header, claims = issued
    verifier = TokenVerifier(base)
    jwks = requests.get(f"{base}/oauth/jwks", timeout=5).json()
    public = jwt.PyJWK(jwks["keys"][0]).key
    pem = public.public_bytes(serialization.Encoding.PEM,
                              serialization.PublicFormat.SubjectPublicKeyInfo)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    later = {**claims, "sub": "1", "exp": int(time.time()) + 300}
    forged = {
        "alg none": f"{b64({'alg': 'none', 'typ': header['typ'], 'kid': header['kid']})}."
                    f"{b64(later)}.",
        "another key": jwt.encode(later, other, algorithm="RS256", headers={
            "kid": header["kid"], "typ": header["typ"]}),
        "HS256 with the public key": _hs256(later, pem, header),
        "expired": jwt.encode({**claims, "exp": int(time.time()) - 120}, other,
                              algorithm="RS256", headers=header),
        "tampered payload": ".".join([token.split(".")[0], b64(later), token.split(".")[2]]),
        "not a jwt": "abc",
        "unknown kid": jwt.encode(later, other, algorithm="RS256", headers={
            "kid": "nope", "typ": header["typ"]}),
    }
    for name, value in forged.items():
        with pytest.raises(InvalidToken):
            verifier.verify(value)
            pytest.fail(f"accepted a forgery: {name}")


def _hs256(claims, pem, header):
    # PyJWT refuses to HMAC with a PEM key, as it should; the forgery is made by hand.
    head = b64({"alg": "HS256", "typ": header["typ"], "kid": header["kid"]})
    body = b64(claims)
    signature = hmac.new(pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def test_verifier_refuses_a_token_the_service_signed_as_it_expired(base, reader, clock):
    reader.sign_in(EMAIL)
    clock.advance(seconds=-400)  # issued 400 s ago: expired 100 s ago
    token = session_token(reader).json()["token"]
    with pytest.raises(InvalidToken, match="expired"):
        TokenVerifier(base).verify(token)


def test_verifier_checks_issuer_and_audience(base, issued, reader):
    token, _, _ = issued
    with pytest.raises(InvalidToken, match="issuer"):
        TokenVerifier(base.replace("127.0.0.1", "localhost")).verify(token)
    with pytest.raises(InvalidToken, match="audience"):
        TokenVerifier(base, audience=SITE).verify(token)
    for_site = session_token(reader, audience=SITE).json()["token"]
    assert TokenVerifier(base, audience=SITE).verify(for_site)["aud"] == SITE


def test_an_id_token_does_not_pass_for_a_session_token(base, reader, site):
    rp = RelyingParty(base, site)
    response, _ = sign_in_through(rp, reader)
    id_token = rp.exchange(response)["id_token"].jwt
    with pytest.raises(InvalidToken, match="kind of token"):
        TokenVerifier(base).verify(id_token)


def test_unknown_kids_refetch_the_keys_at_most_once_per_interval(base, issued):
    token, header, claims = issued
    verifier = TokenVerifier(base, refetch_interval=60)
    verifier.verify(token)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for n in range(20):
        made_up = jwt.encode(claims, other, algorithm="RS256",
                             headers={"kid": f"kid-{n}", "typ": header["typ"]})
        with pytest.raises(InvalidToken):
            verifier.verify(made_up)
    assert verifier.fetches == 1
    fresh = TokenVerifier(base, refetch_interval=0)
    fresh.verify(token)
    with pytest.raises(InvalidToken):
        fresh.verify(jwt.encode(claims, other, algorithm="RS256",
                                headers={"kid": "kid-x", "typ": header["typ"]}))
    assert fresh.fetches == 2


def test_verifier_pins_its_algorithms():
    with pytest.raises(ValueError, match="algorithms"):
        TokenVerifier("https://auth.example", algorithms=["HS256"])
    with pytest.raises(ValueError, match="algorithms"):
        TokenVerifier("https://auth.example", algorithms=["none"])


# --- the Python client's token mode and back-channel handler ------------------------------


def test_token_session_client_knows_the_reader_without_asking_again(base, reader):
    reader.sign_in(EMAIL)
    cookie = reader.http.cookies.get("auth_session")
    client = TokenSessionClient(base)
    first = client.check(cookie)
    assert isinstance(first, SiteReader) and first.email == EMAIL
    asked = client.verifier.fetches
    for _ in range(5):
        assert client.check(cookie) == first
    assert client.verifier.fetches == asked
    assert client.check("garbage") is None


def test_a_logout_token_makes_the_cache_forget_the_session(app, base, reader, receiver_app):
    registration, handler, session_cache = receiver_app
    rp = RelyingParty(base, registration)
    response, _ = sign_in_through(rp, reader)
    rp.exchange(response)
    cookie = reader.http.cookies.get("auth_session")
    assert session_cache.check(cookie) is not None  # cached for an hour
    page = reader.get("/logout")
    reader.post("/logout", {"csrf_token": reader.csrf(page), "return_to": ""})
    assert session_cache.check(cookie) is not None  # the cache does not know yet
    assert drain(app).sent == 1
    assert session_cache.check(cookie) is None  # forgotten at once, then asked: 401
    # A forged or replayed token does nothing harmful.
    status, _ = handler.handle("not-a-token")
    assert status == 400


@pytest.fixture
def receiver_app(app, base):
    session_cache = SessionClient(base, cache_ttl=3600)
    holder: dict = {}

    def wsgi(environ, start_response):
        return holder["handler"](environ, start_response)

    with serve(wsgi) as url:
        registration = register(app, "Python site", redirect_uri="https://rp.example/cb",
                                first_party=True, backchannel_logout_uri=url + "/bc")
        holder["handler"] = BackchannelLogout(TokenVerifier(base), registration["client_id"],
                                              caches=[session_cache])
        yield registration, holder["handler"], session_cache
