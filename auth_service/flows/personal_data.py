"""Everything held about an account, as one JSON document: for the reader, and for the admins.

``auth-service users export`` (a data-access request sent to the operator) and the
reader's own "Download my data" on /account/data give the same document. The
reader's copy needs a recent sign-in, like the other things a browser left signed
in must not do on its own: the export holds the account's addresses, devices and
history.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from auth_service import clock
from auth_service.extensions import db
from auth_service.flows import policies, sessions, two_factor
from auth_service.flows.audit import Client, record
from auth_service.models import AuditEvent, Identity, OutboxMessage, PolicyConsent, Session, User


def export(user: User) -> dict[str, Any]:
    """Everything held about the account, for a data-access request (no secrets)."""
    outbox = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to_address == user.email).order_by(OutboxMessage.id))
    return {
        "account": account_dict(user),
        "identities": [identity_dict(i) for i in identities_of(user)],
        "sessions": [session_dict(s) for s in sessions_of(user, active_only=False)],
        "consents": [consent_dict(c) for c in policies.accepted_by(user)],
        "audit_events": [event_dict(e) for e in reversed(events_of(user))],
        "second_factors": two_factor.summary(user),
        "emails": [{"id": m.id, "template": m.template, "subject": m.subject,
                    "status": m.status, "created_at": _iso(m.created_at),
                    "sent_at": _iso(m.sent_at)} for m in outbox],
        "exported_at": _iso(clock.now()),
    }


def export_own(user: User, *, session: Session | None,
               client: Client | None = None) -> dict[str, Any]:
    """The reader's own copy of :func:`export`, from a recent sign-in; audited, commits.

    Raises ReauthRequired (``then="export"``) when the sign-in is not recent.
    """
    sessions.require_recent(session, then="export")
    record("account.exported", user=user, client=client)
    db.session.commit()
    return export(user)


def identities_of(user: User) -> list[Identity]:
    return list(db.session.scalars(select(Identity).where(Identity.user_id == user.id)
                                   .order_by(Identity.id)))


def sessions_of(user: User, *, active_only: bool = True) -> list[Session]:
    if active_only:
        return sessions.active_for(user)
    return list(db.session.scalars(select(Session).where(Session.user_id == user.id)
                                   .order_by(Session.created_at)))


def events_of(user: User, limit: int | None = None) -> list[AuditEvent]:
    statement = (select(AuditEvent).where(AuditEvent.user_id == user.id)
                 .order_by(AuditEvent.id.desc()))
    if limit:
        statement = statement.limit(limit)
    return list(db.session.scalars(statement))


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def account_dict(user: User) -> dict[str, Any]:
    return {
        "id": user.id, "email": user.email, "name": user.display_name,
        "avatar_url": user.avatar_url, "email_confirmed": user.email_confirmed,
        "email_confirmed_at": _iso(user.email_confirmed_at), "roles": user.roles,
        "disabled": user.disabled, "disabled_at": _iso(user.disabled_at),
        "has_password": user.password_hash is not None,
        "password_changed_at": _iso(user.password_changed_at),
        "created_at": _iso(user.created_at), "last_login_at": _iso(user.last_login_at),
    }


def identity_dict(identity: Identity) -> dict[str, Any]:
    return {"provider": identity.provider, "subject": identity.subject,
            "email": identity.email, "email_verified": identity.email_verified,
            "name": identity.name, "avatar_url": identity.avatar_url,
            "created_at": _iso(identity.created_at), "last_used_at": _iso(identity.last_used_at)}


def session_dict(session: Session) -> dict[str, Any]:
    return {"id": session.id, "method": session.method, "amr": list(session.amr or ()),
            "auth_time": _iso(session.auth_time), "ip": session.ip,
            "user_agent": session.user_agent, "created_at": _iso(session.created_at),
            "last_seen_at": _iso(session.last_seen_at), "expires_at": _iso(session.ends_at),
            "revoked_at": _iso(session.revoked_at), "revoked_reason": session.revoked_reason}


def consent_dict(consent: PolicyConsent) -> dict[str, Any]:
    return {"document": consent.document, "version": consent.version,
            "accepted_at": _iso(consent.accepted_at), "method": consent.method}


def event_dict(event: AuditEvent) -> dict[str, Any]:
    return {"id": event.id, "at": _iso(event.created_at), "event": event.event,
            "user_id": event.user_id, "ip": event.ip, "user_agent": event.user_agent,
            "details": event.details}
