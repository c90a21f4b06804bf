"""Where Authlib keeps a round trip's state, PKCE verifier and nonce: the ``oauth_states`` table.

Authlib's Flask client keeps them in Flask's session cookie unless it is given a
cache; then the cookie holds only an expiry and the data lives here. That makes a
callback single-use whatever the browser sends: reading the row deletes it (one
statement, so two racing callbacks cannot both have it), and a replayed old cookie
with a spent callback finds nothing, so the spent code is never sent to the
provider again. Every service process shares the table, whichever serves the callback.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from auth_service import clock
from auth_service.extensions import db
from auth_service.models import OAuthState


class StateStore:
    """The cache interface Authlib's FrameworkIntegration calls: get, set, delete."""

    def get(self, key: str) -> str | None:
        """The value of ``key`` if it has not expired, taken out for good."""
        with db.engine.begin() as connection:
            row = connection.execute(
                delete(OAuthState)
                .where(OAuthState.key == key, OAuthState.expires_at > clock.now())
                .returning(OAuthState.value)
            ).first()
        return row[0] if row else None

    def set(self, key: str, value: str, expires_in: int) -> None:
        """Keep ``value`` for ``expires_in`` seconds; round trips long expired are dropped."""
        now = clock.now()
        with db.engine.begin() as connection:
            connection.execute(delete(OAuthState).where(OAuthState.expires_at <= now))
            connection.execute(OAuthState.__table__.insert().values(
                key=key[:255], value=value, expires_at=now + timedelta(seconds=expires_in)))

    def delete(self, key: str) -> None:
        with db.engine.begin() as connection:
            connection.execute(delete(OAuthState).where(OAuthState.key == key))
