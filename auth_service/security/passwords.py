"""Password hashing (argon2id) and the password policy (NIST SP 800-63B).

Policy: at least 8 characters, at most MAX_LENGTH, no composition rules;
refuse the most common leaked passwords, passwords made of the reader's own
address, and passwords of one or two repeated characters.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import lazy_gettext as _l

from auth_service.errors import InvalidInput

MIN_LENGTH = 8
# Well above NIST's "at least 64", and low enough that hashing it costs nothing extra.
MAX_LENGTH = 256


def normalize(password: str) -> str:
    """NFKC-normalise so the same password typed on another keyboard still matches."""
    return unicodedata.normalize("NFKC", password)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The vendored list of common leaked passwords, lower-cased."""
    text = resources.files("auth_service.security").joinpath("common_passwords.txt").read_text()
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def check_policy(password: str, *, email: str | None = None) -> None:
    """Raise InvalidInput (code ``password.*``) if ``password`` may not be used."""
    if len(password) > MAX_LENGTH:
        raise InvalidInput("password.too_long",
                           _l("Use at most %(num)d characters.", num=MAX_LENGTH),
                           field="password")
    password = normalize(password)
    if len(password) < MIN_LENGTH:
        raise InvalidInput("password.too_short",
                           _l("Use at least %(num)d characters.", num=MIN_LENGTH),
                           field="password")
    folded = password.casefold()
    if folded in common_passwords():
        raise InvalidInput("password.common",
                           _l("This password is too common. Choose one that is harder to guess."),
                           field="password")
    if len(set(folded)) < 3:
        raise InvalidInput("password.repetitive",
                           _l("This password repeats too few characters."), field="password")
    if email:
        local = email.split("@", 1)[0].casefold()
        if folded in {email.casefold(), local}:
            raise InvalidInput("password.matches_email",
                               _l("Don't use your email address as your password."),
                               field="password")


def _hasher() -> PasswordHasher:
    """One PasswordHasher per app, built from the AUTH_ARGON2_* settings."""
    cached = current_app.extensions.get("auth_password_hasher")
    if cached is None:
        config = current_app.config
        cached = PasswordHasher(
            time_cost=config["ARGON2_TIME_COST"],
            memory_cost=config["ARGON2_MEMORY_COST"],
            parallelism=config["ARGON2_PARALLELISM"],
        )
        current_app.extensions["auth_password_hasher"] = cached
    return cached


def hash_password(password: str) -> str:
    """Return the argon2id hash of the normalised password."""
    return _hasher().hash(normalize(password))


def _dummy_hash() -> str:
    # Hashed once per app with the live parameters, so checking a password for an
    # unknown address takes as long as checking one for a real account.
    cached = current_app.extensions.get("auth_dummy_hash")
    if cached is None:
        cached = hash_password("not a real password, only here for equal timing")
        current_app.extensions["auth_dummy_hash"] = cached
    return cached


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; with no hash, spends the same time and returns False."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher().verify(stored_hash or _dummy_hash(), normalize(password)) and bool(
            stored_hash
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with other parameters than the configured ones."""
    return _hasher().check_needs_rehash(stored_hash)
