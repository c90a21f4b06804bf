"""What a reader accepted: the version of the terms of use or privacy policy, and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from auth_service.models.base import Base, UTCDateTime, now


class PolicyConsent(Base):
    """One document accepted in one version (AUTH_TERMS_VERSION, AUTH_PRIVACY_VERSION).

    Not the OpenID provider's ``Consent`` (a site's access to the account): this is
    the reader's agreement to the service's own terms, kept as long as the account.
    """

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # "terms" or "privacy".
    document: Mapped[str] = mapped_column(String(16))
    version: Mapped[str] = mapped_column(String(64))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    # How: "password" (the registration form) or the provider signed up with.
    method: Mapped[str] = mapped_column(String(32))

    def __repr__(self) -> str:
        return f"<PolicyConsent {self.document} {self.version} user={self.user_id}>"
