"""Tortoise models of the extension.

Register this module under the app label ``auth`` (the extension does so when it owns the
Tortoise set-up); a host app refers to the user as ``"auth.User"``.
"""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import Any
from uuid import uuid4

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model, ModelMeta

APP_LABEL = "auth"
EMAIL_MAX_CHARS = 254
SUBJECT_MAX_CHARS = 255  # a provider's user id (OIDC ``sub``)
NAME_MAX_CHARS = 100
SECURITY_STAMP_CHARS = 32


class _WithoutSourceComments(ModelMeta):
    """Tortoise's model metaclass, told that these models have no ``#:`` field comments to
    read: Tortoise otherwise reads each model's source for them (``inspect.getsource``, which
    parses this whole module again for each class), about a quarter second of every process
    that imports the package. ``_no_comments`` is Tortoise's own switch for it, not a
    documented one; ``tests/db/test_orm_internals.py`` fails if Tortoise stops honouring it."""

    def __new__(
        mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any]
    ) -> _WithoutSourceComments:
        attrs.setdefault("_no_comments", True)
        return super().__new__(mcs, name, bases, attrs)  # type: ignore[return-value]


class AuthModel(Model, metaclass=_WithoutSourceComments):
    """The base of the extension's models (document a field with ``description=``)."""

    class Meta:
        abstract = True


def new_security_stamp() -> str:
    return secrets.token_hex(SECURITY_STAMP_CHARS // 2)


class User(AuthModel):
    id = fields.UUIDField(primary_key=True, default=uuid4)
    # Stored lower-cased: uniqueness is case-insensitive on every database.
    email = fields.CharField(max_length=EMAIL_MAX_CHARS, unique=True)
    hashed_password = fields.CharField(max_length=128)
    first_name = fields.CharField(max_length=NAME_MAX_CHARS, default="")
    last_name = fields.CharField(max_length=NAME_MAX_CHARS, default="")
    is_active = fields.BooleanField(default=True)
    is_superuser = fields.BooleanField(default=False)
    # The account has proven it receives mail at ``email`` (a verification or email-change
    # token, a superuser, or the first superuser created from the settings). Accounts that
    # existed before the column start unverified.
    is_verified = fields.BooleanField(default=False, db_default=False)
    # Changes whenever the email or the password changes or the account is deactivated;
    # single-use tokens carry the stamp of their day and die when it changes.
    # (The database default only fills rows that existed before the column.)
    security_stamp = fields.CharField(
        max_length=SECURITY_STAMP_CHARS, default=new_security_stamp, db_default=""
    )
    # True while a confirmed TOTP factor exists (kept with it, in one transaction): read with
    # the user, so a login learns it without a query that depends on the password's outcome.
    mfa_enabled = fields.BooleanField(default=False, db_default=False)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)

    sessions: fields.ReverseRelation[UserSession]
    memberships: fields.ReverseRelation[Membership]

    class Meta:
        table = "auth_users"
        app = APP_LABEL

    @property
    def has_password(self) -> bool:
        """False for an account made by a social login until it sets a password (an empty
        ``hashed_password`` is no password)."""
        return bool(self.hashed_password)

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    def __str__(self) -> str:
        return self.email


