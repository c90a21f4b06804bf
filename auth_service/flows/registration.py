"""Registration: create a local account and send the confirmation link.

A new address and a registered one get the same answer; the owner of a
registered address is told by email instead, so the page reveals nothing.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from auth_service import links
from auth_service.extensions import db
from auth_service.flows import address_proof, policies, verification
from auth_service.flows.account import clean_display_name
from auth_service.flows.addresses import find_by_email, normalize_email
from auth_service.flows.audit import Client, record
from auth_service.mail.outbox import enqueue
from auth_service.models import User
from auth_service.security.passwords import check_policy, hash_password


def register(raw_email: str, password: str, display_name: str | None = None, *,
             client: Client | None = None, return_to: str | None = None) -> str:
    """Create the account or notify the address's owner; commits. Raises InvalidInput.

    Returns a browser proof for the registering browser to keep: the new account's
    (flows/address_proof.py), or a decoy of the same shape when the address was
    registered already, so the caller cannot tell which happened.
    """
    email = normalize_email(raw_email)
    check_policy(password, email=email)
    name = clean_display_name(display_name)
    # Hash in both branches so a registered address costs the same time as a new one.
    password_hash = hash_password(password)

    existing = find_by_email(email)
    if existing is None:
        user = User(email=email, password_hash=password_hash, display_name=name,
                    language=client.language if client else None)
        db.session.add(user)
        try:
            db.session.flush()
        except IntegrityError:  # registered by a concurrent request a moment ago
            db.session.rollback()
            existing = find_by_email(email)
        else:
            policies.record_acceptance(user, method="password")
            verification.send_confirmation(user, return_to=return_to)
            record("registration.created", user=user, client=client)
            db.session.commit()
            return address_proof.browser_proof(user)
    if existing is not None:
        notify_owner(existing, client)
        db.session.commit()
    return address_proof.decoy_proof()


def notify_owner(user: User, client: Client | None) -> None:
    """Tell an address's owner that someone tried to register with it (no commit)."""
    # Deliberately no confirmation link: whoever registered first (perhaps not
    # the owner) chose that password, so the owner is offered a reset instead.
    enqueue("registration/already_registered", to=user.email,
            login_url=links.login(), reset_url=links.forgot(), user=user)
    record("registration.duplicate", user=user, client=client)
