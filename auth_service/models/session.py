"""Server-side sessions: the cookie holds a random token, this table holds only its SHA-256."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from auth_service.models.base import Base, UTCDateTime, now


class Session(Base):
    __tablename__ = "sessions"

    # Public id: shown on /account and in /api/session; revealing it grants nothing.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    idle_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    # How the reader signed in: "password", or a provider name ("google", …).
    method: Mapped[str] = mapped_column(String(32))
    # Last time the reader proved who they are (sign-in, or the re-authentication
    # asked before linking or unlinking a provider).
    reauthenticated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(32))

    @property
    def ends_at(self) -> datetime:
        """When the session stops working if nothing else happens: idle or absolute expiry."""
        return min(self.idle_expires_at, self.expires_at)

    @property
    def authenticated_at(self) -> datetime:
        return self.reauthenticated_at or self.created_at

    def __repr__(self) -> str:
        return f"<Session {self.id} user={self.user_id}>"
