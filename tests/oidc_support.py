"""Test support for the OpenID Connect provider: the service served over HTTP, a reader's browser,
a relying party built on pyoidc, and a receiver for back-channel logouts.

The relying party is pyoidc (``oic`` on PyPI): an OpenID Foundation-certified
client library with its own JOSE implementation (pyjwkest), independent of
Authlib and joserfc, which the service uses. If the service's tokens pass
pyoidc's checks (signature against the JWKS, iss, aud, nonce, at_hash), a
standard client accepts them.

The service runs in this process on a werkzeug server (so the ``clock`` fixture
moves its time too), at AUTH_BASE_URL = its 127.0.0.1 address.
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from oic import rndstr
from oic.oic import Client
from oic.oic.message import AuthorizationResponse, RegistrationResponse
from oic.utils.authn.client import CLIENT_AUTHN_METHOD
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from auth_service.oidc import clients as client_flow
from tests.conftest import PASSWORD, free_port

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@contextmanager
def serve_on(app: Any, port: int) -> Iterator[str]:
    """Serve a WSGI app on 127.0.0.1:``port`` in a thread; yields its base URL."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def register(app: Any, name: str = "Red Africa", *, redirect_uri: str = "https://rp.example/cb",
             **options: Any) -> dict[str, Any]:
    """Register a client as `clients add` does; returns client_id, client_secret, redirect_uri."""
    with app.app_context():
        registered = client_flow.add(name, [redirect_uri], **options)
        return {"client_id": registered.client.client_id, "client_secret": registered.secret,
                "redirect_uri": redirect_uri}


@dataclass
class Reader:
    """A browser: one requests.Session (cookies kept), redirects not followed."""

    base: str
    http: requests.Session = field(default_factory=requests.Session)
    last_page: str = ""

    def get(self, url: str) -> requests.Response:
        response = self.http.get(self._absolute(url), allow_redirects=False, timeout=10)
        self.last_page = html.unescape(response.text)
        return response

    def post(self, url: str, data: dict[str, str]) -> requests.Response:
        response = self.http.post(self._absolute(url), data=data, allow_redirects=False,
                                  timeout=10)
        self.last_page = html.unescape(response.text)
        return response

    def csrf(self, page: requests.Response) -> str:
        match = CSRF.search(page.text)
        assert match, f"no CSRF token on the page ({page.status_code}): {page.text[:300]}"
        return match.group(1)

    def sign_in(self, email: str, password: str = PASSWORD, *, login_url: str = "/login"
                ) -> requests.Response:
        """Fill the login form at ``login_url`` (its return_to kept); returns the 303."""
        page = self.get(login_url)
        assert page.status_code == 200, page.status_code
        return_to = parse_qs(urlsplit(self._absolute(login_url)).query).get("return_to", [""])[0]
        answer = self.post("/login", {"csrf_token": self.csrf(page), "email": email,
                                      "password": password, "return_to": return_to})
        assert answer.status_code == 303, self.last_page[:500]
        return answer

    def follow_to(self, url: str, prefix: str, limit: int = 10) -> str:
        """Follow redirects from ``url`` until one points at ``prefix``; returns that URL."""
        for _ in range(limit):
            if url.startswith(prefix):
                return url
            response = self.get(url)
            assert response.status_code in {302, 303}, (
                f"stopped at {url} with {response.status_code}: {self.last_page[:500]}")
            url = self._absolute(response.headers["Location"])
        raise AssertionError(f"more than {limit} redirects")

    def _absolute(self, url: str) -> str:
        return url if url.startswith("http") else self.base + url


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


