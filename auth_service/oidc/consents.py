"""What readers allowed which sites: asked once per client (unless first-party), listed on
/account, withdrawn from there."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from auth_service import clock
from auth_service.errors import FlowError
from auth_service.extensions import db
from auth_service.flows.audit import Client, record
from auth_service.models import Consent, OAuthClient, User
from auth_service.oidc import signout, tokens


def _scopes(scope: str | None) -> set[str]:
    return set((scope or "").split())


def find(user: User, client: OAuthClient) -> Consent | None:
    return db.session.scalar(select(Consent).where(Consent.user_id == user.id,
                                                   Consent.client_pk == client.id))


def covers(user: User, client: OAuthClient, scope: str) -> bool:
    """Whether the reader already allowed this client everything ``scope`` asks."""
    consent = find(user, client)
    return consent is not None and _scopes(scope) <= _scopes(consent.scope)


def remember(user: User, client: OAuthClient, scope: str) -> Consent:
    """Record that the reader allowed ``scope`` to the client (no commit)."""
    consent = find(user, client)
    now = clock.now()
    if consent is None:
        consent = Consent(user_id=user.id, client_pk=client.id, scope=scope, created_at=now,
                          updated_at=now)
        db.session.add(consent)
    elif not _scopes(scope) <= _scopes(consent.scope):
        consent.scope = " ".join(sorted(_scopes(consent.scope) | _scopes(scope)))
        consent.updated_at = now
    return consent


def for_user(user: User) -> list[Consent]:
    """The sites the reader signed in to through the provider, most recent first."""
    return list(db.session.scalars(select(Consent).where(Consent.user_id == user.id)
                                   .order_by(Consent.updated_at.desc())))


def withdraw(user: User, consent_id: int, *, client: Client | None = None) -> OAuthClient:
    """Withdraw a site's access; commits. Its tokens are revoked and, if it asked for
    back-channel logouts, it is told that the reader's sessions with it are over.

    Raises FlowError ``oidc.consent_unknown`` (404) for anything not the reader's.
    """
    consent = db.session.get(Consent, consent_id)
    if consent is None or consent.user_id != user.id:
        raise FlowError("oidc.consent_unknown", _l("That site has no access to your account."),
                        status=404)
    site = consent.client
    signout.client_withdrawn(user.id, site.id)
    tokens.revoke_for_client(user.id, site.id)
    db.session.delete(consent)
    record("oidc.consent_withdrawn", user=user, client=client, client_id=site.client_id)
    db.session.commit()
    return site
