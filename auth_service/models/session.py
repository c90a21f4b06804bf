"""Server-side sessions: the cookie holds a random token, this table holds only its SHA-256."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
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
    # How the reader signed in: "password", a provider name ("google", …) or "passkey".
    method: Mapped[str] = mapped_column(String(32))
    # The same as RFC 8176 Authentication Method References, second factor included:
    # ["pwd"], ["pwd", "otp"], ["oidc", "hwk"], ["hwk"]. Reported by /api/session and
    # carried into ID tokens and signed session tokens.
    amr: Mapped[list[str]] = mapped_column(JSON, default=list)
    # When the reader last proved who they are: the sign-in, or the re-authentication
    # asked before a sensitive change (OpenID Connect's auth_time).
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    # The last of those re-authentications, if any (auth_time is then the same).
    reauthenticated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(32))

    @property
    def ends_at(self) -> datetime:
        """When the session stops working if nothing else happens: idle or absolute expiry."""
        return min(self.idle_expires_at, self.expires_at)

    @property
    def authenticated_at(self) -> datetime:
        return self.auth_time

    def __repr__(self) -> str:
        return f"<Session {self.id} user={self.user_id}>"
