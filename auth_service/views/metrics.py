"""``GET /metrics``: the service's counters in Prometheus's text format, for its operators.

Readable with ``Authorization: Bearer AUTH_METRICS_TOKEN`` from anywhere, or
without it from the networks in AUTH_METRICS_ALLOW (127.0.0.1 by default),
judged on the client's proxy-aware address. The series are metrics.py's, added
up over every process in multiprocess mode, and two read from the database at
each scrape: the mail waiting in the outbox and the age of the oldest of it,
which no single process could count.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Iterator

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.exc import SQLAlchemyError

from auth_service import metrics
from auth_service.extensions import db, limiter
from auth_service.mail.outbox import backlog
from auth_service.security.proxies import client_address

log = logging.getLogger(__name__)
bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
@limiter.exempt
def metrics_page() -> Response:
    config = current_app.config
    refused = refusal(request.headers.get("Authorization", ""), client_address(request.environ),
                      token=config["METRICS_TOKEN"], networks=config["METRICS_ALLOW"])
    if refused:
        abort(refused, "Metrics are for the service's operators.")
    registry = CollectorRegistry()
    directory = metrics.multiprocess_dir()
    if directory:
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(metrics.REGISTRY)
    registry.register(OutboxCollector())
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def refusal(authorization: str, address: str | None, *, token: str | None,
            networks: tuple[str, ...]) -> int | None:
    """None to answer; 401 for a wrong token; 403 for no token from outside ``networks``.

    A wrong token is refused even from an allowed network: whoever sent it meant
    to use it, and a typo should show at once rather than where the network differs.
    """
    if authorization:
        scheme, _, presented = authorization.partition(" ")
        right = bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), (token or "").encode())
        return None if right else 401
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return 403
    return None if any(ip in ipaddress.ip_network(n) for n in networks) else 403


class OutboxCollector:
    """auth_mail_pending and auth_mail_oldest_pending_seconds, read from the outbox at scrape."""

    def collect(self) -> Iterator[Metric]:
        try:
            status = backlog()
        except SQLAlchemyError as exc:  # the other series are still worth reading
            db.session.rollback()
            log.warning("metrics: outbox not readable: %s", type(exc).__name__)
            return
        yield GaugeMetricFamily("auth_mail_pending", "Emails waiting in the outbox to be sent.",
                                value=status.count)
        yield GaugeMetricFamily("auth_mail_oldest_pending_seconds",
                                "Age of the oldest email waiting in the outbox (0: none).",
                                value=status.oldest_age)
