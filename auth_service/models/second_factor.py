"""What proves a reader a second time: a TOTP authenticator app, recovery codes, passkeys.

And the two kinds of state a sign-in with them passes through: the half-signed-in
state between the password (or the provider's round trip) and the second factor,
and the WebAuthn challenges a browser signs. Both are rows on the server, found
from a random key kept in Flask's signed cookie and stored here only as its
SHA-256, so that a copied cookie replays nothing once the row is spent or gone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from auth_service.models.base import Base, UTCDateTime, now


class TotpFactor(Base):
    """An authenticator app (RFC 6238): one per account, counting once it is confirmed."""

    __tablename__ = "totp_factors"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         unique=True)
    # Base32, as the otpauth:// URI gives it to the app. The service must read it back
    # to check a code, so it cannot be hashed: a database copy holds it.
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    # None while enrolling: the reader has not typed a code from the app yet.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The time step (unix time // 30) of the last code accepted: that code, and any
    # older one, is refused from then on (RFC 6238 §5.2).
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


class RecoveryCode(Base):
    """One of the ten single-use codes for a reader without their authenticator.

    A code is 80 random bits, so its SHA-256 is enough (as for session tokens).
    """

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebAuthnCredential(Base):
    """A passkey (or security key) registered from /account."""

    __tablename__ = "webauthn_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # base64url of the authenticator's credential id (at most 1023 bytes).
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    # The COSE public key, as the authenticator gave it at registration.
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    # The reader's own name for it ("Phone", "YubiKey"); shown on /account.
    name: Mapped[str] = mapped_column(String(64))
    transports: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PendingSignIn(Base):
    """Half signed in: the first factor passed, the second not yet (at most a few minutes).

    ``purpose`` is "login" (a session starts once the second factor passes) or
    "reauth" (the reader's ``session_id`` is marked re-authenticated instead).
    """

    __tablename__ = "pending_sign_ins"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    # How the first factor was given: "password" or a provider's name, and its amr.
    method: Mapped[str] = mapped_column(String(32))
    amr: Mapped[list[str]] = mapped_column(JSON, default=list)
    return_to: Mapped[str | None] = mapped_column(String(2000))
    session_id: Mapped[str | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class WebAuthnChallenge(Base):
    """A challenge given to one browser for one ceremony; spent by the answer to it."""

    __tablename__ = "webauthn_challenges"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # "register", "login" (passwordless) or "second" (the second factor of a pending sign-in).
    purpose: Mapped[str] = mapped_column(String(16))
    challenge: Mapped[bytes] = mapped_column(LargeBinary)
    # Registration: whose passkey it will be. Passwordless sign-in: nobody yet.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
