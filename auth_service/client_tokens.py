"""Verifying the service's signed tokens offline, on the content site's side.

:class:`TokenVerifier` checks a signed session token (``GET /api/session/token``)
or a back-channel logout token against the keys the service publishes at
``/oauth/jwks``, without asking the service anything else:

* the keys are fetched once and cached (``jwks_ttl``); a token naming a key id
  the cache does not know makes it fetch again, at most once per
  ``refetch_interval`` seconds, so a flood of made-up key ids costs one request;
* the algorithms are pinned (RS256, ES256): ``alg: none``, HMAC (the classic
  "HS256 signed with the public key" forgery) and anything else are refused
  before a key is even looked at, and the key's type must fit the algorithm;
* ``typ`` tells the token kinds apart, so an ID token issued to some other
  site cannot pass for a session token, nor the reverse;
* ``iss`` must be the service, ``exp`` in the future (with ``leeway``), and
  ``aud`` the expected audience when one is asked for.

:class:`BackchannelLogout` is the endpoint a site registers as its
``--backchannel-logout-uri``: it verifies the logout token and tells the
site's caches (a :class:`~auth_service.client.SessionClient`) to forget the
session at once. The JOSE work is joserfc's; the HTTP is the standard library.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import urllib.request
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from flask import Response, request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

log = logging.getLogger(__name__)

SESSION_TOKEN_TYPE = "auth-session+jwt"  # noqa: S105 (a JWT type, not a secret)
LOGOUT_TOKEN_TYPE = "logout+jwt"  # noqa: S105
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
ALGORITHMS = ("RS256", "ES256")
MAX_TOKEN_LENGTH = 8192


class InvalidToken(Exception):
    """The token is not one the service issued, or not any more; ``str()`` says why."""


class TokenVerifier:
    """Verifies the service's tokens against its published keys; thread-safe."""

    def __init__(self, base_url: str, *, algorithms: Sequence[str] = ALGORITHMS,
                 audience: str | None = None, leeway: float = 30.0, jwks_ttl: float = 300.0,
                 refetch_interval: float = 30.0, timeout: float = 2.0) -> None:
        """Raise ValueError for a base URL that is not http(s) or an algorithm not allowed.

        ``base_url`` is the service's AUTH_BASE_URL: the issuer every token must name.
        ``audience`` (e.g. the site's origin) is then required in every session token.
        """
        parts = urlsplit(base_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"base_url must be an http(s) URL, not {base_url!r}")
        unknown = set(algorithms) - set(ALGORITHMS)
        if unknown or not algorithms:
            raise ValueError(f"algorithms must be among {', '.join(ALGORITHMS)}")
        self.issuer = base_url.rstrip("/")
        self.jwks_url = self.issuer + "/oauth/jwks"
        self.algorithms = tuple(algorithms)
        self.audience = audience
        self.leeway = float(leeway)
        self.jwks_ttl = float(jwks_ttl)
        self.refetch_interval = float(refetch_interval)
        self.timeout = float(timeout)
        self._keys: KeySet | None = None
        self._kids: frozenset[str] = frozenset()
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()
        self.fetches = 0  # how many times the JWKS was fetched (for tests and metrics)

    # --- the tokens ------------------------------------------------------------------

    def verify(self, token: str, *, audience: str | None = None) -> dict[str, Any]:
        """The claims of a valid session token; raises InvalidToken.

        ``audience`` (or the verifier's own) must then be the token's ``aud``.
        """
        claims = self._verify(token, SESSION_TOKEN_TYPE)
        expected = audience or self.audience
        if expected is not None and not _has_audience(claims, expected):
            raise InvalidToken("the token is for another audience")
        for name in ("sub", "sid"):
            if not isinstance(claims.get(name), str):
                raise InvalidToken(f"the token has no {name}")
        return claims

    def verify_logout_token(self, token: str, client_id: str) -> dict[str, Any]:
        """The claims of a valid back-channel logout token for ``client_id``; raises InvalidToken.

        Back-Channel Logout 1.0 §2.6: the logout event, ``sid`` or ``sub``, no ``nonce``.
        """
        claims = self._verify(token, LOGOUT_TOKEN_TYPE)
        if not _has_audience(claims, client_id):
            raise InvalidToken("the logout token is for another client")
        events = claims.get("events")
        if not isinstance(events, dict) or events.get(LOGOUT_EVENT) != {}:
            raise InvalidToken("the token is not a logout token")
        if "nonce" in claims:
            raise InvalidToken("a logout token never has a nonce")
        if not (isinstance(claims.get("sid"), str) or isinstance(claims.get("sub"), str)):
            raise InvalidToken("the logout token names no session and no subject")
        if not isinstance(claims.get("jti"), str):
            raise InvalidToken("the logout token has no jti")
        return claims

    def _verify(self, token: str, typ: str) -> dict[str, Any]:
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("no token, or an absurdly long one")
        header = _header(token)
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise InvalidToken(f"algorithm {alg!r} is not accepted")
        if header.get("typ") != typ:
            raise InvalidToken("not the kind of token expected here")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("the token names no key")
        keys = self._key_set(kid)
        try:
            decoded = jwt.decode(token, keys, algorithms=[alg])
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise InvalidToken(f"bad signature or token ({type(exc).__name__})") from None
        claims = decoded.claims
        if claims.get("iss") != self.issuer:
            raise InvalidToken("the token is from another issuer")
        now = time.time()
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int | float) or now > exp + self.leeway:
            raise InvalidToken("the token has expired")
        if not isinstance(iat, int | float) or iat > now + self.leeway:
            raise InvalidToken("the token was issued in the future")
        return claims

    # --- the keys ---------------------------------------------------------------------

    def _key_set(self, kid: str) -> KeySet:
        with self._lock:
            age = time.monotonic() - self._fetched_at
            stale = self._keys is None or age > self.jwks_ttl
            unknown = kid not in self._kids
            if stale or (unknown and age > self.refetch_interval):
                self._fetch()
            if self._keys is None or kid not in self._kids:
                raise InvalidToken("the token was signed with a key the service does not publish")
            return self._keys

    def _fetch(self) -> None:
        """Fetch the JWKS (the lock is held). A failure keeps the keys already known."""
        self._fetched_at = time.monotonic()
        self.fetches += 1
        # The URL is http(s), checked in __init__.
        ask = urllib.request.Request(self.jwks_url, headers={  # noqa: S310
            "Accept": "application/json", "User-Agent": "auth_service.client"})
        try:
            with urllib.request.urlopen(ask, timeout=self.timeout) as response:  # noqa: S310
                document = json.loads(response.read(1_000_000))
            keys = [key for key in document["keys"] if key.get("alg") in self.algorithms]
            key_set = KeySet.import_key_set({"keys": keys})
        except (OSError, ValueError, KeyError, TypeError, JoseError) as exc:
            log.warning("could not fetch the JWKS at %s: %s", self.jwks_url,
                        type(exc).__name__)
            return
        self._keys = key_set
        self._kids = frozenset(str(key["kid"]) for key in keys if "kid" in key)


