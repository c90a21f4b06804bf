"""The account: one row per reader, whatever way they sign in."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from auth_service.models.base import Base, UTCDateTime, now


class User(Base):
    __tablename__ = "users"
    # Content sites key what they keep about a reader by this id: SQLite must never
    # hand a deleted account's id to a new one (without AUTOINCREMENT it reuses the
    # highest). PostgreSQL's sequence never does.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Normalised by flows.addresses.normalize_email: lower-cased, IDNA domain.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # None for accounts that only ever signed in with a social provider.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(100))
    avatar_url: Mapped[str | None] = mapped_column(String(1000))
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now,
                                                 onupdate=now)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The language its pages and emails are in (a code of AUTH_LANGUAGES); None: not chosen.
    language: Mapped[str | None] = mapped_column(String(8))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None

    @property
    def name(self) -> str:
        """What to call the reader: their display name, else the part before the @."""
        return self.display_name or self.email.split("@", 1)[0]

    @property
    def roles(self) -> list[str]:
        """Roles for /api/session; every account is a reader, some are admins too."""
        return ["admin"] if self.is_admin else []

    @property
    def credential_stamp(self) -> str:
        """Changes whenever the password or the address does; tokens bound to it die then.

        A reset link mailed to the old address must not outlive a change of address.
        """
        material = f"{self.password_hash or ''}\0{self.email}"
        return hashlib.sha256(material.encode()).hexdigest()[:32]

    # Flask-Login's user protocol.
    @property
    def is_active(self) -> bool:
        return not self.disabled

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.id}>"
