"""The outbox worker: sends due messages, retries failures with backoff, never sends one twice.

Rows are claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` so several workers on
PostgreSQL share one outbox without double sends (SQLite ignores the clause and
is meant for one worker).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app
from flask_mail import BadHeaderError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from auth_service import clock, metrics
from auth_service.extensions import db
from auth_service.mail import transport
from auth_service.models.outbox import FAILED, PENDING, SENT, OutboxMessage

log = logging.getLogger(__name__)
BATCH = 50
Queued = TypeVar("Queued", bound=Any)
# Other due-queues the same worker drains after the mail (name -> drain function),
# registered by the parts that own them: the OpenID provider's back-channel logouts.
QUEUES_KEY = "auth_service.worker_queues"
MAX_BACKOFF = timedelta(hours=1)


@dataclass
class Report:
    """What one pass of the worker did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed


def backoff(attempts: int) -> timedelta:
    """Wait before the next try: 1 min, 2, 4 … capped at an hour."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def claim_due(model: type[Queued], limit: int) -> list[Queued]:
    """Up to ``limit`` pending rows of a queue that are due, locked for this worker.

    ``FOR UPDATE SKIP LOCKED``: a row another worker is sending is passed over,
    so no message goes out twice. The queues (the outbox, back-channel logouts)
    share the columns this reads: ``status``, ``next_attempt_at``, ``id``.
    """
    return list(db.session.scalars(
        select(model)
        .where(model.status == PENDING, model.next_attempt_at <= clock.now())
        .order_by(model.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ))


def deliver_due(limit: int = BATCH) -> Report:
    """Send up to ``limit`` due messages and commit what happened to each."""
    report = Report()
    due = claim_due(OutboxMessage, limit)
    if not due:
        db.session.rollback()
        return report
    connection = transport.open_connection()
    try:
        if connection is None:
            _send_all(due, None, report)
        else:
            with connection as live:
                _send_all(due, live, report)
    except OSError as exc:  # the server is down or refused us: every message waits for a retry
        for message in due:
            if message.status == PENDING and message.sent_at is None:
                _failed(message, exc, report)
    db.session.commit()
    metrics.mail_delivered(sent=report.sent, retrying=report.retrying, failed=report.failed)
    return report


def _send_all(due: list[OutboxMessage], connection: object, report: Report) -> None:
    for message in due:
        try:
            transport.send(message, connection)  # type: ignore[arg-type]
        except (OSError, ValueError, BadHeaderError) as exc:
            _failed(message, exc, report)
            continue
        message.status = SENT
        message.sent_at = clock.now()
        message.attempts += 1
        message.last_error = None
        # The bodies hold live links; once delivered they are not kept.
        message.body_text = None
        message.body_html = None
        report.sent += 1
        log.info("mail sent: id=%s template=%s", message.id, message.template)


def _failed(message: OutboxMessage, exc: BaseException, report: Report) -> None:
    message.attempts += 1
    message.last_error = f"{type(exc).__name__}: {exc}"[:500]
    if message.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        message.status = FAILED
        report.failed += 1
        log.error("mail failed for good: id=%s after %s attempts", message.id, message.attempts)
    else:
        message.next_attempt_at = clock.now() + backoff(message.attempts)
        report.retrying += 1
        log.warning("mail not sent, will retry: id=%s error=%s", message.id, message.last_error)


def drain() -> Report:
    """Send everything that is due now, batch after batch; for ``worker --once`` and tests."""
    total = Report()
    for _ in range(10_000):  # bounded: a pass that handles nothing ends the loop
        report = deliver_due()
        total.sent += report.sent
        total.retrying += report.retrying
        total.failed += report.failed
        if report.handled < BATCH:
            break
    return total


def drain_all(app: Flask) -> dict[str, Report]:
    """Drain the mail outbox, then every queue registered under QUEUES_KEY; needs an app context."""
    reports = {"mail": drain()}
    queues: dict[str, Callable[[], Report]] = app.extensions.get(QUEUES_KEY, {})
    for name, drain_queue in queues.items():
        reports[name] = drain_queue()
    return reports


def run_forever(app: Flask, interval: float = 2.0, stop: threading.Event | None = None,
                heartbeat: Path | None = None) -> None:
    """Poll the outbox (and the other queues) until ``stop`` is set; a database outage is
    logged and waited out.

    ``heartbeat`` is touched after every pass that reached the database, so a
    container's health check can tell a working worker from a stuck one.
    """
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            with app.app_context():
                drain_all(app)
        except SQLAlchemyError as exc:
            log.warning("outbox worker: database unavailable (%s); retrying", type(exc).__name__)
        else:
            if heartbeat is not None:
                heartbeat.touch()
        stop.wait(interval)


def start_background(app: Flask, interval: float = 1.0) -> threading.Event:
    """Run the worker in a daemon thread of this process (``auth-service run`` in development)."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_forever, args=(app, interval, stop), name="outbox-worker", daemon=True
    )
    thread.start()
    return stop
