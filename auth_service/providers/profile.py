"""What every provider's payload is reduced to, and the error for a provider that misbehaves."""

from __future__ import annotations

from dataclasses import dataclass

from auth_service.errors import FlowError


@dataclass(frozen=True)
class Profile:
    """A provider account as we use it: who (subject), how to reach them, what to call them.

    ``email_verified`` is True only when the provider itself says it checked the
    address; an unverified address never attaches to an existing account.
    """

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None = None
    avatar_url: str | None = None


class ProviderError(FlowError):
    """The provider refused, failed, or answered something we cannot trust."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, status=400)


def truthy(value: object) -> bool:
    """Providers write booleans as true, "true" or 1."""
    return value is True or value == 1 or (isinstance(value, str) and value.lower() == "true")


def clip(value: object, length: int) -> str | None:
    """A provider's free-text field, as a string no longer than our column."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text = " ".join(str(value).split())
    return text[:length] or None
