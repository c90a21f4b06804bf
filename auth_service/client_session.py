"""The check a Python content site makes: :class:`SessionClient` (and its token twin).

What the site imports is ``auth_service.client``; this is where the check lives.

The content site never sees passwords or session rows: it forwards the
``auth_session`` cookie its reader's browser sent to ``GET /api/session`` on the
sign-in service and trusts the answer. This module does that check well enough to
run on every page view:

* one persistent HTTP connection per thread, reopened when the service closed it;
* a short timeout, so a slow service cannot hold the site's workers for long;
* a small TTL cache keyed by the SHA-256 of the token, so a raw token is never
  kept as a key (a memory dump or a debug page listing the cache signs nobody in);
  a 401 is cached too, so a bot sending garbage cookies costs one check per TTL;
* fail closed: if the service is unreachable or broken, the reader is anonymous.

The cache is the price of speed: a session revoked on the service is still
accepted here for up to ``cache_ttl`` seconds. Set it to 0 where that matters.

The HTTP side is the standard library (``http.client``), no third-party HTTP
client to install or keep patched.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import re
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from auth_service.client_tokens import InvalidToken, TokenVerifier

# One logger name for everything the content site imports from auth_service.client.
log = logging.getLogger("auth_service.client")

DEFAULT_COOKIE = "auth_session"
# The amr values that mean a second factor was part of the sign-in.
SECOND_FACTOR_AMR = frozenset({"otp", "hwk"})
# RFC 6265 cookie-octets: anything else cannot be a token the service issued, and
# would let a crafted cookie smuggle a second cookie or a header into our request.
_COOKIE_VALUE = re.compile(r"[!#-+\--:<-\[\]-~]+")
_COOKIE_NAME = re.compile(r"[!#-'*+\-.0-9A-Z^-z|~]+")
# The service refuses longer tokens without looking them up; don't send them at all.
MAX_TOKEN_LENGTH = 512
_MISSING = object()
# Errors that mean "the kept-alive connection was closed under us", worth one fresh try.
_STALE = (ConnectionError, http.client.BadStatusLine, http.client.ImproperConnectionState)



@dataclass(frozen=True)
class Reader:
    """The signed-in reader, as the sign-in service described them.

    ``id`` is the service's account id (a string, as in the JSON); ``expires_at``
    is when the session stops working unless the reader comes back (idle or
    absolute expiry, aware, UTC); ``roles`` is empty for ordinary readers and
    holds ``"admin"`` for administrators.
    """

    id: str
    email: str
    email_verified: bool
    name: str
    avatar_url: str | None
    roles: tuple[str, ...]
    session_id: str
    expires_at: datetime
    # How the reader signed in (RFC 8176: "pwd", "oidc", "otp", "hwk") and when they last
    # proved who they are: what a page that needs more than a session checks.
    amr: tuple[str, ...] = ()
    auth_time: datetime | None = None

    @property
    def has_second_factor(self) -> bool:
        """Whether this session's sign-in included a second factor (an app's code, a passkey)."""
        return bool(set(self.amr) & SECOND_FACTOR_AMR)

    def signed_in_within(self, seconds: float) -> bool:
        """Whether the reader proved who they are at most ``seconds`` ago."""
        if self.auth_time is None:
            return False
        return (datetime.now(UTC) - self.auth_time).total_seconds() <= seconds

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reader:
        """Build a Reader from ``/api/session``'s 200 body; raises KeyError/TypeError/ValueError."""
        user, session = data["user"], data["session"]
        return cls(
            id=str(user["id"]),
            email=str(user["email"]),
            email_verified=bool(user["email_verified"]),
            name=str(user["name"]),
            avatar_url=user.get("avatar_url") or None,
            roles=tuple(str(role) for role in user.get("roles") or ()),
            session_id=str(session["id"]),
            expires_at=_parse_time(session["expires_at"]),
            amr=tuple(str(value) for value in session.get("amr") or ()),
            auth_time=_parse_time(session["auth_time"]) if session.get("auth_time") else None,
        )

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Reader:
        """Build a Reader from a verified session token's claims; raises KeyError/TypeError."""
        return cls(
            id=str(claims["sub"]),
            email=str(claims["email"]),
            email_verified=bool(claims["email_verified"]),
            name=str(claims["name"]),
            avatar_url=claims.get("picture") or None,
            roles=tuple(str(role) for role in claims.get("roles") or ()),
            session_id=str(claims["sid"]),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            amr=tuple(str(value) for value in claims.get("amr") or ()),
            auth_time=(datetime.fromtimestamp(int(claims["auth_time"]), UTC)
                       if claims.get("auth_time") is not None else None),
        )

    @property
    def initial(self) -> str:
        """One letter for a generated avatar when ``avatar_url`` is None."""
        return (self.name.strip()[:1] or self.email[:1] or "?").upper()


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def login_url(base_url: str, return_to: str | None = None) -> str:
    """The service's sign-in page, sending the reader back to ``return_to`` afterwards.

    The service honours ``return_to`` only for its AUTH_TRUSTED_ORIGINS, so the
    content site's origin must be listed there.
    """
    return _service_page(base_url, "/login", return_to)


