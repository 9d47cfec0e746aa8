"""Two-factor authentication: TOTP (RFC 6238, with pyotp), recovery codes and the second step
of a login. No HTTP here.

- Secrets are 20 random bytes, shown once as unpadded base32, stored encrypted with AES-GCM
  under ``AUTH_MFA_ENCRYPTION_KEY`` (the user's id is the associated data: a ciphertext copied
  to another row does not decrypt).
- A code is accepted for the current 30-second step and one before or after, and only for a
  step later than the last one accepted for the account: a compare-and-swap on
  ``TotpFactor.last_used_step``, so two concurrent requests with one code cannot both pass.
- Recovery codes: 10 per set, stored as HMAC-SHA-256 of a per-code salt and the code, keyed by
  a key derived from ``AUTH_MFA_ENCRYPTION_KEY``; each is spent with a compare-and-swap.
- A login of an account with MFA ends its password step with an ``mfa_token`` (only its
  SHA-256 stored), bound to the device, the account's security stamp, a lifetime and a number
  of attempts; ``POST /auth/login/mfa`` completes it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
import time
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from tortoise.expressions import F, Q

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.core.devices import DeviceInfo
from sanic_auth_sessions.core.models import MfaChallenge, RecoveryCode, TotpFactor, User
from sanic_auth_sessions.db.connection import transaction
from sanic_auth_sessions.services.mailer import deliver

if TYPE_CHECKING:
    from sanic_auth_sessions.services.manager import AuthContext, LoginResult, UserManager

__all__ = ["MfaChallengeResult", "MfaCipher", "MfaService", "MfaStatus", "TotpSetup"]

SECRET_BYTES = 20
TOTP_DIGITS = 6
TOTP_PERIOD_S = 30
TOTP_WINDOW = 1  # steps accepted before and after the current one
RECOVERY_CODES_PER_SET = 10
RECOVERY_CODE_CHARS = 10
RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # lower-case base32
MFA_TOKEN_BYTES = 32
NONCE_BYTES = 12
METHODS = ("totp", "recovery_code")
DEV_KEY_INFO = b"sanic-auth-sessions mfa encryption key"
RECOVERY_KEY_INFO = b"sanic-auth-sessions recovery codes"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _hkdf(material: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(material)


def encryption_key(settings: AuthSettings) -> bytes:
    """``AUTH_MFA_ENCRYPTION_KEY``; in development and test, derived from the secret key when
    unset (production refuses to start without it, see ``core.config``)."""
    if settings.mfa_encryption_key:
        return base64.b64decode(settings.mfa_encryption_key)
    return _hkdf(settings.secret_key.encode(), DEV_KEY_INFO)


class MfaCipher:
    """AES-256-GCM for TOTP secrets; the owner's id is the associated data."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self.recovery_key = _hkdf(key, RECOVERY_KEY_INFO)

    def encrypt(self, secret: str, user_id: UUID) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.encode(), user_id.bytes)
        return base64.b64encode(nonce + sealed).decode()

    def decrypt(self, stored: str, user_id: UUID) -> str:
        raw = base64.b64decode(stored)
        try:
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], user_id.bytes).decode()
        except InvalidTag:
            raise errors.AuthSessionsError("A TOTP secret does not decrypt: wrong key?") from None

    def recovery_hash(self, salt: str, code: str) -> str:
        message = f"{salt}:{code}".encode()
        return hmac.new(self.recovery_key, message, hashlib.sha256).hexdigest()


def new_secret() -> str:
    """20 random bytes as unpadded base32 (what authenticator apps take)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def new_recovery_code() -> str:
    chars = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_CHARS))
    return f"{chars[:5]}-{chars[5:]}"


def normalize_recovery_code(code: str) -> str:
    """Case-insensitive; hyphens and spaces ignored."""
    return code.replace("-", "").replace(" ", "").lower()


def hash_mfa_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def device_binding(device: DeviceInfo) -> str:
    """What an ``mfa_token`` is bound to: the ``X-Device-Id``, else the User-Agent and IP."""
    if device.device_id:
        key = f"id:{device.device_id}"
    else:
        key = f"ua:{device.user_agent or ''}\nip:{device.ip_address or ''}"
    return hashlib.sha256(key.encode()).hexdigest()


def otpauth_uri(issuer: str, email: str, secret: str) -> str:
    label = urllib.parse.quote(f"{issuer}:{email}", safe="")
    issuer_param = urllib.parse.quote(issuer, safe="")
    return (
        f"otpauth://totp/{label}?secret={secret}&issuer={issuer_param}"
        f"&algorithm=SHA1&digits={TOTP_DIGITS}&period={TOTP_PERIOD_S}"
    )


def qr_svg(uri: str) -> str:
    """An SVG document of ``uri``: paths only, no script, link or external reference."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", xmldecl=False, scale=4, svgclass=None)
    return out.getvalue().decode()


