"""Email verification: the confirmation link, its check, and resending it.

The token names the account and the address. Confirming is a conditional
update on "still unconfirmed", so a link works once even when two clicks race.
Whoever follows the link proves the address; what was attached to the account
before that survives only if they show it was theirs (flows/address_proof.py):
a password they type or that this browser chose, provider accounts that this
browser signed in with. The rest goes, and an account left with no way in has
its new password chosen at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from auth_service import clock, links
from auth_service.errors import InvalidInput, TokenError
from auth_service.extensions import db
from auth_service.flows import address_proof, recovery, sessions
from auth_service.flows.account import get
from auth_service.flows.addresses import find_by_email, normalize_email
from auth_service.flows.audit import Client, record
from auth_service.mail.outbox import expires_in, render
from auth_service.models import Identity, OutboxMessage, User
from auth_service.providers import registry
from auth_service.security import tokens
from auth_service.security.passwords import verify_password
from auth_service.security.tokens import Purpose


@dataclass(frozen=True)
class Pending:
    """A confirmation link that can be used, and what confirming it will do.

    ``asks_password``: the account has a password this browser did not choose, so
    the page asks for it (left empty, the password goes). ``unlinks``: the provider
    accounts that go, since they never proved the address and this browser did not
    sign in with them.
    """

    user: User
    return_to: str | None
    asks_password: bool
    unlinks: list[Identity]


@dataclass(frozen=True)
class Confirmed:
    """A confirmed address. ``reset_token``: set when the account was left with no way
    in (its password, if any, went): the reader chooses a password with it at once."""

    user: User
    return_to: str | None
    reset_token: str | None


def confirmation_token(user: User, return_to: str | None = None) -> str:
    """A signed link token for ``user``'s current address."""
    payload: dict[str, object] = {"uid": user.id, "email": user.email}
    if return_to:
        payload["rt"] = return_to
    return tokens.dumps(Purpose.CONFIRM, payload)


def send_confirmation(user: User, return_to: str | None = None) -> None:
    """Put a confirmation email for ``user`` in the outbox (no commit)."""
    db.session.add(_confirmation_email(user, return_to))


def _confirmation_email(user: User, return_to: str | None = None) -> OutboxMessage:
    """The email, naming the provider accounts the account was made with (as the page does).

    It never carries the display name: the address is not proven, so nothing a
    stranger typed (or put in a provider account they made) may reach its mailbox.
    """
    lifetime = expires_in(current_app.config["CONFIRM_MAX_AGE"])
    return render("verification/confirm", to=user.email, language=user.language,
                  email=user.email, expires_in=lifetime,
                  providers=provider_labels(_identities(user)) if user.id else [],
                  confirm_url=links.confirm(confirmation_token(user, return_to)))


def provider_labels(identities: Sequence[Identity]) -> list[str]:
    """How the pages and emails name these provider accounts ("Facebook")."""
    labels = []
    for identity in identities:
        provider = registry.get(identity.provider)
        labels.append(provider.label if provider else identity.provider)
    return list(dict.fromkeys(labels))


def resend(raw_email: str, *, client: Client | None = None) -> None:
    """Send a new link if the address belongs to an unconfirmed account; commits.

    Answers the same (nothing) whether the address is unknown, unconfirmed or
    confirmed, and does the same work apart from the outbox row.
    """
    email = normalize_email(raw_email)
    user = find_by_email(email)
    if user is not None and not user.email_confirmed and not user.disabled:
        send_confirmation(user)
        record("verification.resent", user=user, client=client, sent=True)
    else:
        _confirmation_email(user or User(id=0, email=email))
        record("verification.resent", user=user, client=client, sent=False)
    db.session.commit()


def check(token: str, proofs: Sequence[str] = ()) -> Pending:
    """What a link would confirm, without spending it; ``proofs``: what this browser holds.

    Raises TokenError: ``verification.token_invalid``, ``.token_expired`` (with
    the address, so the page can offer a new link) or ``.token_used``.
    """
    try:
        payload = tokens.loads(Purpose.CONFIRM, token, current_app.config["CONFIRM_MAX_AGE"])
    except tokens.Expired as exc:
        email = exc.payload.get("email") if isinstance(exc.payload, dict) else None
        user = find_by_email(email) if isinstance(email, str) else None
        if user is not None and user.email_confirmed:
            raise _used() from None
        raise TokenError("verification.token_expired",
                         _l("This confirmation link has expired."),
                         expired_email=user.email if user else None) from None
    except tokens.Invalid:
        raise _invalid() from None
    user = get(payload.get("uid"))
    if user is None or user.email != payload.get("email"):
        raise _invalid()
    if user.email_confirmed:
        raise _used()
    return_to = payload.get("rt")
    chose_here = address_proof.holds_proof(user, proofs)
    return Pending(user=user, return_to=return_to if isinstance(return_to, str) else None,
                   asks_password=user.password_hash is not None and not chose_here,
                   unlinks=[] if chose_here else address_proof.unproven_identities(user))


def confirm(token: str, *, password: str | None = None, proofs: Sequence[str] = (),
            client: Client | None = None) -> Confirmed:
    """Confirm the address a link names; commits.

    The password survives if this browser chose it (``proofs``) or ``password`` is
    it; provider accounts that never proved the address survive only if this
    browser signed in with them. Raises TokenError, or InvalidInput
    ``verification.wrong_password`` for a password that is not the account's
    (nothing is changed: leaving it empty is how to do without it).
    """
    pending = check(token, proofs)
    user = pending.user
    keeps_password = user.password_hash is not None and not pending.asks_password
    if pending.asks_password and password:
        if not verify_password(user.password_hash, password):
            raise InvalidInput("verification.wrong_password",
                               _l("That is not this account's password. Leave it empty if you "
                                  "don't know it: you'll choose a new one next."),
                               field="password")
        keeps_password = True
    now = clock.now()
    values: dict[str, object] = {"email_confirmed_at": now}
    drops_password = user.password_hash is not None and not keeps_password
    if drops_password:
        values.update(password_hash=None, password_changed_at=now)
    result = db.session.execute(
        update(User)
        .where(User.id == user.id, User.email == user.email, User.email_confirmed_at.is_(None))
        .values(values)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise _used()
    for identity in pending.unlinks:
        db.session.delete(identity)
        record("social.unlinked", user=user, client=client, provider=identity.provider,
               reason="address_proven_elsewhere")
    if drops_password or pending.unlinks:
        # Whoever attached them may have signed in already (AUTH_REQUIRE_CONFIRMED_EMAIL off).
        sessions.revoke_all(user, reason="address_proven", client=client)
    record("verification.confirmed", user=user, client=client,
           password="none" if user.password_hash is None else
           ("dropped" if drops_password else "kept"), unlinked=len(pending.unlinks))
    db.session.commit()
    db.session.refresh(user)
    # The password that went, or an account with no way in left: choose one now (the
    # link just proved the address, which is all a reset link proves).
    choose = drops_password or (user.password_hash is None and not _identities(user))
    return Confirmed(user=user, return_to=pending.return_to,
                     reset_token=recovery.reset_token(user) if choose else None)


def _identities(user: User) -> list[Identity]:
    return list(db.session.scalars(select(Identity).where(Identity.user_id == user.id)))


def _invalid() -> TokenError:
    return TokenError("verification.token_invalid",
                      _l("This confirmation link is not valid. It may have been cut short "
                         "when it was copied."))


def _used() -> TokenError:
    return TokenError("verification.token_used",
                      _l("This address is already confirmed. You can sign in."))
