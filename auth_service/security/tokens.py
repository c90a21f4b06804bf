"""Signed, expiring tokens for emailed links: one serializer and salt per purpose.

Single use comes from what each payload is bound to, not from a table of spent
tokens: a confirmation names the address and dies once it is confirmed; a reset
carries a stamp of the password hash and dies as soon as the password changes.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from auth_service import clock


class Purpose(Enum):
    """Each purpose has its own salt, so a token for one can never be used for another."""

    CONFIRM = "auth_service.confirm-email.v1"
    RESET = "auth_service.reset-password.v1"
    EMAIL_CHANGE = "auth_service.change-email.v1"


class _ClockSigner(TimestampSigner):
    """Takes its time from :mod:`auth_service.clock` so tests can expire tokens."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


class Expired(Exception):
    """The signature is good but the token is too old; ``payload`` is trustworthy."""

    def __init__(self, payload: Any) -> None:
        super().__init__("token expired")
        self.payload = payload


class Invalid(Exception):
    """Not a token we signed for this purpose (tampered, truncated, wrong purpose)."""


def _serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=purpose.value, signer=_ClockSigner
    )


def dumps(purpose: Purpose, payload: dict[str, Any]) -> str:
    """Sign ``payload`` for ``purpose`` with the current time."""
    token = _serializer(purpose).dumps(payload)
    return token if isinstance(token, str) else token.decode()


def loads(purpose: Purpose, token: str, max_age: int) -> dict[str, Any]:
    """Return the payload; raises Expired or Invalid."""
    serializer = _serializer(purpose)
    if len(token) > 1024:
        raise Invalid()
    try:
        payload = serializer.loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise Expired(_decode(serializer, exc.payload)) from None
    except BadSignature:
        raise Invalid() from None
    if not isinstance(payload, dict):
        raise Invalid()
    return payload


def _decode(serializer: URLSafeTimedSerializer, raw: Any) -> Any:
    try:
        return serializer.load_payload(raw)
    except BadSignature:
        return None
