"""Rate limits for the credential endpoints: per client IP and per submitted address.

The per-address key is the address as typed (lower-cased), known or not, so a
limit answers the same for registered and unregistered addresses.
"""

from __future__ import annotations

from flask import request
from flask_limiter.util import get_remote_address

from auth_service.extensions import limiter

PER_IP = "30 per minute; 300 per hour"
PER_ACCOUNT = "10 per minute; 50 per hour"


def _address_key() -> str:
    email = (request.form.get("email") or "").strip().lower()[:320]
    return f"address:{email}" if email else f"ip:{get_remote_address()}"


per_ip = limiter.limit(PER_IP, methods=["POST"], key_func=get_remote_address)
per_address = limiter.limit(PER_ACCOUNT, methods=["POST"], key_func=_address_key)