def step_up_url(base_url: str, return_to: str, *, max_age: int = 0) -> str:
    """The service's sign-in page asking for a sign-in at most ``max_age`` seconds old.

    A reader whose session began earlier signs in again (their second factor
    included, when they have one), then comes back to ``return_to``; one who
    signed in recently enough goes straight back. ``max_age=0``: always again.
    """
    if max_age < 0:
        raise ValueError("max_age must be 0 or more seconds")
    query = urlencode({"return_to": return_to, "max_age": int(max_age)})
    return f"{base_url.rstrip('/')}/login?{query}"


def logout_url(base_url: str, return_to: str | None = None) -> str:
    """The service's sign-out page (it asks, then signs out), then back to ``return_to``."""
    return _service_page(base_url, "/logout", return_to)


def _service_page(base_url: str, path: str, return_to: str | None) -> str:
    url = base_url.rstrip("/") + path
    return f"{url}?{urlencode({'return_to': return_to})}" if return_to else url


class SessionClient:
    """Asks the sign-in service who a session token belongs to.

    Thread-safe: the cache is shared behind a lock; each thread keeps its own
    connection, because an ``http.client`` connection carries one request at a time.
    """

    def __init__(self, base_url: str, *, timeout: float = 2.0, cache_ttl: float = 5.0,
                 cache_size: int = 10000, cookie_name: str = DEFAULT_COOKIE) -> None:
        """Raise ValueError for a base URL that is not http(s) or a nonsensical setting.

        ``cache_ttl`` or ``cache_size`` of 0 turns the cache off: every check asks
        the service, and a revoked session is refused on the very next request.
        """
        parts = urlsplit(base_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"base_url must be an http(s) URL, not {base_url!r}")
        if timeout <= 0 or cache_ttl < 0 or cache_size < 0:
            raise ValueError("timeout must be positive; cache_ttl and cache_size not negative")
        if not _COOKIE_NAME.fullmatch(cookie_name):
            raise ValueError(f"{cookie_name!r} is not a valid cookie name")
        self.base_url = base_url.rstrip("/")
        self.timeout = float(timeout)
        self.cache_ttl = float(cache_ttl)
        self.cache_size = int(cache_size)
        self.cookie_name = cookie_name
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._path = parts.path.rstrip("/") + "/api/session"
        self._cache: OrderedDict[str, tuple[float, Reader | None]] = OrderedDict()
        self._lock = threading.Lock()
        self._local = threading.local()
        # Every live connection, so close() can reach other threads' ones too.
        self._connections: weakref.WeakSet[http.client.HTTPConnection] = weakref.WeakSet()

    def check(self, token: str | None) -> Reader | None:
        """The reader a session token belongs to, or None.

        None means "treat as anonymous": no token, a token the service refuses,
        or a service that cannot be asked right now (logged, never with the token).
        Answers are cached for ``cache_ttl`` seconds; failures are not, so the
        site recovers as soon as the service does.
        """
        if not token or len(token) > MAX_TOKEN_LENGTH or not _COOKIE_VALUE.fullmatch(token):
            return None
        key = hashlib.sha256(token.encode()).hexdigest()
        cached = self._cached(key)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        try:
            status, body = self._ask(token)
        except (OSError, http.client.HTTPException) as exc:
            log.warning("auth service at %s unreachable: %s", self.base_url, exc.__class__.__name__)
            return None
        if status == 401:
            self._store(key, None, None)
            return None
        reader = self._reader(status, body)
        if reader is not None:
            self._store(key, reader, reader.expires_at)
        return reader

    def _reader(self, status: int, body: bytes) -> Reader | None:
        """The reader in a (non-401) answer, or None, logged, when it holds none."""
        if status != 200:
            log.warning("auth service at %s answered %d to /api/session", self.base_url, status)
            return None
        try:
            return Reader.from_json(json.loads(body))
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("auth service at %s sent an unreadable /api/session body", self.base_url)
            return None

    def close(self) -> None:
        """Close every connection this client holds (they reopen on the next check)."""
        for connection in list(self._connections):
            connection.close()

    def clear_cache(self) -> None:
        """Forget every cached answer, e.g. after revoking sessions in bulk."""
        with self._lock:
            self._cache.clear()

    def forget(self, session_id: str | None = None, subject: str | None = None) -> int:
        """Forget the cached answers for one session, or every session of one reader.

        What a back-channel logout calls (:class:`BackchannelLogout`), so a revoked
        session is refused at once instead of after ``cache_ttl``. Returns how many went.
        """
        with self._lock:
            gone = [key for key, (_, reader) in self._cache.items() if reader is not None and (
                reader.session_id == session_id or (subject is not None and reader.id == subject))]
            for key in gone:
                del self._cache[key]
        return len(gone)

    # --- the cache -----------------------------------------------------------------

    def _cached(self, key: str) -> object:
        if not self.cache_ttl or not self.cache_size:
            return _MISSING
        with self._lock:
            entry = self._cache.get(key)
            if entry is None:
                return _MISSING
            if entry[0] <= time.monotonic():
                del self._cache[key]
                return _MISSING
            self._cache.move_to_end(key)
            return entry[1]

    def _store(self, key: str, reader: Reader | None, expires_at: datetime | None) -> None:
        if not self.cache_ttl or not self.cache_size:
            return
        ttl = self.cache_ttl
        if expires_at is not None:
            # Never keep a session past its own end just because the TTL is longer.
            ttl = min(ttl, (expires_at - datetime.now(UTC)).total_seconds())
            if ttl <= 0:
                return
        with self._lock:
            self._cache[key] = (time.monotonic() + ttl, reader)
            self._cache.move_to_end(key)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)  # the least recently used goes first

    # --- the connection ------------------------------------------------------------

    def _ask(self, token: str) -> tuple[int, bytes]:
        """GET /api/session with the token as the cookie; returns (status, body).

        A kept-alive connection may have been closed by the service (restart,
        idle timeout) since its last use; that shows up as an error on the first
        request over it, so one retry on a fresh connection is part of reuse.
        The check is a GET and changes nothing, so repeating it is safe.
        """
        headers = {"Cookie": f"{self.cookie_name}={token}", "Accept": "application/json",
                   "User-Agent": "auth_service.client"}
        for _attempt in range(2):
            connection = getattr(self._local, "connection", None)
            reused = connection is not None
            if connection is None:
                connection = self._connect()
            try:
                return self._exchange(connection, headers)
            except (OSError, http.client.HTTPException) as exc:
                self._drop(connection)
                # A timeout is not retried: it would double the wait of every page view.
                if not (reused and isinstance(exc, _STALE)):
                    raise
        raise AssertionError("unreachable: the second attempt always uses a fresh connection")

    def _exchange(self, connection: http.client.HTTPConnection,
                  headers: dict[str, str]) -> tuple[int, bytes]:
        connection.request("GET", self._path, headers=headers)
        response = connection.getresponse()
        body = response.read()  # read to the end, or the connection cannot be reused
        if response.will_close:
            connection.close()  # reconnects by itself on the next request
        return response.status, body

    def _connect(self) -> http.client.HTTPConnection:
        factory = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        connection = factory(self._host, self._port, timeout=self.timeout)
        self._local.connection = connection
        self._connections.add(connection)
        return connection

    def _drop(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        self._local.connection = None


class TokenSessionClient(SessionClient):
    """Like SessionClient, but trusts the signed session token instead of asking every time.

    For a cookie it has not seen (or whose token expired), it asks
    ``/api/session/token`` once and verifies the JWT offline (:class:`TokenVerifier`);
    until the token's ``exp`` (at most 5 minutes) the reader is known without a
    network call. A revocation is seen when the token expires, or at once with a
    :class:`BackchannelLogout` endpoint calling :meth:`forget`.
    """

    def __init__(self, base_url: str, *, verifier: TokenVerifier | None = None,
                 timeout: float = 2.0, cache_size: int = 10000,
                 cookie_name: str = DEFAULT_COOKIE) -> None:
        # The cache lives as long as each token: cache_ttl only bounds it from above.
        super().__init__(base_url, timeout=timeout, cache_ttl=3600, cache_size=cache_size,
                         cookie_name=cookie_name)
        self.verifier = verifier or TokenVerifier(base_url, timeout=timeout)
        self._path = self._path + "/token"

    def _reader(self, status: int, body: bytes) -> Reader | None:
        """The reader the answer's signed token names, verified here, or None, logged."""
        try:
            return Reader.from_claims(self.verifier.verify(json.loads(body)["token"]))
        except (InvalidToken, ValueError, KeyError, TypeError) as exc:
            log.warning("auth service at %s: no usable session token (%s, HTTP %d)",
                        self.base_url, type(exc).__name__, status)
            return None


def cookie_value(header: str, name: str) -> str | None:
    """The first value of cookie ``name`` in a ``Cookie:`` header, or None.

    Hand-parsed on purpose: ``http.cookies.SimpleCookie`` gives up on the whole
    header at the first cookie it dislikes, which would sign readers out because
    some other site on the domain set an odd cookie.
    """
    for part in header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key.strip() == name:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            return value
    return None
