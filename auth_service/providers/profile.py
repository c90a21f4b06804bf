"""What every provider's payload is reduced to, and the error for a provider that misbehaves."""

from __future__ import annotations

import unicodedata
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


def _control(char: str) -> bool:
    return unicodedata.category(char).startswith("C")


def clip(value: object, length: int) -> str | None:
    """A provider's free-text field (a name), as one line of printable text that fits our column.

    Whitespace runs become one space and control and format characters go (a name
    such as ``Mallory\x1b[2J`` would otherwise reach an admin's terminal as an
    escape sequence), as for the display names readers type.
    """
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text = " ".join("".join(ch for ch in " ".join(str(value).split()) if not _control(ch))
                    .split())
    return text[:length] or None


def subject_of(value: object, provider_label: str) -> str:
    """A provider's account id as we store it; raises ProviderError if it is not one.

    A subject is an identifier, so it is refused rather than cleaned: one with
    control characters, or empty, or longer than our column, is not a real account id.
    """
    subject = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not subject or len(subject) > 255 or any(_control(ch) for ch in subject):
        raise ProviderError("social.bad_profile",
                            f"{provider_label} sent a profile we could not read.")
    return subject


def https_url(value: object) -> str | None:
    """A provider's picture URL if it is a plain web URL we can show."""
    # https only: the pages' Content-Security-Policy shows no other images.
    if isinstance(value, str) and value.startswith("https://") and len(value) <= 1000:
        return value
    return None