def _header(token: str) -> dict[str, Any]:
    """The protected header of a compact JWS, read before its signature is checked."""
    try:
        segment = token.split(".")[0]
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, IndexError, TypeError) as exc:
        raise InvalidToken("not a JWT") from exc
    if not isinstance(header, dict) or token.count(".") != 2:
        raise InvalidToken("not a signed JWT")
    return header


def _has_audience(claims: dict[str, Any], expected: str) -> bool:
    aud = claims.get("aud")
    return aud == expected or (isinstance(aud, list) and expected in aud)


# --- receiving back-channel logouts -----------------------------------------------------


class Forgetting(Protocol):
    """Anything holding sessions that can drop them: SessionClient, TokenSessionClient."""

    def forget(self, session_id: str | None = None, subject: str | None = None) -> int: ...


StartResponse = Callable[..., Any]


class BackchannelLogout:
    """WSGI app for the site's back-channel logout URI (POST ``logout_token``).

    A valid token makes every ``caches`` entry forget the session it names (its
    ``sid``, or every session of its ``sub``), and calls ``on_logout(sid, sub)``
    for the site's own sessions; then 200. Anything else is a 400, as the
    specification asks, and nothing is forgotten. A token seen before (its
    ``jti``) is accepted again without effect: the service may retry.
    Mount it at the path registered with ``--backchannel-logout-uri``
    (e.g. with werkzeug's DispatcherMiddleware, or :meth:`flask_view`).
    """

    def __init__(self, verifier: TokenVerifier, client_id: str, caches: Iterable[Forgetting] = (),
                 on_logout: Callable[[str | None, str | None], None] | None = None,
                 remember: int = 10000) -> None:
        self.verifier = verifier
        self.client_id = client_id
        self.caches = list(caches)
        self.on_logout = on_logout
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._remember = remember
        self._lock = threading.Lock()

    def handle(self, logout_token: str | None) -> tuple[int, str]:
        """Verify and act on one logout token; returns (status, JSON body)."""
        try:
            claims = self.verifier.verify_logout_token(logout_token or "", self.client_id)
        except InvalidToken as exc:
            log.warning("back-channel logout refused: %s", exc)
            return 400, json.dumps({"error": "invalid_request"})
        if self._first_time(claims["jti"], float(claims["exp"])):
            sid, sub = claims.get("sid"), claims.get("sub")
            for cache in self.caches:
                cache.forget(session_id=sid, subject=None if sid else sub)
            if self.on_logout is not None:
                self.on_logout(sid, sub)
        return 200, "{}"

    def _first_time(self, jti: str, expires: float) -> bool:
        now = time.time()
        with self._lock:
            while self._seen and next(iter(self._seen.values())) < now:
                self._seen.popitem(last=False)
            if jti in self._seen:
                return False
            self._seen[jti] = expires
            while len(self._seen) > self._remember:
                self._seen.popitem(last=False)
            return True

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            status, body = 405, json.dumps({"error": "method_not_allowed"})
        else:
            try:
                length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_TOKEN_LENGTH * 2)
            except ValueError:
                length = 0
            form = parse_qs(environ["wsgi.input"].read(length).decode("utf-8", "replace"))
            status, body = self.handle((form.get("logout_token") or [None])[0])
        data = body.encode()
        reason = {200: "200 OK", 400: "400 Bad Request", 405: "405 Method Not Allowed"}[status]
        start_response(reason, [("Content-Type", "application/json"),
                                ("Content-Length", str(len(data))), ("Cache-Control", "no-store")])
        return [data]

    def flask_view(self) -> Callable[[], Any]:
        """A Flask view function doing the same (exempt it from the site's CSRF protection)."""

        def backchannel_logout() -> Response:
            status, body = self.handle(request.form.get("logout_token"))
            return Response(body, status=status, mimetype="application/json",
                            headers={"Cache-Control": "no-store"})

        return backchannel_logout
