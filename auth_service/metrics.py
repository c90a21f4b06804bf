"""What ``GET /metrics`` reports: every counter and histogram the service keeps, in one place.

The values live in prometheus_client's objects below, created once at import
like the loggers of the ``logging`` module (they are the process's tally, not
application state: nothing reads them back to decide anything). Code anywhere
counts through the small functions here, so a name or a label is written once.

Labels hold only values from a short, known set (a sign-in method, a provider's
configured name, a stable error code, a status, a route's endpoint name): never
an address, a name, a token or a raw path, which would leak what the audit log
keeps to itself and grow the series without end.

Under gunicorn every worker is a process of its own, and the mail worker
another: with PROMETHEUS_MULTIPROC_DIR set (gunicorn.conf.py and
docker-compose.yml set it) each process writes its counts to files in that
folder and ``/metrics`` adds them up (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, values

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    """The folder the processes share their counts through, or None (one process)."""
    return os.environ.get(MULTIPROC_VARIABLE) or None


if multiprocess_dir():
    # Each process's files are named after it. The pid alone is not enough when the
    # web and the mail worker run in two containers sharing the folder (each has its
    # own pid 1), so the host name (the container's) goes with it.
    _HOST = socket.gethostname().replace("_", "-")
    values.ValueClass = values.MultiProcessValue(lambda: f"{_HOST}-{os.getpid()}")

# Our own registry: the service's series only, and a second app in one process
# (the tests) does not register them twice.
REGISTRY = CollectorRegistry()

SIGN_INS = Counter("auth_sign_ins", "Sign-in attempts, by method (password or the "
                   "provider's name) and result (success, or why not).",
                   ["method", "result"], registry=REGISTRY)
REGISTRATIONS = Counter("auth_registrations", "Registrations, by method (password, cli, or "
                        "the provider's name) and result (created, or duplicate: the address "
                        "was registered already).", ["method", "result"], registry=REGISTRY)
CONFIRMATIONS = Counter("auth_confirmations", "Addresses confirmed.", registry=REGISTRY)
RESETS = Counter("auth_password_resets", "Password resets, by stage (requested for a known "
                 "account, requested for an unknown address, completed).", ["stage"],
                 registry=REGISTRY)
SOCIAL = Counter("auth_social_round_trips", "Provider round trips that came back, by "
                 "provider and result (ok, or the error code).", ["provider", "result"],
                 registry=REGISTRY)
MAIL_SENT = Counter("auth_mail_sent", "Emails the worker handed to the SMTP server.",
                    registry=REGISTRY)
MAIL_RETRIED = Counter("auth_mail_retried", "Sending attempts that failed and will be retried.",
                       registry=REGISTRY)
MAIL_FAILED = Counter("auth_mail_failed", "Emails given up on after their last attempt.",
                      registry=REGISTRY)
RATE_LIMITED = Counter("auth_rate_limit_hits", "Requests refused with 429, by rule.",
                       ["rule"], registry=REGISTRY)
LIMIT_STORAGE_ERRORS = Counter(
    "auth_rate_limit_storage_errors", "Times the rate-limit storage (Redis) could not be "
    "reached, so limits were counted in the process's memory.", registry=REGISTRY)
SESSION_CHECKS = Counter("auth_session_checks", "GET /api/session answers, by status.",
                         ["status"], registry=REGISTRY)
LATENCY = Histogram("auth_request_duration_seconds", "Time to answer a request, by route "
                    "(the endpoint's name; unmatched for no route).", ["route"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                             2.5, 5.0, 10.0),
                    registry=REGISTRY)

# The hot path's series, bound once: .labels() looks its child up at every call.
SESSION_CHECK_ROUTE = "api.session"
_CHECK_STATUS = {status: SESSION_CHECKS.labels(str(status)) for status in (200, 401, 503)}
_CHECK_LATENCY = LATENCY.labels(SESSION_CHECK_ROUTE)


def session_checked(status: int, seconds: float) -> None:
    """One ``GET /api/session`` answered with ``status`` in ``seconds``."""
    _CHECK_STATUS[status].inc()
    _CHECK_LATENCY.observe(seconds)


def request_done(route: str, seconds: float) -> None:
    """A request to ``route`` (an endpoint name) answered in ``seconds``."""
    LATENCY.labels(route).observe(seconds)


# Audit events → the counters above. The audit log records every security event,
# so counting there (flows/audit.record) counts each where it happens.
def audit_event(event: str, details: Mapping[str, Any]) -> None:
    """Count the security event ``event`` (an audit row's type and details)."""
    method = str(details.get("method") or "password")
    if event == "login.succeeded":
        SIGN_INS.labels(method, "success").inc()
    elif event == "login.failed" and method != "reauth":  # re-authentication is no sign-in
        SIGN_INS.labels(method, str(details.get("reason") or "failed")).inc()
    elif event == "registration.created":
        REGISTRATIONS.labels(method, "created").inc()
    elif event == "registration.duplicate":
        REGISTRATIONS.labels(method, "duplicate").inc()
    elif event == "verification.confirmed":
        CONFIRMATIONS.inc()
    elif event == "recovery.requested":
        RESETS.labels("requested" if details.get("account") else "requested_unknown").inc()
    elif event == "recovery.completed":
        RESETS.labels("completed").inc()
    elif event == "social.failed":
        SOCIAL.labels(str(details.get("provider")), str(details.get("code"))).inc()


def social_round_trip_ok(provider: str) -> None:
    """The provider sent the reader back with a profile (what follows is a sign-in's business)."""
    SOCIAL.labels(provider, "ok").inc()


def mail_delivered(*, sent: int, retrying: int, failed: int) -> None:
    """One pass of the mail worker, once committed: how many went, will retry, were given up."""
    MAIL_SENT.inc(sent)
    MAIL_RETRIED.inc(retrying)
    MAIL_FAILED.inc(failed)


def rate_limit_storage_failed() -> None:
    """The limits' storage did not answer: counted in memory for now (views/limits.py)."""
    LIMIT_STORAGE_ERRORS.inc()


def rate_limited(rule: str) -> None:
    """A request refused by the rate-limit ``rule`` (views/limits.py's names)."""
    RATE_LIMITED.labels(rule).inc()
