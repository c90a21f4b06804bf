"""Signing keys: made on first use, rotated with `auth-service keys rotate`, a rotated-out key
kept in the JWKS until every token it signed has expired."""

from __future__ import annotations

import jwt
import requests
from jwt import PyJWKClient

from auth_service.client import TokenVerifier
from tests.oidc_support import (  # base, port, reader, settings: fixtures
    EMAIL,
    base,
    port,
    reader,
    settings,
)


def token(reader):
    return reader.get("/api/session/token").json()["token"]


def kids(base):
    return [key["kid"] for key in requests.get(f"{base}/oauth/jwks", timeout=5).json()["keys"]]


def verify_with_pyjwt(base, value):
    key = PyJWKClient(f"{base}/oauth/jwks", cache_keys=False).get_signing_key_from_jwt(value)
    return jwt.decode(value, key.key, algorithms=["RS256", "ES256"], issuer=base)


def test_a_first_key_is_made_on_first_use(base, runner):
    assert "No signing key yet" in runner.invoke(["keys", "list"]).output
    [kid] = kids(base)
    listing = runner.invoke(["keys", "list"]).output
    assert kid in listing and "current" in listing and "RS256" in listing


def test_tokens_from_before_and_after_a_rotation_both_verify(base, reader, runner, clock):
    reader.sign_in(EMAIL)
    before = token(reader)
    result = runner.invoke(["keys", "rotate"])
    assert result.exit_code == 0 and "signs from now on" in result.output
    after = token(reader)
    old_kid = jwt.get_unverified_header(before)["kid"]
    new_kid = jwt.get_unverified_header(after)["kid"]
    assert old_kid != new_kid
    assert set(kids(base)) == {old_kid, new_kid}
    verifier = TokenVerifier(base)
    for value in (before, after):
        assert verify_with_pyjwt(base, value)["email"] == EMAIL
        assert verifier.verify(value)["email"] == EMAIL
    assert "retiring" in runner.invoke(["keys", "list"]).output
    # Once every token the old key signed has expired (ID tokens: an hour), it goes.
    clock.advance(minutes=59)
    assert old_kid in kids(base)
    clock.advance(minutes=3)
    assert kids(base) == [new_kid]
    assert "retired" in runner.invoke(["keys", "list"]).output


def test_es256_is_available(base, reader, runner):
    reader.sign_in(EMAIL)
    assert runner.invoke(["keys", "rotate", "--alg", "ES256"]).exit_code == 0
    value = token(reader)
    assert jwt.get_unverified_header(value)["alg"] == "ES256"
    assert verify_with_pyjwt(base, value)["email"] == EMAIL
    assert TokenVerifier(base).verify(value)["email"] == EMAIL
    keys = requests.get(f"{base}/oauth/jwks", timeout=5).json()["keys"]
    assert {key["kty"] for key in keys} == {"EC"}
    assert all("d" not in key for key in keys)  # never the private half


def test_an_unknown_algorithm_is_a_usage_error(runner):
    result = runner.invoke(["keys", "rotate", "--alg", "HS256"])
    assert result.exit_code == 2


def test_the_jwks_never_holds_a_private_key(base, reader):
    reader.sign_in(EMAIL)
    token(reader)
    for key in requests.get(f"{base}/oauth/jwks", timeout=5).json()["keys"]:
        assert key["kty"] == "RSA" and set(key) >= {"kid", "alg", "use", "n", "e"}
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
