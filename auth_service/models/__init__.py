"""Every model, imported here so ``Base.metadata`` is complete for Alembic and the tests."""

from auth_service.models.audit import AuditEvent
from auth_service.models.base import Base
from auth_service.models.identity import Identity
from auth_service.models.oauth_state import OAuthState
from auth_service.models.oidc import (
    AuthorizationCode,
    Consent,
    LogoutDelivery,
    OAuthClient,
    OAuthToken,
    SigningKey,
)
from auth_service.models.outbox import OutboxMessage
from auth_service.models.policy_consent import PolicyConsent
from auth_service.models.second_factor import (
    PendingSignIn,
    RecoveryCode,
    TotpFactor,
    WebAuthnChallenge,
    WebAuthnCredential,
)
from auth_service.models.session import Session
from auth_service.models.user import User

__all__ = ["AuditEvent", "AuthorizationCode", "Base", "Consent", "Identity", "LogoutDelivery",
           "OAuthClient", "OAuthState", "OAuthToken", "OutboxMessage", "PendingSignIn",
           "PolicyConsent", "RecoveryCode", "Session", "SigningKey", "TotpFactor", "User",
           "WebAuthnChallenge", "WebAuthnCredential"]
