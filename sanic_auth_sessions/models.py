"""The models module a host lists under its Tortoise ``auth`` label: ``sanic_auth_sessions.models``.

The models live in :mod:`sanic_auth_sessions.core.models`; this is the stable name Tortoise and
aerich load them by.
"""

from sanic_auth_sessions.core.models import (
    EmailToken,
    EmailTokenPurpose,
    Membership,
    MfaChallenge,
    OAuthAccount,
    OAuthState,
    Organization,
    OrganizationRole,
    Passkey,
    PasswordResetToken,
    RecoveryCode,
    SecurityEvent,
    TotpFactor,
    User,
    UserSession,
    WebAuthnChallenge,
    WebAuthnPurpose,
    WebAuthnUserHandle,
)

__all__ = [
    "EmailToken",
    "EmailTokenPurpose",
    "Membership",
    "MfaChallenge",
    "OAuthAccount",
    "OAuthState",
    "Organization",
    "OrganizationRole",
    "Passkey",
    "PasswordResetToken",
    "RecoveryCode",
    "SecurityEvent",
    "TotpFactor",
    "User",
    "UserSession",
    "WebAuthnChallenge",
    "WebAuthnPurpose",
    "WebAuthnUserHandle",
]
