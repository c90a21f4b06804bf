"""Email addresses: their canonical form, and the account that has one."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from auth_service.errors import InvalidInput
from auth_service.extensions import db
from auth_service.models import User

MAX_LOCAL_PART = 64  # octets before the @


def normalize_email(raw: str) -> str:
    """Return the canonical form of an address, or raise InvalidInput (``email.invalid``).

    Addresses are compared case-insensitively: the whole address is lower-cased
    after email-validator has normalised it, so ``Ann@Example.com`` is one account,
    and so is the same address with fullwidth letters or an ideographic full stop in
    its domain (IDNA maps them).
    """
    email = _canonical(raw, deliverability=current_app.config["EMAIL_CHECK_DELIVERABILITY"])
    if email is None:
        raise InvalidInput("email.invalid", _l("Enter a valid email address."), field="email")
    return email


def canonical_email(raw: str) -> str | None:
    """The address as :func:`normalize_email` would store it, or None if it is not one.

    Never asks DNS: this is what per-address rate limits are keyed on, so every
    spelling of one account's address counts against that account's one allowance.
    """
    return _canonical(raw, deliverability=False)


def _canonical(raw: str, *, deliverability: bool) -> str | None:
    try:
        result = validate_email(raw.strip(), check_deliverability=deliverability)
    except EmailNotValidError:
        return None
    # RFC 5321's 64 octets, which email-validator only holds to in its strict mode.
    if len(result.local_part.encode()) > MAX_LOCAL_PART:
        return None
    return result.normalized.lower()


def find_by_email(email: str) -> User | None:
    """The account with this (already normalised) address, if any."""
    return db.session.scalar(select(User).where(User.email == email))
