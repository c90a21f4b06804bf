"""Sign-in with email and password.

An unknown address and a wrong password fail with the same code and message,
and take the same time: the unknown address is checked against a dummy hash.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from auth_service.errors import FlowError, Unconfirmed
from auth_service.extensions import db
from auth_service.flows import address_proof
from auth_service.flows.addresses import find_by_email, normalize_email
from auth_service.flows.audit import Client, record
from auth_service.flows.pending_sign_in import SignIn, first_factor_passed
from auth_service.security.passwords import hash_password, needs_rehash, verify_password

FAILED_MESSAGE = _l("That email and password don't match an account. Check them and try again.")


def authenticate(raw_email: str, password: str, *, client: Client | None = None,
                 return_to: str | None = None) -> SignIn:
    """Sign in to the account whose credentials these are; commits the audit row either way.

    Returns a SignIn: complete, or waiting for the account's second factor
    (flows/pending_sign_in.py), which then brings the reader to ``return_to``.

    Raises FlowError ``login.failed`` (unknown address or wrong password, same text),
    ``login.disabled`` or Unconfirmed (only after a correct password: it carries the
    browser proof that lets this browser's confirmation keep the password).
    """
    email = normalize_email(raw_email)
    user = find_by_email(email)
    if not verify_password(user.password_hash if user else None, password):
        record("login.failed", user=user, client=client, reason="bad_credentials")
        db.session.commit()
        raise FlowError("login.failed", FAILED_MESSAGE)
    assert user is not None and user.password_hash is not None  # verify_password saw a hash
    if user.disabled:
        record("login.failed", user=user, client=client, reason="disabled")
        db.session.commit()
        raise FlowError("login.disabled", _l("This account has been disabled."), status=403)
    if current_app.config["REQUIRE_CONFIRMED_EMAIL"] and not user.email_confirmed:
        record("login.failed", user=user, client=client, reason="unconfirmed")
        db.session.commit()
        raise Unconfirmed(_l("Confirm your email address first: follow the link we emailed you."),
                          proof=address_proof.browser_proof(user))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return first_factor_passed(user, method="password", client=client, return_to=return_to)
