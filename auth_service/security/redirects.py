"""The ``return_to`` check: only URLs on a trusted origin are ever redirected to.

Everything else (other hosts, ``//host``, ``/\\host``, ``javascript:``, look-alike
hosts, userinfo tricks, control characters) is refused, and the caller falls
back to ``/account``. Browsers are lenient parsers, so the rules are strict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urljoin, urlsplit

from auth_service.config import origin_of

# Control characters, whitespace and backslashes are all ways browsers have been
# tricked into reading a different host than a server-side parser saw.
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\]")
_FORBIDDEN_DECODED = re.compile(r"[\x00-\x1f\x7f\\]")
_QUERY_OR_FRAGMENT = re.compile(r"[?#]")
# A host name or an address, with an optional port: nothing that could move the
# path or the origin ("/", "@", "\\", "?", "#", ",", spaces).
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
MAX_LENGTH = 2048


def safe_return_to(value: str | None, *, base_url: str, trusted: Iterable[str]) -> str | None:
    """Return the absolute URL to send the reader to, or None if ``value`` is not trusted.

    A path (``/articles/1``) is resolved against ``base_url``; an absolute URL must
    have exactly one of the ``trusted`` origins (scheme, host and port). Anything the
    URL parser cannot read is untrusted too: this never raises.
    """
    if not value or len(value) > MAX_LENGTH or _FORBIDDEN.search(value):
        return None
    # Check the part before any query once decoded too: a proxy or framework further
    # on may decode it again, and "%2F%2Fevil.example" must not become "//evil.example".
    for form in (value, unquote(value)):
        head = _QUERY_OR_FRAGMENT.split(form, maxsplit=1)[0]
        if head.startswith("//") or _FORBIDDEN_DECODED.search(head):
            return None
    try:
        absolute = urljoin(base_url + "/", value)
        parts = urlsplit(absolute)
    except ValueError:  # "http://[", a netloc with a fullwidth colon…: not a URL we can trust
        return None
    if parts.scheme not in {"http", "https"} or parts.username or parts.password:
        return None
    if "@" in parts.netloc or "%" in parts.netloc:
        return None
    try:
        origin = origin_of(absolute)
    except ValueError:
        return None
    return absolute if origin in set(trusted) else None


def forwarded_page(proto: str, host: str, uri: str) -> str | None:
    """The URL a proxy says the reader asked for, from its X-Forwarded-Proto, -Host and -Uri.

    Returns None unless the three make one plain URL: ``http`` or ``https``, one host
    (a list, as a chain of proxies may send, is ambiguous: which one did the reader
    ask for?), and a path with its query exactly as the browser sent it. The result
    still has to pass :func:`safe_return_to` before anybody is sent there.
    """
    proto = proto.strip().lower()
    host = host.strip()
    if proto not in {"http", "https"} or not _HOST.fullmatch(host):
        return None
    if not uri.startswith("/") or uri.startswith("//") or len(uri) > MAX_LENGTH:
        return None
    return f"{proto}://{host}{uri}"