def matching_step(secret: str, code: str, now: float) -> int | None:
    """The 30-second step (current, one before, one after) whose code is ``code``, or None."""
    if len(code) != TOTP_DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD_S)
    current = int(now) // TOTP_PERIOD_S
    found = None
    for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1):
        if hmac.compare_digest(totp.at(step * TOTP_PERIOD_S), code):
            found = step
    return found


@dataclass(frozen=True)
class TotpSetup:
    secret: str
    otpauth_uri: str
    qr_svg: str
    expires_in: int


@dataclass(frozen=True)
class MfaStatus:
    enabled: bool
    methods: list[str]
    recovery_codes_remaining: int
    enabled_at: datetime | None


@dataclass(frozen=True)
class MfaChallengeResult:
    """The answer of a password step for an account with MFA: no session yet."""

    mfa_token: str
    expires_in: int
    methods: tuple[str, ...] = METHODS
    mfa_required: bool = True


class MfaService:
    """The second factor of ``manager``'s accounts (``manager.mfa``)."""

    def __init__(self, manager: UserManager) -> None:
        self.manager = manager
        self.settings = manager.settings
        self.cipher = MfaCipher(encryption_key(manager.settings))
        self.clock = time.time

    # --- status and enrolment -----------------------------------------------------------

    async def status(self, user: User) -> MfaStatus:
        factor = await TotpFactor.get_or_none(user_id=user.id, enabled_at__isnull=False)
        if factor is None:
            return MfaStatus(False, [], 0, None)
        remaining = await RecoveryCode.filter(user_id=user.id, used_at__isnull=True).count()
        return MfaStatus(True, list(METHODS), remaining, factor.enabled_at)

    async def start_setup(self, user: User) -> TotpSetup:
        """A new pending secret (replacing any pending one), valid ``AUTH_MFA_SETUP_TTL_S``."""
        if user.mfa_enabled:
            raise errors.MfaAlreadyEnabled()
        secret = new_secret()
        ttl = self.settings.mfa_setup_ttl_s
        pending: dict[str, Any] = {
            "pending_secret_encrypted": self.cipher.encrypt(secret, user.id),
            "pending_expires_at": utcnow() + timedelta(seconds=ttl),
        }
        updated = await TotpFactor.filter(user_id=user.id, enabled_at__isnull=True).update(
            **pending, updated_at=utcnow()
        )
        if not updated:
            if await TotpFactor.filter(user_id=user.id).exists():
                raise errors.MfaAlreadyEnabled()
            await TotpFactor.create(user_id=user.id, **pending)
        uri = otpauth_uri(self.settings.mfa_issuer_label, user.email, secret)
        return TotpSetup(secret=secret, otpauth_uri=uri, qr_svg=qr_svg(uri), expires_in=ttl)

    async def confirm_setup(
        self, ctx: AuthContext, code: str, current_password: str | None
    ) -> list[str]:
        """Enable MFA with a code of the new authenticator; the first set of recovery codes.

        Step-up: a fresh session, or the account's ``current_password``. The enrolment
        ``code`` is not a credential of the account: not a proof, not counted by the lockout.
        """
        user = ctx.user
        await self.manager.require_step_up(ctx, current_password=current_password)
        if user.mfa_enabled:
            raise errors.MfaAlreadyEnabled()
        now = utcnow()
        factor = await TotpFactor.get_or_none(
            user_id=user.id,
            enabled_at__isnull=True,
            pending_secret_encrypted__isnull=False,
            pending_expires_at__gt=now,
        )
        if factor is None or factor.pending_secret_encrypted is None:
            raise errors.MfaSetupNotStarted()
        secret = self.cipher.decrypt(factor.pending_secret_encrypted, user.id)
        step = matching_step(secret, code, self.clock())
        if step is None:
            raise errors.MfaCodeInvalid(field="code")
        codes = [new_recovery_code() for _ in range(RECOVERY_CODES_PER_SET)]
        async with transaction():
            enabled = await TotpFactor.filter(
                id=factor.id,
                enabled_at__isnull=True,
                pending_secret_encrypted=factor.pending_secret_encrypted,
            ).update(
                secret_encrypted=factor.pending_secret_encrypted,
                pending_secret_encrypted=None,
                pending_expires_at=None,
                enabled_at=now,
                last_used_step=step,
                updated_at=now,
            )
            if enabled != 1:  # a concurrent confirm or a new setup came first
                raise errors.MfaSetupNotStarted()
            await User.filter(id=user.id).update(mfa_enabled=True, updated_at=now)
            await self._store_recovery_codes(user.id, codes)
        user.mfa_enabled = True
        await self.manager.audit("mfa.enabled", user_id=user.id, session_id=ctx.session.id)
        return codes

    async def _store_recovery_codes(self, user_id: UUID, codes: list[str]) -> None:
        await RecoveryCode.filter(user_id=user_id).delete()
        rows = []
        for code in codes:
            salt = secrets.token_hex(16)
            digest = self.cipher.recovery_hash(salt, normalize_recovery_code(code))
            rows.append(RecoveryCode(user_id=user_id, salt=salt, code_hash=digest))
        await RecoveryCode.bulk_create(rows)

    # --- proofs -------------------------------------------------------------------------

    async def check_totp(self, user: User, code: str) -> bool:
        """Whether ``code`` is a current code of ``user``'s authenticator for a step later
        than the last one accepted; accepting it records its step (compare-and-swap)."""
        factor = await TotpFactor.get_or_none(user_id=user.id, enabled_at__isnull=False)
        if factor is None or factor.secret_encrypted is None:
            return False
        secret = self.cipher.decrypt(factor.secret_encrypted, user.id)
        step = matching_step(secret, code, self.clock())
        if step is None:
            return False
        swapped = await TotpFactor.filter(
            Q(last_used_step__isnull=True) | Q(last_used_step__lt=step),
            id=factor.id,
            enabled_at__isnull=False,
        ).update(last_used_step=step, updated_at=utcnow())
        return swapped == 1

    async def use_recovery_code(self, user: User, code: str) -> bool:
        """Spend one unused recovery code of ``user`` equal to ``code``; False if none is."""
        wanted = normalize_recovery_code(code)
        if len(wanted) != RECOVERY_CODE_CHARS:
            return False
        rows = await RecoveryCode.filter(user_id=user.id, used_at__isnull=True)
        match = None
        for row in rows:  # compare every row: the time does not say which one matched
            if hmac.compare_digest(self.cipher.recovery_hash(row.salt, wanted), row.code_hash):
                match = row
        if match is None:
            return False
        spent = await RecoveryCode.filter(id=match.id, used_at__isnull=True).update(
            used_at=utcnow()
        )
        if spent != 1:  # a concurrent request spent it first
            return False
        remaining = await RecoveryCode.filter(user_id=user.id, used_at__isnull=True).count()
        await self.manager.audit("mfa.recovery_code_used", user_id=user.id, remaining=remaining)
        return True

    async def verify_second_factor(
        self, user: User, code: str | None, recovery_code: str | None
    ) -> bool:
        """Check a code (or recovery code) of ``user``, counted by the lockout before."""
        await self.manager.reserve_attempt(user.email, None)
        if code is not None:
            return await self.check_totp(user, code)
        if recovery_code is not None:
            return await self.use_recovery_code(user, recovery_code)
        return False

    async def require_second_factor(
        self, user: User, code: str | None, recovery_code: str | None
    ) -> None:
        """403 ``MFA_CODE_INVALID`` unless the code is right (authenticated routes)."""
        if not await self.verify_second_factor(user, code, recovery_code):
            await self.manager.audit("mfa.check_failed", user_id=user.id)
            raise errors.MfaCodeInvalid(field="code" if code is not None else "recovery_code")

    # --- management ---------------------------------------------------------------------

    async def disable(
        self,
        ctx: AuthContext,
        *,
        current_password: str | None,
        code: str | None,
        recovery_code: str | None,
    ) -> None:
        """Both proofs, always: the password (when the account has one) and a code."""
        user = ctx.user
        if current_password is not None:
            await self.manager.verify_current_password(user, current_password)
        if not user.mfa_enabled:
            raise errors.MfaNotEnabled()
        await self.require_second_factor(user, code, recovery_code)
        if self.manager.lockout is not None:
            await self.manager.lockout.succeeded(user.email)
        await self._remove(user)
        await self.manager.audit(
            "mfa.disabled", user_id=user.id, session_id=ctx.session.id, by_admin=False
        )
        self._mail_disabled(user)

    async def regenerate_recovery_codes(
        self,
        ctx: AuthContext,
        *,
        current_password: str | None,
        code: str | None,
        recovery_code: str | None,
    ) -> list[str]:
        """A new set; every previous code dies. Step-up: a fresh session, or a code or
        recovery code in the body (a password alone does not re-authenticate an account with
        MFA; every proof present is checked)."""
        user = ctx.user
        await self.manager.require_step_up(
            ctx, current_password=current_password, code=code, recovery_code=recovery_code
        )
        if not user.mfa_enabled:
            raise errors.MfaNotEnabled()
        codes = [new_recovery_code() for _ in range(RECOVERY_CODES_PER_SET)]
        async with transaction():
            await self._store_recovery_codes(user.id, codes)
        await self.manager.audit(
            "mfa.recovery_codes_regenerated", user_id=user.id, session_id=ctx.session.id
        )
        return codes

    async def admin_reset(self, actor: User, user_id: UUID) -> User:
        """A superuser removes ``user_id``'s factor and recovery codes and revokes their
        sessions."""
        if actor.id == user_id:
            raise errors.CannotTargetSelf()
        user = await User.get_or_none(id=user_id)
        if user is None:
            raise errors.NotFound("User not found.")
        if not user.mfa_enabled:
            raise errors.MfaNotEnabled()
        async with transaction():
            await self._remove(user)
            revoked = await self.manager.revoke_user_sessions(user.id)
        await self.manager.audit(
            "admin.mfa_reset", user_id=user.id, actor_id=actor.id, sessions_revoked=revoked
        )
        await self.manager.audit("mfa.disabled", user_id=user.id, by_admin=True)
        self._mail_disabled(user)
        return user

    async def _remove(self, user: User) -> None:
        now = utcnow()
        async with transaction():
            await TotpFactor.filter(user_id=user.id).delete()
            await RecoveryCode.filter(user_id=user.id).delete()
            await MfaChallenge.filter(user_id=user.id, spent_at__isnull=True).update(spent_at=now)
            await User.filter(id=user.id).update(mfa_enabled=False, updated_at=now)
        user.mfa_enabled = False

    def _mail_disabled(self, user: User) -> None:
        self.manager.run_in_background(
            self._send_disabled(user.email), "The 'MFA disabled' notification"
        )

    async def _send_disabled(self, email: str) -> None:
        await deliver(self.manager.mailer, "mfa_disabled", email)

    # --- login ----------------------------------------------------------------------------

    async def challenge(
        self, user: User, device: DeviceInfo, *, first_factor: str = "pwd"
    ) -> MfaChallengeResult:
        """The ``mfa_token`` of a password step that was right, for an account with MFA."""
        token = secrets.token_urlsafe(MFA_TOKEN_BYTES)
        ttl = self.settings.mfa_token_ttl_s
        await MfaChallenge.create(
            user_id=user.id,
            token_hash=hash_mfa_token(token),
            security_stamp=user.security_stamp,
            device_hash=device_binding(device),
            first_factor=first_factor,
            expires_at=utcnow() + timedelta(seconds=ttl),
        )
        await self.manager.audit("login.mfa_required", user_id=user.id)
        return MfaChallengeResult(mfa_token=token, expires_in=ttl)

    async def complete_login(
        self,
        mfa_token: str,
        device: DeviceInfo,
        *,
        code: str | None,
        recovery_code: str | None,
    ) -> LoginResult:
        """``POST /auth/login/mfa``: a session for the account once its code is right."""
        now = utcnow()
        challenge = (
            await MfaChallenge.filter(
                token_hash=hash_mfa_token(mfa_token), spent_at__isnull=True, expires_at__gt=now
            )
            .select_related("user")
            .first()
        )
        if (
            challenge is None
            or challenge.device_hash != device_binding(device)
            or challenge.security_stamp != challenge.user.security_stamp
            or not challenge.user.is_active
            or not challenge.user.mfa_enabled
        ):
            raise errors.InvalidMfaToken(field="mfa_token")
        user = challenge.user
        # One attempt of the token, counted before the check (atomic; concurrent guesses
        # cannot exceed AUTH_MFA_MAX_ATTEMPTS), then one of the account (the lockout).
        counted = await MfaChallenge.filter(
            id=challenge.id,
            spent_at__isnull=True,
            attempts__lt=self.settings.mfa_max_attempts,
        ).update(attempts=F("attempts") + 1)
        if counted != 1:
            raise errors.InvalidMfaToken(field="mfa_token")
        if not await self.verify_second_factor(user, code, recovery_code):
            await self.manager.audit("login.failed", user_id=user.id, reason="mfa_code")
            await self.manager.on_failed_login(user.email, device)
            raise errors.InvalidMfaCode(field="code" if code is not None else "recovery_code")
        spent = await MfaChallenge.filter(id=challenge.id, spent_at__isnull=True).update(
            spent_at=utcnow()
        )
        if spent != 1:  # a concurrent request completed it first
            raise errors.InvalidMfaToken(field="mfa_token")
        if self.manager.lockout is not None:
            await self.manager.lockout.succeeded(user.email)
        amr = (challenge.first_factor, "otp", "mfa")
        return await self.manager.sign_in(user, device, mfa=True, amr=amr)