class UserSession(AuthModel):
    """One signed-in device. The refresh token's ``jti`` is the rotation compare-and-swap key."""

    id = fields.UUIDField(primary_key=True, default=uuid4)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        f"{APP_LABEL}.User", related_name="sessions", on_delete=fields.CASCADE
    )
    refresh_token_jti = fields.CharField(max_length=64, unique=True)
    # The jti the latest rotation replaced, and when: within AUTH_REFRESH_REUSE_GRACE_S that
    # token still refreshes (to the current jti) instead of counting as reuse.
    previous_refresh_jti = fields.CharField(max_length=64, null=True)
    rotated_at = fields.DatetimeField(null=True)
    device_name = fields.CharField(max_length=255, default="Unknown device")
    device_id = fields.CharField(max_length=255, null=True)
    ip_address = fields.CharField(max_length=45, null=True)
    user_agent = fields.CharField(max_length=500, null=True)
    location_city = fields.CharField(max_length=100, null=True)
    location_country = fields.CharField(max_length=100, null=True)
    last_used_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    # The session's latest authentication (its login or latest re-authentication) and its
    # RFC 8176 methods, space-separated ("pwd", "pwd otp mfa"): the step-up rule reads them
    # here, never from a token. Every session stores a time (the migration gave the older
    # ones their ``created_at``); the column is nullable only so it could be added in place.
    auth_time = fields.DatetimeField(null=True)
    amr = fields.CharField(max_length=64, default="pwd", db_default="pwd")
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    user_id: str

    @property
    def authenticated_at(self) -> datetime:
        """``auth_time``, or ``created_at`` for a row without one."""
        return self.auth_time or self.created_at

    @property
    def amr_list(self) -> list[str]:
        """The methods of the latest authentication, as a list."""
        return self.amr.split()

    class Meta:
        table = "auth_sessions"
        app = APP_LABEL
        indexes = (
            # A user's sessions, most recently used first (GET /sessions/me, logout-all).
            Index(fields=("user_id", "is_active", "last_used_at")),
            # The admin list, most recently used first, filtered by state; the id makes the
            # keyset (last_used_at, id) of its cursor an index range.
            Index(fields=("is_active", "last_used_at", "id")),
            Index(fields=("last_used_at", "id")),
            # Cleanup of expired sessions.
            Index(fields=("expires_at",)),
        )


class PasswordResetToken(AuthModel):
    """A single-use reset token; only its SHA-256 is stored. Valid only while its user's
    ``security_stamp`` is the one it was made with."""

    id = fields.UUIDField(primary_key=True, default=uuid4)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        f"{APP_LABEL}.User", related_name="password_reset_tokens", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    security_stamp = fields.CharField(max_length=SECURITY_STAMP_CHARS, db_default="")
    expires_at = fields.DatetimeField(db_index=True)
    used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    user_id: str

    class Meta:
        table = "auth_password_reset_tokens"
        app = APP_LABEL


class SecurityEvent(AuthModel):
    """A stored audit event (every one but ``token.refreshed``), kept ``AUTH_AUDIT_RETENTION_S``.

    Append-only. No foreign key: events outlive the accounts and sessions they are about.
    ``user_id`` is the account the event is about, ``actor_id`` who acted (the user, a
    superuser, or null when anonymous). ``device_id`` (the ``X-Device-Id`` header) is kept for
    new-device detection and not shown.
    """

    id = fields.UUIDField(primary_key=True, default=uuid4)
    type = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    user_id = fields.UUIDField(null=True)
    actor_id = fields.UUIDField(null=True)
    ip_address = fields.CharField(max_length=45, null=True)
    user_agent = fields.CharField(max_length=500, null=True)
    device_name = fields.CharField(max_length=255, null=True)
    device_id = fields.CharField(max_length=255, null=True)
    location_city = fields.CharField(max_length=100, null=True)
    location_country = fields.CharField(max_length=100, null=True)
    session_id = fields.UUIDField(null=True)
    data: dict[str, Any] = fields.JSONField(default=dict)

    class Meta:
        table = "auth_security_events"
        app = APP_LABEL
        indexes = (
            # A user's events, newest first (their list, new-device detection); the id makes
            # the keyset (created_at, id) of the cursor an index range.
            Index(fields=("user_id", "created_at", "id")),
            # The admin list, filtered by actor too; and the retention cleanup.
            Index(fields=("actor_id", "created_at", "id")),
            Index(fields=("created_at", "id")),
        )


class EmailTokenPurpose(str, enum.Enum):
    VERIFY = "verify"  # proves the account's current address
    CHANGE = "change"  # proves a new address; confirming it makes it the account's


class EmailToken(AuthModel):
    """A single-use email-verification or email-change token; only its SHA-256 is stored.

    ``email`` is the address it was mailed to (the account's for a verification, the new one
    for a change). Valid only while its user's ``security_stamp`` is the one it was made with.
    """

    id = fields.UUIDField(primary_key=True, default=uuid4)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        f"{APP_LABEL}.User", related_name="email_tokens", on_delete=fields.CASCADE
    )
    purpose = fields.CharEnumField(EmailTokenPurpose, max_length=16)
    token_hash = fields.CharField(max_length=64, unique=True)
    email = fields.CharField(max_length=EMAIL_MAX_CHARS)
    security_stamp = fields.CharField(max_length=SECURITY_STAMP_CHARS)
    expires_at = fields.DatetimeField(db_index=True)
    used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    user_id: str

    class Meta:
        table = "auth_email_tokens"
        app = APP_LABEL
        indexes = (
            # A user's pending change (replaced by a new request).
            Index(fields=("user_id", "purpose")),
            # The per-address mail throttle: the latest token mailed to an address.
            Index(fields=("email", "purpose", "created_at")),
        )


