"""Test support for social sign-in: a real OpenID provider and the reader's side of the round trip.

The provider is oidc-provider-mock (PyPI; built on Authlib, not written by this
project), served on 127.0.0.1. A small "tampering" front can sit before it to
hand the service ID tokens with a bad signature or the wrong audience.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import oidc_provider_mock
import requests
from joserfc import jwk, jwt
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.conftest import local_path

__all__ = ["local_path"]  # re-exported: social tests import it from here


@contextmanager
def serve(app: Callable[..., Any]) -> Iterator[str]:
    """Serve a WSGI app on a free 127.0.0.1 port in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class OIDCProvider:
    base: str

    @property
    def discovery(self) -> str:
        return f"{self.base}/.well-known/openid-configuration"

    def set_user(self, sub: str, **claims: object) -> None:
        response = requests.put(f"{self.base}/users/{sub}", json=claims, timeout=5)
        assert response.status_code == 204, response.text


def provider_login(authorize_url: str, sub: str | None, *, deny: bool = False,
                   mutate: Callable[[dict[str, list[str]]], None] | None = None) -> str:
    """Play the reader at the provider: open the authorize URL, sign in as ``sub`` (or deny).

    Returns the callback URL the provider redirects back to. ``mutate`` may change
    the authorization request's parameters first (e.g. swap the nonce).
    """
    if mutate is not None:
        parts = urlsplit(authorize_url)
        query = parse_qs(parts.query)
        mutate(query)
        authorize_url = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
    page = requests.get(authorize_url, timeout=5)
    assert page.status_code == 200, page.text
    data = {"action": "deny"} if deny else {"sub": sub}
    answer = requests.post(authorize_url, data=data, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def continue_with(browser: Any, sub: str, name: str = "mock", **kwargs: Any) -> Any:
    """The whole round trip from "Continue with" to the callback, as ``sub`` at provider
    ``name``; returns the callback's answer (``kwargs`` go to provider_login)."""
    start = browser.get(f"/login/{name}")
    assert start.status_code == 302, browser.last_page
    return browser.get(local_path(provider_login(start.headers["Location"], sub, **kwargs)))


@dataclass
class TamperingFront:
    """Stands before the real provider: same discovery and authorize, but its own token endpoint.

    The token endpoint fetches the real tokens, then re-signs the ID token with
    ``claims_change`` applied, using ``signing_key``; its JWKS publishes
    ``published_key``. Equal keys and no change: a valid token (the control).
    ``outage`` makes the token endpoint answer 503; ``delay`` makes it hang first
    (until :meth:`release`, so a test never waits out the whole delay).
    """

    upstream: str
    published_key: jwk.RSAKey = field(default_factory=lambda: jwk.RSAKey.generate_key(2048))
    signing_key: jwk.RSAKey | None = None
    claims_change: dict[str, object] = field(default_factory=dict)
    base: str = ""
    outage: bool = False
    delay: float = 0.0
    _released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        """End any hanging token request now (called when the test ends)."""
        self._released.set()

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        if request.path == "/.well-known/openid-configuration":
            meta = requests.get(f"{self.upstream}/.well-known/openid-configuration",
                                timeout=5).json()
            meta.update(token_endpoint=f"{self.base}/token", jwks_uri=f"{self.base}/jwks")
            response = Response(json.dumps(meta), mimetype="application/json")
        elif request.path == "/jwks":
            key = self.published_key.as_dict(private=False)
            key.update(kid="front", use="sig", alg="RS256")
            response = Response(json.dumps({"keys": [key]}), mimetype="application/json")
        elif request.path == "/token" and (self.delay or self.outage):
            self._released.wait(self.delay)
            response = Response("upstream unavailable", status=503)
        elif request.path == "/token":
            upstream = requests.post(
                f"{self.upstream}/oauth2/token", data=request.form.to_dict(),
                headers={"Authorization": request.headers.get("Authorization", "")}, timeout=5)
            tokens = upstream.json()
            if "id_token" in tokens:
                tokens["id_token"] = self._resign(tokens["id_token"])
            response = Response(json.dumps(tokens), status=upstream.status_code,
                                mimetype="application/json")
        else:
            response = Response("not found", status=404)
        return response(environ, start_response)

    def _resign(self, token: str) -> str:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims.update(self.claims_change)
        key = self.signing_key or self.published_key
        return jwt.encode({"alg": "RS256", "kid": "front"}, claims, key)


def start_oidc_provider() -> Any:
    """The real provider's WSGI app (users are set over its HTTP API)."""
    return oidc_provider_mock.app()


@contextmanager
def running_oidc_provider() -> Iterator[OIDCProvider]:
    """The real provider served on 127.0.0.1 for as long as the block runs."""
    with serve(start_oidc_provider()) as base:
        yield OIDCProvider(base)


@dataclass
class OIDCAdapter:
    """The provider contract's hands on an OpenID provider (tests/provider_contract.py)."""

    provider: OIDCProvider
    front: TamperingFront
    name: str
    label: str
    vouches_for_email: bool = True

    def add(self, key: str, email: str, *, verified: bool = True) -> None:
        self.provider.set_user(key, email=email, email_verified=verified)

    def change_email(self, key: str, email: str) -> None:
        self.provider.set_user(key, email=email, email_verified=True)

    def approve(self, authorize_url: str, key: str) -> str:
        return provider_login(authorize_url, key)

    def cancel(self, authorize_url: str) -> str:
        return provider_login(authorize_url, None, deny=True)

    def go_down(self) -> None:
        self.front.outage = True

    def go_slow(self, seconds: float) -> None:
        self.front.delay = seconds


@contextmanager
def front_of(provider: OIDCProvider) -> Iterator[TamperingFront]:
    """A faithful front before ``provider``, served on 127.0.0.1."""
    front = TamperingFront(upstream=provider.base)
    with serve(front) as base:
        front.base = base
        yield front
        front.release()