class RelyingParty:
    """A content site's OpenID Connect client, as pyoidc does it."""

    def __init__(self, issuer: str, registration: dict[str, Any]) -> None:
        self.registration = registration
        self.client = Client(client_authn_method=CLIENT_AUTHN_METHOD)
        self.client.provider_config(issuer)
        self.client.store_registration_info(RegistrationResponse(
            client_id=registration["client_id"], client_secret=registration["client_secret"],
            redirect_uris=[registration["redirect_uri"]]))
        self.client.redirect_uris = [registration["redirect_uri"]]
        self.verifiers: dict[str, str] = {}

    def authorization_url(self, scope: str = "openid email profile", *, pkce: bool = True,
                          **extra: str) -> tuple[str, str]:
        """The URL to send the reader to, and its state."""
        state, nonce = rndstr(24), rndstr(24)
        args: dict[str, Any] = {"client_id": self.client.client_id, "response_type": "code",
                                "scope": scope.split(), "nonce": nonce, "state": state,
                                "redirect_uri": self.registration["redirect_uri"], **extra}
        if pkce:
            challenge, verifier = self.client.add_code_challenge()
            args.update(challenge)
            self.verifiers[state] = verifier
        request = self.client.construct_AuthorizationRequest(request_args=args)
        return request.request(self.client.authorization_endpoint), state

    def callback(self, url: str) -> AuthorizationResponse:
        """Parse (and check) the authorization response the reader brought back."""
        query = urlsplit(url).query
        return self.client.parse_response(AuthorizationResponse, info=query,
                                          sformat="urlencoded")

    def exchange(self, response: AuthorizationResponse, **request_args: str) -> Any:
        """The token request for a code; pyoidc validates the ID token it gets back."""
        state = response["state"]
        args = {"code": response["code"], "redirect_uri": self.registration["redirect_uri"],
                **request_args}
        if state in self.verifiers and "code_verifier" not in args:
            args["code_verifier"] = self.verifiers[state]
        return self.client.do_access_token_request(state=state, request_args=args,
                                                   authn_method="client_secret_basic")

    def refresh(self, state: str, refresh_token: str) -> Any:
        return self.client.do_access_token_refresh(
            state=state, request_args={"refresh_token": refresh_token},
            authn_method="client_secret_basic")

    def userinfo(self, state: str) -> Any:
        # The service reads the access token from the Authorization header only (RFC 6750
        # §2.1; the form-body way of §2.2 is optional for servers): ask pyoidc for that.
        return self.client.do_user_info_request(state=state, behavior="use_authorization_header")


def token_request(base: str, registration: dict[str, Any], **form: str) -> requests.Response:
    """A raw POST /oauth/token with the client's Basic credentials (what a wrong one looks like)."""
    auth = (registration["client_id"], registration["client_secret"]) if registration.get(
        "client_secret") else None
    return requests.post(f"{base}/oauth/token", data=form, auth=auth, timeout=10)


@dataclass
class LogoutReceiver:
    """A content site's back-channel logout endpoint on 127.0.0.1: keeps every POST it gets."""

    status: int = 200
    delay: float = 0.0
    received: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.received.append(request.form.to_dict())
        return Response(json.dumps({}), status=self.status,
                        mimetype="application/json")(environ, start_response)

    def tokens(self) -> list[str]:
        with self.lock:
            return [item["logout_token"] for item in self.received if "logout_token" in item]


def authorize_url(base: str, registration: dict[str, Any], **params: str) -> str:
    """A hand-made authorization URL (for the requests a client library would not make)."""
    query = {"client_id": registration["client_id"], "response_type": "code",
             "scope": "openid", "redirect_uri": registration["redirect_uri"], "state": "st-1",
             **params}
    return f"{base}/oauth/authorize?{urlencode(query)}"


# --- fixtures: import them into a test module (`from tests.oidc_support import base, …`) -------

EMAIL = "ana@example.com"
RP = "https://rp.example/cb"


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(settings: dict, port: int) -> dict:
    """The app's AUTH_BASE_URL is the address it is served on (see ``base``)."""
    return {"BASE_URL": f"http://127.0.0.1:{port}", "GITHUB_CLIENT_ID": "gh-id",
            "GITHUB_CLIENT_SECRET": "gh-secret", **settings}


@pytest.fixture
def base(app: Any, port: int) -> Iterator[str]:
    """The test app served on 127.0.0.1 in this process; its base URL."""
    with serve_on(app, port) as url:
        yield url


@pytest.fixture
def reader(base: str, make_user: Any) -> Reader:
    """A browser, and a confirmed account EMAIL / PASSWORD to sign in with."""
    make_user(EMAIL, name="Ana Marić")
    return Reader(base)


@pytest.fixture
def site(app: Any) -> dict[str, Any]:
    """A first-party client (no consent page) redirecting to RP."""
    return register(app, "Red Africa", redirect_uri=RP, first_party=True)


def sign_in_through(rp: RelyingParty, reader: Reader, **extra: str) -> tuple[Any, str]:
    """The reader, signed out, follows the site's sign-in link, signs in and comes back."""
    url, state = rp.authorization_url(**extra)
    answer = reader.get(url)
    assert answer.status_code == 302
    login = answer.headers["Location"]
    assert login.startswith("/login?return_to=")
    reader.sign_in(EMAIL, login_url=login)
    callback = reader.follow_to(reader.get(url).headers["Location"], RP)
    return rp.callback(callback), state
