"""Rate limits for the credential endpoints: per client IP and per submitted address.

When the limits' storage (Redis) does not answer, Flask-Limiter counts them in
the process's memory until it answers again (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED,
config.py), logging a warning each time it falls back; :func:`init_app` counts
those in ``auth_rate_limit_storage_errors``. docs/operations.md says why.

The per-address key is the address as the account lookup normalises it, known or
not, so every spelling of one address (capitals, fullwidth letters or an ideographic
full stop in the domain) shares one allowance, and a limit answers the same for
registered and unregistered addresses. Input that is not an address at all is
keyed on the string typed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, request
from flask_limiter import RequestLimit
from flask_limiter.util import get_remote_address
from flask_login import current_user

from auth_service import metrics
from auth_service.extensions import limiter
from auth_service.flows.addresses import canonical_email

PER_IP = "30 per minute; 300 per hour"
# Flask-Limiter's logger, and the start of the warning it logs when it falls back.
LIMITER_LOGGER = "flask-limiter"
FALLING_BACK = "Rate limit storage unreachable"


class _StorageErrors(logging.Filter):
    """Counts Flask-Limiter's "storage unreachable" warnings; lets every line through."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING and record.getMessage().startswith(FALLING_BACK):
            metrics.rate_limit_storage_failed()
        return True


def init_app(app: Flask) -> None:
    """Count the falls back to memory (once per process, however many apps it makes)."""
    logger = logging.getLogger(LIMITER_LOGGER)
    if not any(isinstance(f, _StorageErrors) for f in logger.filters):
        logger.addFilter(_StorageErrors())
PER_ACCOUNT = "10 per minute; 50 per hour"


def _address_key() -> str:
    typed = (request.form.get("email") or "")[:320]
    if not typed.strip():
        return f"ip:{get_remote_address()}"
    return f"address:{canonical_email(typed) or typed.strip().lower()}"


def _account_key() -> str:
    """The signed-in account (its id), else the client's address."""
    if current_user.is_authenticated:
        return f"account:{current_user.id}"
    return f"ip:{get_remote_address()}"


def breach_counter(rule: str) -> Callable[[RequestLimit], None]:
    """Flask-Limiter's ``on_breach`` for ``rule``: counts the refusal (auth_rate_limit_hits)."""

    def breached(limit: RequestLimit) -> None:
        metrics.rate_limited(rule)

    return breached


per_ip = limiter.limit(PER_IP, methods=["POST"], key_func=get_remote_address,
                       on_breach=breach_counter("ip"))
per_address = limiter.limit(PER_ACCOUNT, methods=["POST"], key_func=_address_key,
                            on_breach=breach_counter("address"))
# A provider round trip is two GETs (the start, then the provider's redirect back), each
# of which may make the service call the provider: limited per IP whatever the method.
round_trip = limiter.limit(PER_IP, key_func=get_remote_address,
                           on_breach=breach_counter("provider_round_trip"))
# For a password typed by someone already holding a session (re-authentication, change
# of password): the same allowance as sign-in, so a left-open browser or a stolen cookie
# cannot guess the password any faster than the sign-in page lets anyone.
per_account = limiter.limit(PER_ACCOUNT, methods=["POST"], key_func=_account_key,
                            on_breach=breach_counter("account"))
