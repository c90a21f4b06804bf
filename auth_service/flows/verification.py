"""Email verification: the confirmation link, its check, and resending it.

The token names the account and the address. Confirming is a conditional
update on "still unconfirmed", so a link works once even when two clicks race.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import update

from auth_service import clock, links
from auth_service.errors import TokenError
from auth_service.extensions import db
from auth_service.flows.accounts import find_by_email, get, normalize_email
from auth_service.flows.audit import Client, record
from auth_service.mail.outbox import expires_in, render
from auth_service.models import OutboxMessage, User
from auth_service.security import tokens
from auth_service.security.tokens import Purpose


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
    lifetime = expires_in(current_app.config["CONFIRM_MAX_AGE"])
    return render("verification/confirm", to=user.email, user=user, expires_in=lifetime,
                  confirm_url=links.confirm(confirmation_token(user, return_to)))


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


def check(token: str) -> tuple[User, str | None]:
    """The account and return_to a link would confirm, without spending it.

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
                         "This confirmation link has expired.",
                         expired_email=user.email if user else None) from None
    except tokens.Invalid:
        raise _invalid() from None
    user = get(payload.get("uid"))
    if user is None or user.email != payload.get("email"):
        raise _invalid()
    if user.email_confirmed:
        raise _used()
    return_to = payload.get("rt")
    return user, return_to if isinstance(return_to, str) else None


def confirm(token: str, *, client: Client | None = None) -> tuple[User, str | None]:
    """Confirm the address a link names; commits. Returns the account and its return_to."""
    user, return_to = check(token)
    result = db.session.execute(
        update(User)
        .where(User.id == user.id, User.email == user.email, User.email_confirmed_at.is_(None))
        .values(email_confirmed_at=clock.now())
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise _used()
    record("verification.confirmed", user=user, client=client)
    db.session.commit()
    db.session.refresh(user)
    return user, return_to


def _invalid() -> TokenError:
    return TokenError("verification.token_invalid",
                      "This confirmation link is not valid. It may have been cut short "
                      "when it was copied.")


def _used() -> TokenError:
    return TokenError("verification.token_used",
                      "This address is already confirmed. You can sign in.")