class TotpFactor(AuthModel):
    """A user's TOTP authenticator: the confirmed secret, and a pending one during enrolment.

    Secrets are encrypted (AES-GCM, ``AUTH_MFA_ENCRYPTION_KEY``). ``last_used_step`` is the
    latest 30-second step accepted: a code is accepted only for a later step, with a
    compare-and-swap on this column, so every code works once.
    """

    id = fields.UUIDField(primary_key=True, default=uuid4)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        f"{APP_LABEL}.User", related_name="totp_factor", on_delete=fields.CASCADE
    )
    secret_encrypted = fields.CharField(max_length=255, null=True)
    enabled_at = fields.DatetimeField(null=True)
    last_used_step = fields.BigIntField(null=True)
    pending_secret_encrypted = fields.CharField(max_length=255, null=True)
    pending_expires_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    user_id: str

    class Meta:
        table = "auth_totp_factors"
        app = APP_LABEL


class RecoveryCode(AuthModel):
    """One single-use recovery code, stored only as a salted, keyed hash."""

    id = fields.UUIDField(primary_key=True, default=uuid4)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        f"{APP_LABEL}.User", related_name="recovery_codes", on_delete=fields.CASCADE
    )
    salt = fields.CharField(max_length=32)
    code_hash = fields.CharField(max_length=64)
    used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    user_id: str

    class Meta:
        table = "auth_recovery_codes"
        app = APP_LABEL
        indexes = (Index(fields=("user_id", "used_at")),)


class MfaChallenge(AuthModel):
    """The second step of a login, waiting for its code. Its ``mfa_token`` is stored hashed.

    Bound to the device of the password step, valid while its user's ``security_stamp`` is
    the one it was made with, until ``expires_at``, for ``AUTH_MFA_MAX_ATTEMPTS`` codes, once.
    """

    id = fields.UUIDField(primary_key=True, default=uuid4)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        f"{APP_LABEL}.User", related_name="mfa_challenges", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    security_stamp = fields.CharField(max_length=SECURITY_STAMP_CHARS)
    device_hash = fields.CharField(max_length=64)
    first_factor = fields.CharField(max_length=16, default="pwd")
    attempts = fields.IntField(default=0)
    expires_at = fields.DatetimeField(db_index=True)
    spent_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    user_id: str

    class Meta:
        table = "auth_mfa_challenges"
        app = APP_LABEL


class OAuthAccount(AuthModel):
    """A social identity linked to a user: the provider's name and its subject (OIDC ``sub``,
    GitHub's numeric id). The provider's tokens are never stored."""

    id = fields.UUIDField(primary_key=True, default=uuid4)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        f"{APP_LABEL}.User", related_name="oauth_accounts", on_delete=fields.CASCADE
    )
    provider = fields.CharField(max_length=32)
    subject = fields.CharField(max_length=SUBJECT_MAX_CHARS)
    provider_email = fields.CharField(max_length=EMAIL_MAX_CHARS, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    user_id: str

    class Meta:
        table = "auth_oauth_accounts"
        app = APP_LABEL
        unique_together = (("provider", "subject"), ("user", "provider"))


class OAuthState(AuthModel):
    """One started social login or link, waiting for its callback; only the SHA-256 of its
    ``state`` is stored. Spent by its first callback (``used_at``), valid until ``expires_at``.
    A link is bound to the user and session that started it."""

    id = fields.UUIDField(primary_key=True, default=uuid4)
    state_hash = fields.CharField(max_length=64, unique=True)
    provider = fields.CharField(max_length=32)
    redirect_uri = fields.CharField(max_length=2000)
    mode = fields.CharField(max_length=8)  # "login" or "link"
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        f"{APP_LABEL}.User", related_name="oauth_states", on_delete=fields.CASCADE, null=True
    )
    session_id = fields.UUIDField(null=True)
    code_verifier = fields.CharField(max_length=128)
    nonce = fields.CharField(max_length=64, null=True)
    expires_at = fields.DatetimeField(db_index=True)
    used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    user_id: str | None

    class Meta:
        table = "auth_oauth_states"
        app = APP_LABEL


