"""OpenID Connect Back-Channel Logout 1.0: the worker's second queue.

Rows are written by :mod:`auth_service.oidc.signout` in the transaction that
ends a session; the outbox worker (``auth-service worker``) drains them after
the mail, with the mail's backoff: each row is a signed logout token POSTed to
the client's ``backchannel_logout_uri``, retried until the client answers 2xx
or AUTH_BACKCHANNEL_MAX_ATTEMPTS is reached. Rows are claimed with
``FOR UPDATE SKIP LOCKED``, so several workers never send one twice.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

import requests
from flask import current_app

from auth_service import clock
from auth_service.extensions import db
from auth_service.mail.worker import BATCH, Report, backoff, claim_due
from auth_service.models import LogoutDelivery
from auth_service.models.oidc import FAILED, SENT
from auth_service.oidc import keys

log = logging.getLogger(__name__)
EVENT = "http://schemas.openid.net/event/backchannel-logout"
TOKEN_TYPE = "logout+jwt"  # noqa: S105 (a JWT type, not a secret)


def logout_token(delivery: LogoutDelivery) -> str:
    """The signed logout token for one delivery (Back-Channel Logout 1.0 §2.4), made now."""
    now = clock.now()
    claims = {
        "iss": current_app.config["BASE_URL"],
        "aud": delivery.client.client_id,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=keys.LOGOUT_TOKEN_TTL)).timestamp()),
        "jti": secrets.token_urlsafe(16),
        "sub": delivery.subject,
        "sid": delivery.session_id,
        "events": {EVENT: {}},
    }
    return keys.sign(claims, typ=TOKEN_TYPE)


def deliver_due(limit: int = BATCH) -> Report:
    """Send up to ``limit`` due logouts and commit what happened to each."""
    report = Report()
    due = claim_due(LogoutDelivery, limit)
    if not due:
        db.session.rollback()
        return report
    timeout = current_app.config["BACKCHANNEL_TIMEOUT"]
    with requests.Session() as http:
        for delivery in due:
            _send(http, delivery, timeout, report)
    db.session.commit()
    return report


def _send(http: requests.Session, delivery: LogoutDelivery, timeout: float,
          report: Report) -> None:
    uri = delivery.client.backchannel_logout_uri
    if not uri:  # the client no longer wants them
        delivery.status = FAILED
        delivery.last_error = "the client has no back-channel logout URI any more"
        report.failed += 1
        return
    try:
        answer = http.post(uri, data={"logout_token": logout_token(delivery)}, timeout=timeout,
                           allow_redirects=False, headers={"User-Agent": "auth_service"})
        answer.close()
        problem = None if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"
    except requests.RequestException as exc:
        problem = type(exc).__name__
    delivery.attempts += 1
    if problem is None:
        delivery.status = SENT
        delivery.sent_at = clock.now()
        delivery.last_error = None
        report.sent += 1
        log.info("back-channel logout sent: id=%s client=%s", delivery.id,
                 delivery.client.client_id)
        return
    delivery.last_error = problem[:500]
    if delivery.attempts >= current_app.config["BACKCHANNEL_MAX_ATTEMPTS"]:
        delivery.status = FAILED
        report.failed += 1
        log.error("back-channel logout failed for good: id=%s client=%s after %s attempts",
                  delivery.id, delivery.client.client_id, delivery.attempts)
    else:
        delivery.next_attempt_at = clock.now() + backoff(delivery.attempts)
        report.retrying += 1
        log.warning("back-channel logout not delivered, will retry: id=%s client=%s error=%s",
                    delivery.id, delivery.client.client_id, problem)


def drain() -> Report:
    """Send every logout that is due now, batch after batch."""
    total = Report()
    for _ in range(10_000):  # bounded: a short batch ends the loop
        report = deliver_due()
        total.sent += report.sent
        total.retrying += report.retrying
        total.failed += report.failed
        if report.handled < BATCH:
            break
    return total
