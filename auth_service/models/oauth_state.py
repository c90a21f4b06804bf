"""A social round trip in progress: what Authlib keeps between the redirect and the callback.

Kept on the server, not in the browser's cookie, so that a callback works once: the
row goes when the callback reads it, and a copy of an old cookie finds nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from auth_service.models.base import Base, UTCDateTime


class OAuthState(Base):
    __tablename__ = "oauth_states"

    # Authlib's key: "_state_<provider>_<state>".
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # JSON: the redirect URI, PKCE verifier and nonce of this round trip.
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    def __repr__(self) -> str:
        return f"<OAuthState expires={self.expires_at:%Y-%m-%d %H:%M}>"