class OrganizationRole(str, enum.Enum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    GUEST = "guest"  # reads like a member; the lowest rank


class Organization(AuthModel):
    id = fields.UUIDField(primary_key=True, default=uuid4)
    name = fields.CharField(max_length=NAME_MAX_CHARS)
    slug = fields.CharField(max_length=NAME_MAX_CHARS, unique=True)
    description = fields.TextField(null=True)
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)

    memberships: fields.ReverseRelation[Membership]

    class Meta:
        table = "auth_organizations"
        app = APP_LABEL


class Membership(AuthModel):
    id = fields.UUIDField(primary_key=True, default=uuid4)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        f"{APP_LABEL}.User", related_name="memberships", on_delete=fields.CASCADE
    )
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        f"{APP_LABEL}.Organization", related_name="memberships", on_delete=fields.CASCADE
    )
    role = fields.CharEnumField(OrganizationRole, max_length=16, default=OrganizationRole.MEMBER)
    joined_at = fields.DatetimeField(auto_now_add=True)

    user_id: str
    organization_id: str

    class Meta:
        table = "auth_memberships"
        app = APP_LABEL
        unique_together = (("user", "organization"),)
        indexes = (
            # Owners of an organization (the last-owner rule).
            Index(fields=("organization_id", "role")),
            # Members of an organization, first joined first (member lists).
            Index(fields=("organization_id", "joined_at")),
            # The unique (user, organization) pair serves "organizations of a user".
        )


PASSKEY_NAME_MAX_CHARS = 100
# A credential id is at most 1023 bytes (WebAuthn): 1364 characters of base64url.
CREDENTIAL_ID_MAX_CHARS = 1400


class WebAuthnUserHandle(AuthModel):
    """The account's WebAuthn user handle: 32 random bytes (base64url), never the user id, so
    an authenticator's stored record says nothing about the account."""

    id = fields.UUIDField(primary_key=True, default=uuid4)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        f"{APP_LABEL}.User", related_name="webauthn_handle", on_delete=fields.CASCADE
    )
    handle = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    user_id: str

    class Meta:
        table = "auth_webauthn_user_handles"
        app = APP_LABEL


class Passkey(AuthModel):
    """A WebAuthn credential of an account: its id and COSE public key (base64url), the
    authenticator's signature counter, and a flag set when that counter went backwards (a
    flagged passkey is refused until it is deleted)."""

    id = fields.UUIDField(primary_key=True, default=uuid4)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        f"{APP_LABEL}.User", related_name="passkeys", on_delete=fields.CASCADE
    )
    credential_id = fields.CharField(max_length=CREDENTIAL_ID_MAX_CHARS, unique=True)
    public_key = fields.TextField()
    sign_count = fields.BigIntField(default=0)
    transports: list[str] = fields.JSONField(default=list)
    device_type = fields.CharField(max_length=16, default="single_device")
    backed_up = fields.BooleanField(default=False)
    name = fields.CharField(max_length=PASSKEY_NAME_MAX_CHARS, default="Passkey")
    flagged = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)

    user_id: str

    class Meta:
        table = "auth_passkeys"
        app = APP_LABEL
        indexes = (Index(fields=("user_id", "created_at")),)


class WebAuthnPurpose(str, enum.Enum):
    REGISTER = "register"
    LOGIN = "login"
    REAUTHENTICATE = "reauthenticate"


class WebAuthnChallenge(AuthModel):
    """One WebAuthn challenge (32 random bytes, base64url): single use (``used_at``), valid
    until ``expires_at``, for one purpose and, except for a login, the user and session that
    asked for it."""

    id = fields.UUIDField(primary_key=True, default=uuid4)
    challenge = fields.CharField(max_length=64)
    purpose = fields.CharEnumField(WebAuthnPurpose, max_length=16)
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        f"{APP_LABEL}.User",
        related_name="webauthn_challenges",
        on_delete=fields.CASCADE,
        null=True,
    )
    session_id = fields.UUIDField(null=True)
    name = fields.CharField(max_length=PASSKEY_NAME_MAX_CHARS, null=True)
    expires_at = fields.DatetimeField(db_index=True)
    used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    user_id: str | None

    class Meta:
        table = "auth_webauthn_challenges"
        app = APP_LABEL
