"""Write security events to the audit log, in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auth_service import metrics
from auth_service.extensions import db
from auth_service.models import AuditEvent, User


@dataclass(frozen=True)
class Client:
    """Who is asking: the network address, user agent and page language, as the view saw them.

    ``language`` is what an account made by this request is given (its emails' language).
    """

    ip: str | None = None
    user_agent: str | None = None
    language: str | None = None


CLI = Client(ip=None, user_agent="auth-service cli")


def record(event: str, *, user: User | None = None, client: Client | None = None,
           **details: Any) -> AuditEvent:
    """Add an audit row (no commit) and count the event for /metrics (metrics.py).

    ``details`` must never hold a password, token or cookie.
    """
    client = client or Client()
    row = AuditEvent(
        event=event,
        user_id=user.id if user is not None else None,
        ip=client.ip,
        user_agent=(client.user_agent or "")[:255] or None,
        details=details,
    )
    db.session.add(row)
    metrics.audit_event(event, details)
    return row
