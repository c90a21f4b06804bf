"""What an account keeps when the owner of its address proves it by an emailed link.

Anyone can type someone else's address: at registration with a password of
their own, or through a provider account whose address the provider never
verified. Until the address is proven, whatever they attached is unproven too.
When the address's owner follows a confirmation or reset link, every way in
that did not come from them goes (pre-account hijacking): provider accounts
that never proved the address, and a password the one following the link does
not show they know.

"Showing they know it" is either typing it, or being the browser that chose it:
registering (or trying to sign in before confirming) leaves a *browser proof*
in that browser, an HMAC of the account and its credentials that nothing else
can make. The usual case, registering and confirming in one browser, needs
nothing more; registering on a laptop and confirming on a phone asks for the
password once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import select

from auth_service.errors import FlowError
from auth_service.extensions import db
from auth_service.flows.addresses import normalize_email
from auth_service.flows.audit import Client, record
from auth_service.models import Identity, User

PROOF_LENGTH = 32  # hex characters


def browser_proof(user: User) -> str:
    """The proof that a browser chose this account's credentials; dies when they change."""
    key = current_app.config["SECRET_KEY"].encode()
    material = f"auth_service.browser-proof.v1\0{user.id}\0{user.credential_stamp}".encode()
    return hmac.new(key, material, hashlib.sha256).hexdigest()[:PROOF_LENGTH]


def decoy_proof() -> str:
    """What a browser gets where it would get a proof but none is due: the same shape."""
    return secrets.token_hex(PROOF_LENGTH // 2)


def holds_proof(user: User, proofs: Iterable[str]) -> bool:
    """Whether one of ``proofs`` (what the browser holds) is this account's."""
    expected = browser_proof(user)
    return any(isinstance(p, str) and hmac.compare_digest(p, expected) for p in proofs)


def unproven_identities(user: User) -> list[Identity]:
    """Provider accounts linked to ``user`` that never vouched for its address."""
    linked = db.session.scalars(select(Identity).where(Identity.user_id == user.id)
                                .order_by(Identity.id))
    return [i for i in linked if not (i.email_verified and _same_address(i.email, user.email))]


def drop_unproven_identities(user: User, *, reason: str, client: Client | None = None) -> int:
    """Unlink :func:`unproven_identities` (no commit); the owner can link their own again.

    Returns how many went.
    """
    dropped = unproven_identities(user)
    for identity in dropped:
        db.session.delete(identity)
        record("social.unlinked", user=user, client=client, provider=identity.provider,
               reason=reason)
    return len(dropped)


def _same_address(provider_email: str | None, account_email: str) -> bool:
    try:
        return provider_email is not None and normalize_email(provider_email) == account_email
    except FlowError:
        return False
