"""Believing ``X-Forwarded-For`` and ``-Proto`` only from the reverse proxy in front.

Behind a proxy (AUTH_TRUSTED_PROXIES = the number of them) the client's address
comes from the header the proxy appends. Anyone who can reach the service
without going through the proxy can send that header too, and with it pick the
address per-IP rate limits count and the audit log records. So the header is
believed only when the request comes from AUTH_TRUSTED_PROXY_NETWORKS (loopback
and private networks by default); from anywhere else it is ignored, and the
first such request is logged, since it means the service is reachable around
its proxy.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from werkzeug.middleware.proxy_fix import ProxyFix

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)


class TrustedProxyFix(ProxyFix):
    """werkzeug's ProxyFix for the client address and scheme, for trusted peers only."""

    def __init__(self, app: WSGIApplication, *, hops: int, networks: Iterable[str]) -> None:
        # Only the client address and scheme: links never come from the Host header anyway.
        super().__init__(app, x_for=hops, x_proto=hops)
        self.networks = tuple(ipaddress.ip_network(n) for n in networks)
        self._warned = False

    def trusts(self, peer: str | None) -> bool:
        """Whether ``peer`` (the TCP peer's address) is one of the proxies' networks."""
        try:
            address = ipaddress.ip_address(peer or "")
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def __call__(self, environ: WSGIEnvironment,
                 start_response: StartResponse) -> Iterable[bytes]:
        if self.trusts(environ.get("REMOTE_ADDR")):
            return super().__call__(environ, start_response)
        if not self._warned and "HTTP_X_FORWARDED_FOR" in environ:
            self._warned = True
            log.warning("X-Forwarded-For from %s ignored: that peer is not in "
                        "AUTH_TRUSTED_PROXY_NETWORKS, so the service is reachable without its "
                        "proxy", environ.get("REMOTE_ADDR"))
        return self.app(environ, start_response)


def from_trusted_proxy(environ: WSGIEnvironment) -> bool:
    """Whether the request came from a trusted proxy (TrustedProxyFix believed its headers)."""
    return "werkzeug.proxy_fix.orig" in environ


def client_address(environ: WSGIEnvironment) -> str | None:
    """The client's address as far as it is known, for decisions made on it (``/metrics``).

    Behind a trusted proxy, TrustedProxyFix has put the forwarded address in
    REMOTE_ADDR. A request that carries X-Forwarded-For nobody believed came
    through some proxy all the same (AUTH_TRUSTED_PROXIES unset, or a peer outside
    AUTH_TRUSTED_PROXY_NETWORKS): the peer is that proxy, not the client, and the
    client is unknown (None). Allowing the proxy's own address (often 127.0.0.1)
    would let every client behind it in.
    """
    if not from_trusted_proxy(environ) and "HTTP_X_FORWARDED_FOR" in environ:
        return None
    return environ.get("REMOTE_ADDR") or None
