"""Business rules of accounts and sessions. No HTTP here: domain errors and hooks only.

Host apps customise behaviour by subclassing :class:`UserManager` and overriding the
``on_*`` hook methods, then passing the class to the extension.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID, uuid4

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.audit import AuditEvent, log_event, new_event
from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.core.devices import DeviceInfo
from sanic_auth_sessions.core.emails import normalize_email
from sanic_auth_sessions.core.models import (
    EmailToken,
    EmailTokenPurpose,
    PasswordResetToken,
    User,
    UserSession,
    new_security_stamp,
)
from sanic_auth_sessions.core.passwords import PasswordHasher
from sanic_auth_sessions.core.tokens import TokenClaims, TokenCodec, TokenPair, new_jti
from sanic_auth_sessions.db.connection import active_session_with_user, transaction
from sanic_auth_sessions.db.security_events import login_history
from sanic_auth_sessions.services import security_events
from sanic_auth_sessions.services.mailer import Mailer, MessageKind, deliver
from sanic_auth_sessions.services.mfa import MfaChallengeResult, MfaService
from sanic_auth_sessions.services.social import SocialLoginService

if TYPE_CHECKING:
    from sanic_auth_sessions.services.passkeys import PasskeyService
    from sanic_auth_sessions.throttle.lockout import LoginLockout

__all__ = ["AuthContext", "LoginResult", "UserManager", "normalize_email"]

logger = logging.getLogger("sanic_auth_sessions")

# Changing one of these ends every outstanding single-use token of the account (reset tokens
# and any later ones), because it rotates ``User.security_stamp``.
STAMPED_FIELDS = ("email", "hashed_password")
MAX_LISTED_SESSIONS = 1000  # a session list is for people; older rows stay in the database
# RFC 8176 methods of an authentication (a session's ``amr``).
PASSWORD_AMR = ("pwd",)
SECOND_FACTOR_AMR = ("otp", "mfa")
# At most one verification message per address in this many seconds.
VERIFICATION_MAIL_INTERVAL_S = 60


def with_new_stamp(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` of a user update, with a new security stamp when they change the email or
    the password or deactivate the account."""
    if any(name in fields for name in STAMPED_FIELDS) or fields.get("is_active") is False:
        return {**fields, "security_stamp": new_security_stamp()}
    return fields


class InvalidResetToken(errors.BadRequest):
    code = "RESET_TOKEN_INVALID"
    message = "The reset token is invalid, used or expired."


@dataclass(frozen=True)
class AuthContext:
    """The caller of an authenticated request."""

    user: User
    session: UserSession


@dataclass(frozen=True)
class LoginResult:
    user: User
    session: UserSession
    tokens: TokenPair


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def hash_reset_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserManager:
    def __init__(
        self,
        settings: AuthSettings,
        *,
        hasher: PasswordHasher,
        mailer: Mailer,
        lockout: LoginLockout | None = None,
    ) -> None:
        self.settings = settings
        self.codec = TokenCodec(settings)
        self.hasher = hasher
        self.mailer = mailer
        self.lockout = lockout
        self._background: set[asyncio.Task[None]] = set()
        self.mfa = MfaService(self)
        self.social = SocialLoginService(self)

    @functools.cached_property
    def passkeys(self) -> PasskeyService:
        """The passkey rules, made at their first use (:meth:`load_configured_features`):
        py_webauthn, which they need, is a tenth of a second of every process's start, and
        many apps have no passkeys."""
        from sanic_auth_sessions.services.passkeys import PasskeyService

        return PasskeyService(self)

    def load_configured_features(self) -> None:
        """Load what the configured passkeys and login providers need, at a worker's start
        rather than on their first request; what is not configured is never loaded."""
        if self.settings.passkeys_enabled:
            _ = self.passkeys
        self.social.load()

    # --- hooks: override in a subclass -------------------------------------------------

    async def on_audit_event(self, event: AuditEvent) -> None:
        """Called for every security event (already logged on ``sanic_auth_sessions.audit``)."""

    async def on_after_register(self, user: User, device: DeviceInfo | None) -> None:
        """Called after a user registered (not for users created by an admin)."""

    async def on_after_login(self, user: User, session: UserSession) -> None:
        """Called after a successful login created ``session``."""

    async def on_failed_login(self, email: str, device: DeviceInfo | None) -> None:
        """Called after a login failed for ``email`` (which may not exist)."""

    async def on_account_locked(self, email: str, device: DeviceInfo | None) -> None:
        """Called when failed logins lock ``email`` out."""

    async def on_refresh_token_reuse(self, session_id: UUID, user_id: UUID) -> None:
        """Called when an already-rotated refresh token is presented; the session is revoked."""

    async def on_after_forgot_password(self, user: User, token: str) -> None:
        """Called after a reset token was created and handed to the mailer."""

    async def on_after_reset_password(self, user: User) -> None:
        """Called after a password reset; every session of the user is revoked."""

    async def on_after_password_change(self, user: User) -> None:
        """Called after a user changed their password; other sessions are revoked."""

    async def on_after_update(self, user: User, changes: dict[str, Any]) -> None:
        """Called after a user's profile fields changed."""

    async def audit(
        self, name: str, *, user_id: object = None, session_id: object = None, **data: Any
    ) -> None:
        """Log the event, pass it to :meth:`on_audit_event`, and store it (all but
        ``token.refreshed``). A failure to store is logged at ERROR, never raised: the action
        the event records has happened."""
        event = new_event(name, user_id=user_id, session_id=session_id, **data)
        log_event(event)
        await self.on_audit_event(event)
        if security_events.should_store(event):
            try:
                await security_events.store(event)
            except Exception as exc:
                logger.error("Storing the %s event failed: %r", name, exc)

    async def notify(self, kind: MessageKind, email: str, **data: Any) -> None:
        """Mail the security notification ``kind`` to ``email`` after the answer, when
        ``AUTH_SECURITY_NOTIFICATIONS`` lists it; a mailer failure is logged at ERROR."""
        if kind not in self.settings.security_notifications:
            return

        async def send() -> None:
            await deliver(self.mailer, kind, email, data=data)

        self.run_in_background(send(), f"The {kind} notification")

    # --- passwords ----------------------------------------------------------------------

    async def validate_password(
        self, password: str, *, user_inputs: tuple[str, ...] = (), field: str = "password"
    ) -> None:
        """Apply the password policy; override to add rules (raise ``errors.WeakPassword``)."""
        await self.hasher.check_policy(
            password,
            min_length=self.settings.password_min_length,
            min_score=self.settings.password_min_score,
            user_inputs=user_inputs,
            field=field,
        )

    # --- accounts -----------------------------------------------------------------------

    async def create_user(
        self,
        *,
        email: str,
        password: str,
        first_name: str = "",
        last_name: str = "",
        is_superuser: bool = False,
        is_active: bool = True,
        is_verified: bool = False,
    ) -> User:
        email = normalize_email(email)
        await self.validate_password(password, user_inputs=(email, first_name, last_name))
        if await User.filter(email=email).exists():
            raise errors.EmailTaken(field="email")
        hashed = await self.hasher.hash(password)
        try:
            return await User.create(
                email=email,
                hashed_password=hashed,
                first_name=first_name,
                last_name=last_name,
                is_superuser=is_superuser,
                is_active=is_active,
                is_verified=is_verified,
            )
        except IntegrityError:  # a concurrent registration with the same email won
            raise errors.EmailTaken(field="email") from None

    async def register(
        self,
        *,
        email: str,
        password: str,
        first_name: str = "",
        last_name: str = "",
        device: DeviceInfo | None = None,
    ) -> User:
        if not self.settings.registration_enabled:
            raise errors.RegistrationClosed()
        user = await self.create_user(
            email=email, password=password, first_name=first_name, last_name=last_name
        )
        await self.audit("user.registered", user_id=user.id)
        await self.on_after_register(user, device)
        if self.settings.sends_verification_on_register:
            self.run_in_background(
                self.request_email_verification(user.email), "A verification mail"
            )
        return user

    async def sign_in(
        self,
        user: User,
        device: DeviceInfo,
        *,
        method: str = "password",
        mfa: bool = False,
        amr: tuple[str, ...] = PASSWORD_AMR,
    ) -> LoginResult:
        """The session of a successful login, its ``login.succeeded`` event, and the
        new-device report (``login.new_device`` and its mail) when the account logged in
        before but never from this device: one indexed query, before the session exists."""
        history = await login_history(
            user.id,
            device_id=device.device_id,
            device_name=device.device_name,
            ip_address=device.ip_address,
        )
        session, tokens = await self.start_session(user, device, amr=amr)
        await self.audit(
            "login.succeeded", user_id=user.id, session_id=session.id, method=method, mfa=mfa
        )
        if history.earlier_login and not history.known_device:
            await self.audit(
                "login.new_device",
                user_id=user.id,
                session_id=session.id,
                device_name=device.device_name,
            )
            await self.notify(
                "new_device",
                user.email,
                device_name=device.device_name,
                ip_address=device.ip_address or "unknown",
                time=session.created_at.isoformat(),
            )
        await self.on_after_login(user, session)
        return LoginResult(user, session, tokens)

    async def ensure_superuser(
        self, email: str, password: str
    ) -> Literal["created", "superuser", "not_superuser"]:
        """Create the first superuser if no account has ``email``. Safe to race. Says what it
        found: ``created``, or an existing account that is (or is not) a superuser; an existing
        account is never promoted here (``make_superuser`` does that, for the operator)."""
        email = normalize_email(email)
        existing = await User.filter(email=email).first().values("is_superuser")
        if existing is None:
            try:
                await self.create_user(
                    email=email, password=password, is_superuser=True, is_verified=True
                )
                return "created"
            except errors.EmailTaken:  # another worker or host was first
                existing = await User.filter(email=email).first().values("is_superuser")
        return "superuser" if existing and existing["is_superuser"] else "not_superuser"

    async def has_superuser(self) -> bool:
        return await User.filter(is_superuser=True).exists()

    async def make_superuser(self, email: str, password: str | None = None) -> bool:
        """The operator's way in: create ``email`` as a superuser, or promote and reactivate
        that account (with ``password`` as its new password, if given). True when created.
        """
        user = await User.get_or_none(email=normalize_email(email))
        if user is None:
            if password is None:
                raise errors.NotFound("No account has this email: give a password to create it.")
            created = await self.create_user(
                email=email, password=password, is_superuser=True, is_verified=True
            )
            await self.audit("user.superuser_created", user_id=created.id, via="cli")
            return True
        changes: dict[str, Any] = {"is_superuser": True, "is_active": True}
        if password is not None:
            await self.validate_password(password, user_inputs=(user.email,))
            changes["hashed_password"] = await self.hasher.hash(password)
        async with transaction():
            await self.save_user(user, **changes)
            if password is not None:
                await self.revoke_user_sessions(user.id)
        await self.audit("user.superuser_promoted", user_id=user.id, via="cli")
        return False

    async def update_profile(self, user: User, changes: dict[str, Any]) -> User:
        """Change profile fields. Only a superuser's change (``/admin/users``) carries
        ``email``: the account is then no longer verified unless ``changes`` sets
        ``is_verified``, and the old address gets the "email changed" notice. A user changes
        their own email through :meth:`request_email_change`.
        """
        changes = dict(changes)
        old_email = user.email
        if "email" in changes:
            changes["email"] = normalize_email(changes["email"])
            if changes["email"] == user.email:
                del changes["email"]
            else:
                if await User.filter(email=changes["email"]).exists():
                    raise errors.EmailTaken(field="email")
                changes.setdefault("is_verified", False)
        if not changes:
            return user
        try:
            await self.save_user(user, **changes)
        except IntegrityError:
            raise errors.EmailTaken(field="email") from None
        await self.on_after_update(user, changes)
        if "email" in changes:
            await self.audit(
                "email.changed", user_id=user.id, old_email=old_email, new_email=user.email
            )
            await self.notify("email_changed", old_email, old_email=old_email, new_email=user.email)
        return user

    async def verify_current_password(
        self, user: User, password: str, *, field: str = "current_password"
    ) -> None:
        """Check a credential of a signed-in user; counted by the lockout like a login."""
        await self.reserve_attempt(user.email, None)
        if not await self.hasher.verify(password, user.hashed_password or None):
            await self.audit("password.check_failed", user_id=user.id)
            raise errors.WrongPassword(field=field)
        # With MFA, only a completed second factor clears the attempts.
        if self.lockout is not None and not user.mfa_enabled:
            await self.lockout.succeeded(user.email)

    async def reserve_attempt(self, email: str, device: DeviceInfo | None) -> None:
        """Count an attempt with ``email``'s credentials before checking it (lockout)."""
        if self.lockout is None:
            return
        try:
            await self.lockout.attempt(email)
        except errors.AccountLocked as locked:
            if locked.newly_locked:
                # Rare (once per lock): name the account, so its owner sees the event.
                owner = await User.filter(email=email).first().values_list("id", flat=True)
                await self.audit("account.locked", user_id=owner, email=email)
                await self.on_account_locked(email, device)
            raise

    # --- step-up (re-authentication) ------------------------------------------------------

    def is_fresh(self, session: UserSession, max_age_s: int | None = None) -> bool:
        """Whether the session's latest authentication (its row's ``auth_time``) is at most
        ``max_age_s`` (default ``AUTH_FRESH_AUTH_MAX_AGE_S``) seconds old."""
        max_age = self.settings.fresh_auth_max_age_s if max_age_s is None else max_age_s
        return utcnow() - session.authenticated_at <= timedelta(seconds=max_age)

    async def check_proofs(
        self,
        user: User,
        *,
        password: str | None = None,
        code: str | None = None,
        recovery_code: str | None = None,
        password_field: str = "current_password",
    ) -> tuple[tuple[str, ...], str] | None:
        """Verify every proof present (each counted by the lockout before its check; a wrong
        one raises 403 ``AUTH_WRONG_PASSWORD`` or ``MFA_CODE_INVALID``). The ``amr`` and method
        of a proof that re-authenticates the account, or None: for an account with MFA only a
        code or recovery code does, a password alone does not."""
        proven: tuple[tuple[str, ...], str] | None = None
        if password is not None:
            await self.verify_current_password(user, password, field=password_field)
            if not user.mfa_enabled:
                proven = (PASSWORD_AMR, "password")
        if code is not None or recovery_code is not None:
            await self.mfa.require_second_factor(user, code, recovery_code)
            if self.lockout is not None:
                await self.lockout.succeeded(user.email)
            proven = (("otp",), "totp" if code is not None else "recovery_code")
        return proven

    async def require_step_up(
        self,
        ctx: AuthContext,
        *,
        current_password: str | None = None,
        code: str | None = None,
        recovery_code: str | None = None,
    ) -> None:
        """The rule of every sensitive request: the proofs present are checked; then a proof
        that suffices re-authenticates the session, else the session must be fresh (403
        ``REAUTHENTICATION_REQUIRED``)."""
        proven = await self.check_proofs(
            ctx.user, password=current_password, code=code, recovery_code=recovery_code
        )
        if proven is not None:
            await self.mark_reauthenticated(ctx, *proven)
        elif not self.is_fresh(ctx.session):
            raise errors.ReauthenticationRequired()

    async def mark_reauthenticated(
        self, ctx: AuthContext, amr: tuple[str, ...], method: str
    ) -> datetime:
        """Record a re-authentication of the calling session: its ``auth_time`` is now and its
        ``amr`` the proof's; event ``session.reauthenticated``."""
        now = utcnow()
        await UserSession.filter(id=ctx.session.id).update(
            auth_time=now, amr=" ".join(amr), updated_at=now
        )
        ctx.session.auth_time = now
        ctx.session.amr = " ".join(amr)
        await self.audit(
            "session.reauthenticated", user_id=ctx.user.id, session_id=ctx.session.id, method=method
        )
        return now

    async def reauthenticate(
        self,
        ctx: AuthContext,
        *,
        password: str | None = None,
        code: str | None = None,
        recovery_code: str | None = None,
    ) -> tuple[str, datetime]:
        """``POST /auth/reauthenticate`` with exactly one proof: the session becomes fresh; a
        new access token for it (its new ``auth_time`` and ``amr``) and that time.

        422 for a proof this account cannot use: a password for an account with MFA (or
        without a password), a code for an account without MFA."""
        user = ctx.user
        if password is not None and (user.mfa_enabled or not user.hashed_password):
            why = (
                "This account has two-factor authentication: give a code or recovery_code."
                if user.mfa_enabled
                else "This account has no password."
            )
            raise errors.ValidationFailed([errors.ErrorDetail("VALIDATION_ERROR", why, "password")])
        if (code is not None or recovery_code is not None) and not user.mfa_enabled:
            field = "code" if code is not None else "recovery_code"
            why = "This account has no two-factor authentication: give its password."
            raise errors.ValidationFailed([errors.ErrorDetail("VALIDATION_ERROR", why, field)])
        proven = await self.check_proofs(
            user,
            password=password,
            code=code,
            recovery_code=recovery_code,
            password_field="password",
        )
        if proven is None:  # not reached: the route asks for exactly one proof
            raise errors.ReauthenticationRequired()
        auth_time = await self.mark_reauthenticated(ctx, *proven)
        token = self.codec.issue_access(
            user_id=user.id, session_id=ctx.session.id, auth_time=auth_time, amr=proven[0]
        )
        return token, auth_time

    async def change_password(
        self,
        ctx: AuthContext,
        current_password: str | None,
        new_password: str,
        *,
        code: str | None = None,
        recovery_code: str | None = None,
    ) -> None:
        """Step-up (a fresh session, or a proof in the body), then the new password; every
        other session is revoked."""
        user = ctx.user
        try:
            await self.require_step_up(
                ctx, current_password=current_password, code=code, recovery_code=recovery_code
            )
        except errors.WrongPassword:
            await self.audit("password.change_failed", user_id=user.id, session_id=ctx.session.id)
            raise
        await self.validate_password(
            new_password,
            user_inputs=(user.email, user.first_name, user.last_name),
            field="new_password",
        )
        hashed = await self.hasher.hash(new_password)
        async with transaction():
            await self.save_user(user, hashed_password=hashed)
            revoked = await self.revoke_user_sessions(user.id, keep_session_id=ctx.session.id)
        await self.audit(
            "password.changed", user_id=user.id, session_id=ctx.session.id, sessions_revoked=revoked
        )
        await self.notify("password_changed", user.email)
        await self.on_after_password_change(user)

    async def save_user(self, user: User, **fields: Any) -> None:
        """Save ``fields`` on ``user`` (and on the object), rotating the security stamp when
        they call for it."""
        fields = with_new_stamp(fields)
        for key, value in fields.items():
            setattr(user, key, value)
        await user.save(update_fields=[*fields, "updated_at"])

    async def deactivate(self, user: User) -> int:
        """Deactivate ``user`` and revoke every session; returns how many were revoked.

        Outstanding single-use tokens die with it (a new security stamp), and stay dead if the
        account is reactivated.
        """
        async with transaction():
            await self.save_user(user, is_active=False)
            revoked = await self.revoke_user_sessions(user.id)
        await self.audit("user.deactivated", user_id=user.id, sessions_revoked=revoked)
        return revoked

    async def deactivate_own_account(self, ctx: AuthContext) -> int:
        """``DELETE /users/me``: 409 ``LAST_SUPERUSER`` for the only active superuser."""
        user = ctx.user
        if user.is_superuser:
            async with transaction():
                # Lock the active superusers' rows: two superusers leaving at once cannot
                # both see the other one still active (PostgreSQL; SQLite writes serialize).
                # (values_list() would drop FOR UPDATE: read the rows themselves.)
                superusers = (
                    await User.filter(is_superuser=True, is_active=True)
                    .select_for_update()
                    .only("id")
                )
                if not any(other.id != user.id for other in superusers):
                    raise errors.LastSuperuser()
                return await self.deactivate(user)
        return await self.deactivate(user)

    # --- login, tokens, sessions --------------------------------------------------------

    async def login(
        self, email: str, password: str, device: DeviceInfo
    ) -> LoginResult | MfaChallengeResult:
        """A session, or for an account with MFA the ``mfa_token`` of the second step (no
        session yet; the lockout's attempts are cleared only by the completed second step)."""
        email = normalize_email(email)
        await self.reserve_attempt(email, device)
        user = await User.get_or_none(email=email)
        # An account without a password (made by a social login) costs a dummy check too.
        valid = await self.hasher.verify(password, user.hashed_password or None if user else None)
        if user is None or not valid:
            await self.audit(
                "login.failed", user_id=user.id if user else None, email=email, reason="credentials"
            )
            await self.on_failed_login(email, device)
            raise errors.InvalidCredentials()
        if not user.is_active:
            await self.audit("login.failed", user_id=user.id, reason="inactive")
            raise errors.AccountInactive()
        if self.settings.require_verified_email and not user.is_verified:
            await self.audit("login.failed", user_id=user.id, reason="unverified")
            raise errors.EmailNotVerified()
        if self.hasher.needs_rehash(user.hashed_password):
            await self.rehash(user, password)
        if user.mfa_enabled:  # the counter clears only once the second factor is right
            return await self.mfa.challenge(user, device)
        if self.lockout is not None:
            await self.lockout.succeeded(email)
        return await self.sign_in(user, device)

    # --- session policies (AUTH_MAX_SESSIONS_PER_USER, idle and absolute lifetimes) --------

    def _idle_cutoff(self, now: datetime) -> datetime | None:
        """Sessions last used at or before this are expired (idle timeout), or None."""
        idle = self.settings.session_idle_timeout_s
        return now - timedelta(seconds=idle) if idle else None

    def _born_cutoff(self, now: datetime) -> datetime | None:
        """Sessions created at or before this are past their absolute lifetime, or None."""
        ttl = self.settings.session_absolute_ttl_s
        return now - timedelta(seconds=ttl) if ttl else None

    def _refresh_end(self, created_at: datetime, now: datetime) -> datetime:
        """A new ``expires_at``: a full refresh lifetime, capped by the absolute lifetime."""
        end = now + timedelta(seconds=self.settings.refresh_token_ttl_s)
        if self.settings.session_absolute_ttl_s:
            end = min(end, created_at + timedelta(seconds=self.settings.session_absolute_ttl_s))
        return end

    def is_expired(self, session: UserSession, now: datetime) -> bool:
        """Past ``expires_at``, idle too long, or older than the absolute lifetime."""
        idle, born = self._idle_cutoff(now), self._born_cutoff(now)
        return (
            session.expires_at <= now
            or (idle is not None and session.last_used_at <= idle)
            or (born is not None and session.created_at <= born)
        )

    def _alive(self, now: datetime) -> Q:
        """The query form of ``not is_expired`` (active is checked apart)."""
        condition = Q(expires_at__gt=now)
        idle, born = self._idle_cutoff(now), self._born_cutoff(now)
        if idle is not None:
            condition &= Q(last_used_at__gt=idle)
        if born is not None:
            condition &= Q(created_at__gt=born)
        return condition

    async def rehash(self, user: User, password: str) -> None:
        """Store ``password`` (just verified) under the configured algorithm and costs.

        Not a password change: the security stamp, tokens and sessions stay. A compare-and-swap
        on the old hash, so a password changed meanwhile is never overwritten."""
        old = user.hashed_password
        new = await self.hasher.hash(password)
        if await User.filter(id=user.id, hashed_password=old).update(hashed_password=new):
            user.hashed_password = new
            await self.audit("password.rehashed", user_id=user.id, algorithm=self.hasher.algorithm)

    async def start_session(
        self, user: User, device: DeviceInfo, *, amr: tuple[str, ...] = PASSWORD_AMR
    ) -> tuple[UserSession, TokenPair]:
        """A new session, authenticated now by the methods ``amr``, and its tokens."""
        session_id = uuid4()
        now = utcnow()
        tokens = self.codec.issue_pair(
            user_id=user.id,
            session_id=session_id,
            refresh_jti=new_jti(),
            auth_time=now,
            amr=amr,
            refresh_expires_at=self._refresh_end(now, now),
        )
        limit = self.settings.max_sessions_per_user
        async with transaction():
            if limit:
                # Concurrent logins of one account take turns: each sees the others' rows.
                await User.filter(id=user.id).select_for_update().only("id").first()
            session = await UserSession.create(
                id=session_id,
                user=user,
                refresh_token_jti=tokens.refresh_jti,
                device_name=device.device_name,
                device_id=device.device_id,
                ip_address=device.ip_address,
                user_agent=device.user_agent,
                last_used_at=now,
                expires_at=tokens.refresh_expires_at,
                auth_time=now,
                amr=" ".join(amr),
            )
            evicted = await self._evict_beyond(limit, user.id, now) if limit else []
        for evicted_id in evicted:
            await self.audit("session.evicted", user_id=user.id, session_id=evicted_id)
        return session, tokens

    async def _evict_beyond(self, limit: int, user_id: UUID, now: datetime) -> list[UUID]:
        """Revoke the account's active sessions beyond the ``limit`` most recently used."""
        ranked = (
            await UserSession.filter(self._alive(now), user_id=user_id, is_active=True)
            .order_by("-last_used_at", "-created_at", "-id")
            .values_list("id", flat=True)
        )
        evicted = [UUID(str(session_id)) for session_id in ranked[limit:]]
        if evicted:
            await UserSession.filter(id__in=evicted, is_active=True).update(
                is_active=False, updated_at=now
            )
        return evicted

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate the refresh token: an atomic compare-and-swap on the stored ``jti``.

        Of several refreshes with one token exactly one wins. A token that no longer
        matches an active session's ``jti`` is reuse (RFC 9700 §4.14): the session is revoked —
        except, within ``AUTH_REFRESH_REUSE_GRACE_S`` of a rotation, the token that rotation
        replaced (a retried request, a second tab): it gets the session's current ``jti``.
        """
        claims = self.codec.decode(refresh_token, "refresh")
        now = utcnow()
        # The row the compare-and-swap below rotates: the new access token mirrors its
        # authentication (a re-authentication in between only makes this one look older).
        row = (
            await UserSession.filter(id=claims.session_id, user_id=claims.user_id)
            .first()
            .values("created_at", "auth_time", "amr")
        )
        if row is None:
            raise errors.InvalidToken()
        refresh_end = None
        if self.settings.session_absolute_ttl_s:
            refresh_end = self._refresh_end(row["created_at"], now)
        tokens = self.codec.issue_pair(
            user_id=claims.user_id,
            session_id=claims.session_id,
            refresh_jti=new_jti(),
            auth_time=row["auth_time"] or row["created_at"],
            amr=tuple(row["amr"].split()),
            refresh_expires_at=refresh_end,
        )
        swapped = await UserSession.filter(
            self._alive(now),
            id=claims.session_id,
            user_id=claims.user_id,
            refresh_token_jti=claims.jti,
            is_active=True,
            # Defence in depth: deactivation revokes sessions, and an inactive user's
            # session still never rotates.
            user_id__in=Subquery(User.filter(id=claims.user_id, is_active=True).values("id")),
        ).update(
            refresh_token_jti=tokens.refresh_jti,
            previous_refresh_jti=claims.jti,
            rotated_at=now,
            last_used_at=now,
            expires_at=tokens.refresh_expires_at,
            updated_at=now,
        )
        if swapped == 1:
            await self.audit(
                "token.refreshed", user_id=claims.user_id, session_id=claims.session_id
            )
            return tokens
        if self.settings.refresh_reuse_grace_s:
            graced = await self._refresh_within_grace(claims, now)
            if graced is not None:
                return graced
        revoked = (
            await UserSession.filter(id=claims.session_id, is_active=True)
            .exclude(refresh_token_jti=claims.jti)
            .update(is_active=False, updated_at=now)
        )
        if revoked:
            await self.audit(
                "token.reuse_detected", user_id=claims.user_id, session_id=claims.session_id
            )
            await self.on_refresh_token_reuse(claims.session_id, claims.user_id)
            raise errors.TokenReused()
        raise errors.InvalidToken()

    async def _refresh_within_grace(self, claims: TokenClaims, now: datetime) -> TokenPair | None:
        """Tokens for the session's current ``jti`` when ``claims`` is the token its latest
        rotation replaced, less than the grace ago; no rotation, ``expires_at`` unchanged."""
        grace = timedelta(seconds=self.settings.refresh_reuse_grace_s)
        current = (
            await UserSession.filter(
                self._alive(now),
                id=claims.session_id,
                user_id=claims.user_id,
                previous_refresh_jti=claims.jti,
                rotated_at__gte=now - grace,
                is_active=True,
                user_id__in=Subquery(User.filter(id=claims.user_id, is_active=True).values("id")),
            )
            .first()
            .values("refresh_token_jti", "expires_at", "auth_time", "amr", "created_at")
        )
        if current is None:
            return None
        await self.audit(
            "token.refresh_grace", user_id=claims.user_id, session_id=claims.session_id
        )
        return self.codec.issue_pair(
            user_id=claims.user_id,
            session_id=claims.session_id,
            refresh_jti=current["refresh_token_jti"],
            auth_time=current["auth_time"] or current["created_at"],
            amr=tuple(current["amr"].split()),
            refresh_expires_at=current["expires_at"],
        )

    async def authenticate(self, access_token: str) -> AuthContext:
        """The user and session of an access token, in one indexed query (session JOIN user)."""
        claims = self.codec.decode(access_token, "access")
        now = utcnow()
        session = await active_session_with_user(claims.session_id, claims.user_id)
        if session is None or self.is_expired(session, now):
            raise errors.InvalidToken()
        touch_after = session.last_used_at + timedelta(
            seconds=self.settings.session_touch_interval_s
        )
        if now >= touch_after:
            session.last_used_at = now
            await UserSession.filter(id=session.id).update(last_used_at=now)
        return AuthContext(user=session.user, session=session)

    async def logout(self, ctx: AuthContext, refresh_token: str) -> None:
        """End the session of ``refresh_token`` if it is the caller's; otherwise no change."""
        try:
            claims = self.codec.decode(refresh_token, "refresh")
        except errors.InvalidToken:
            return
        if claims.user_id != ctx.user.id:
            return
        ended = await UserSession.filter(
            id=claims.session_id, user_id=ctx.user.id, is_active=True
        ).update(is_active=False, updated_at=utcnow())
        if ended:
            await self.audit(
                "session.logged_out", user_id=ctx.user.id, session_id=claims.session_id
            )

    async def logout_all(self, ctx: AuthContext) -> int:
        revoked = await self.revoke_user_sessions(ctx.user.id)
        await self.audit(
            "session.logged_out_all", user_id=ctx.user.id, session_id=ctx.session.id, count=revoked
        )
        return revoked

    async def revoke_user_sessions(
        self, user_id: UUID, *, keep_session_id: UUID | None = None
    ) -> int:
        query = UserSession.filter(user_id=user_id, is_active=True)
        if keep_session_id is not None:
            query = query.exclude(id=keep_session_id)
        return await query.update(is_active=False, updated_at=utcnow())

    async def list_sessions(
        self, user_id: UUID, current_id: UUID | None = None
    ) -> list[UserSession]:
        """Active sessions: ``current_id`` first (in use now, whatever its stored
        ``last_used_at``), then by ``last_used_at``, ``created_at`` (newest first), ``id``."""
        sessions: list[UserSession] = (
            await UserSession.filter(self._alive(utcnow()), user_id=user_id, is_active=True)
            .order_by("-last_used_at", "-created_at", "id")
            .limit(MAX_LISTED_SESSIONS)
        )
        current = [s for s in sessions if s.id == current_id]
        return current + [s for s in sessions if s.id != current_id]

    async def revoke_session(self, ctx: AuthContext, session_id: UUID) -> UserSession:
        session = await UserSession.get_or_none(id=session_id)
        if session is None:
            raise errors.NotFound("Session not found.")
        if session.user_id != ctx.user.id:
            raise errors.PermissionDenied("This session belongs to another user.")
        await UserSession.filter(id=session_id).update(is_active=False, updated_at=utcnow())
        await self.audit("session.revoked", user_id=ctx.user.id, session_id=session_id)
        return session

    async def revoke_other_sessions(self, ctx: AuthContext) -> int:
        """Revoke every other active session of the caller; the calling one stays."""
        revoked = await self.revoke_user_sessions(ctx.user.id, keep_session_id=ctx.session.id)
        await self.audit(
            "session.revoked_others", user_id=ctx.user.id, session_id=ctx.session.id, count=revoked
        )
        return revoked

    async def delete_expired_sessions(self, ctx: AuthContext) -> int:
        """Delete the caller's revoked or expired (idle, absolute lifetime) sessions."""
        return (
            await UserSession.filter(
                Q(is_active=False) | ~self._alive(utcnow()), user_id=ctx.user.id
            )
            .exclude(id=ctx.session.id)
            .delete()
        )

    # --- password reset -----------------------------------------------------------------

    async def forgot_password(self, email: str) -> None:
        """Mail a reset token to an active account; silently nothing for any other email.

        The routes run it after answering (:meth:`run_in_background`), so the answer costs
        the same for every email.
        """
        user = await User.get_or_none(email=normalize_email(email), is_active=True)
        if user is None:
            return
        token = secrets.token_urlsafe(32)
        await PasswordResetToken.create(
            user=user,
            token_hash=hash_reset_token(token),
            security_stamp=user.security_stamp,
            expires_at=utcnow() + timedelta(seconds=self.settings.password_reset_ttl_s),
        )
        await self.mailer.send_password_reset(user.email, token)
        await self.audit("password.reset_requested", user_id=user.id)
        await self.on_after_forgot_password(user, token)

    async def reset_password(self, token: str, new_password: str) -> User:
        now = utcnow()
        reset = (
            await PasswordResetToken.filter(
                token_hash=hash_reset_token(token), used_at__isnull=True, expires_at__gt=now
            )
            .select_related("user")
            .first()
        )
        if (
            reset is None
            or not reset.user.is_active
            or reset.security_stamp != reset.user.security_stamp
        ):
            raise InvalidResetToken(field="token")
        user = reset.user
        await self.validate_password(
            new_password,
            user_inputs=(user.email, user.first_name, user.last_name),
            field="new_password",
        )
        hashed = await self.hasher.hash(new_password)
        async with transaction():
            claimed = await PasswordResetToken.filter(id=reset.id, used_at__isnull=True).update(
                used_at=now
            )
            # The stamp must still be the token's: an email or password change, or a
            # deactivation, since the lookup above ends the token too.
            changed = await User.filter(
                id=user.id, is_active=True, security_stamp=reset.security_stamp
            ).update(**with_new_stamp({"hashed_password": hashed}), updated_at=now)
            if claimed != 1 or changed != 1:  # a concurrent confirm or change came first
                raise InvalidResetToken(field="token")
            revoked = await self.revoke_user_sessions(user.id)
        await self.audit("password.reset", user_id=user.id, sessions_revoked=revoked)
        await self.notify("password_reset", user.email)
        await self.on_after_reset_password(user)
        return user

    # --- email verification and email change ----------------------------------------------

    async def request_email_verification(self, email: str) -> None:
        """Mail a verification token to an active, unverified account; silently nothing for
        any other email, and when a verification message went to this address less than
        ``VERIFICATION_MAIL_INTERVAL_S`` ago.

        The routes run it after answering (:meth:`run_in_background`), so the answer costs
        the same for every email.
        """
        email = normalize_email(email)
        now = utcnow()
        async with transaction():
            # The account's row, locked: two requests at once for one address (PostgreSQL)
            # cannot both find no recent message. SQLite writes serialize anyway.
            user = (
                await User.filter(email=email, is_active=True, is_verified=False)
                .select_for_update()
                .first()
            )
            if user is None:
                return
            recent = now - timedelta(seconds=VERIFICATION_MAIL_INTERVAL_S)
            if await EmailToken.filter(
                email=email, purpose=EmailTokenPurpose.VERIFY, created_at__gt=recent
            ).exists():
                return
            token = secrets.token_urlsafe(32)
            await EmailToken.create(
                user=user,
                purpose=EmailTokenPurpose.VERIFY,
                token_hash=hash_reset_token(token),
                email=email,
                security_stamp=user.security_stamp,
                expires_at=now + timedelta(seconds=self.settings.email_verification_ttl_s),
            )
        await deliver(self.mailer, "email_verification", email, token=token)

    async def confirm_email_verification(self, token: str) -> User:
        """Mark the token's account verified. The token must be unused, unexpired, made for
        the account's current address and state (its security stamp), of an active account
        not verified yet; otherwise 400 ``VERIFICATION_TOKEN_INVALID``. No session is made."""
        now = utcnow()
        found = (
            await EmailToken.filter(
                token_hash=hash_reset_token(token),
                purpose=EmailTokenPurpose.VERIFY,
                used_at__isnull=True,
                expires_at__gt=now,
            )
            .select_related("user")
            .first()
        )
        if (
            found is None
            or not found.user.is_active
            or found.user.is_verified
            or found.security_stamp != found.user.security_stamp
            or found.email != found.user.email
        ):
            raise errors.VerificationTokenInvalid(field="token")
        user = found.user
        async with transaction():
            claimed = await EmailToken.filter(id=found.id, used_at__isnull=True).update(used_at=now)
            verified = await User.filter(
                id=user.id,
                is_active=True,
                is_verified=False,
                email=found.email,
                security_stamp=found.security_stamp,
            ).update(is_verified=True, updated_at=now)
            if claimed != 1 or verified != 1:  # a concurrent confirm or change came first
                raise errors.VerificationTokenInvalid(field="token")
        user.is_verified = True
        await self.audit("email.verified", user_id=user.id)
        return user

    async def request_email_change(
        self,
        ctx: AuthContext,
        new_email: str,
        current_password: str | None = None,
        *,
        code: str | None = None,
        recovery_code: str | None = None,
    ) -> None:
        """Store a pending change to ``new_email`` (replacing any earlier one) and mail its
        token to ``new_email`` and a notice to the current address, after the answer.

        Step-up (a fresh session, or a proof in the body; the proofs are counted by the
        lockout) before anything says whether ``new_email`` is taken. Nothing about the account
        changes until the confirmation.
        """
        user = ctx.user
        new_email = normalize_email(new_email)
        await self.require_step_up(
            ctx, current_password=current_password, code=code, recovery_code=recovery_code
        )
        if await User.filter(email=new_email).exists():
            raise errors.EmailTaken(field="new_email")
        token = secrets.token_urlsafe(32)
        now = utcnow()
        async with transaction():
            # Locked (PostgreSQL): of two requests at once, one pending change remains.
            current = await User.filter(id=user.id).select_for_update().first()
            if current is None:
                raise errors.InvalidToken()
            await EmailToken.filter(user_id=user.id, purpose=EmailTokenPurpose.CHANGE).delete()
            await EmailToken.create(
                user_id=user.id,
                purpose=EmailTokenPurpose.CHANGE,
                token_hash=hash_reset_token(token),
                email=new_email,
                security_stamp=current.security_stamp,
                expires_at=now + timedelta(seconds=self.settings.email_change_ttl_s),
            )
        await self.audit(
            "email.change_requested",
            user_id=user.id,
            session_id=ctx.session.id,
            new_email=new_email,
        )
        self.run_in_background(
            self._mail_email_change(user.email, new_email, token), "An email-change request"
        )

    async def _mail_email_change(self, current_email: str, new_email: str, token: str) -> None:
        await deliver(self.mailer, "email_change_confirm", new_email, token=token)
        await deliver(
            self.mailer, "email_change_requested", current_email, data={"new_email": new_email}
        )

    async def confirm_email_change(self, token: str) -> User:
        """Make the token's address the account's: verified, a new security stamp (every
        other token of the account dies), sessions kept; the old address gets a notice.

        400 ``EMAIL_CHANGE_TOKEN_INVALID`` for a token that is unknown, used, expired,
        replaced or outdated. 409 ``EMAIL_TAKEN`` when another account has the address by
        now; the token is spent all the same (of two accounts confirming one address at
        once, the unique email lets exactly one win).
        """
        now = utcnow()
        found = (
            await EmailToken.filter(
                token_hash=hash_reset_token(token),
                purpose=EmailTokenPurpose.CHANGE,
                used_at__isnull=True,
                expires_at__gt=now,
            )
            .select_related("user")
            .first()
        )
        if (
            found is None
            or not found.user.is_active
            or found.security_stamp != found.user.security_stamp
        ):
            raise errors.EmailChangeTokenInvalid(field="token")
        user = found.user
        # Claimed on its own: a 409 below leaves the token spent.
        claimed = await EmailToken.filter(id=found.id, used_at__isnull=True).update(used_at=now)
        if claimed != 1:
            raise errors.EmailChangeTokenInvalid(field="token")
        if await User.filter(email=found.email).exclude(id=user.id).exists():
            raise errors.EmailTaken()
        old_email = user.email
        fields = with_new_stamp({"email": found.email, "is_verified": True})
        try:
            # One statement: the address, the verification and the new stamp together, and
            # only while the account is still in the state the token was made for.
            changed = await User.filter(
                id=user.id, is_active=True, security_stamp=found.security_stamp
            ).update(**fields, updated_at=now)
        except IntegrityError:  # another account took the address a moment ago
            raise errors.EmailTaken() from None
        if changed != 1:
            raise errors.EmailChangeTokenInvalid(field="token")
        for key, value in fields.items():
            setattr(user, key, value)
        user.updated_at = now
        await self.audit(
            "email.changed", user_id=user.id, old_email=old_email, new_email=user.email
        )
        await self.on_after_update(user, {"email": user.email, "is_verified": True})
        await self.notify("email_changed", old_email, old_email=old_email, new_email=user.email)
        return user

    # --- work after the answer ------------------------------------------------------------

    def run_in_background(self, work: Coroutine[Any, Any, object], what: str) -> None:
        """Run ``work`` after the current request was answered; a failure is logged at ERROR
        (``what`` names it) and never reaches a client."""

        async def guarded() -> None:
            try:
                await work
            except Exception as exc:
                logger.error("%s failed: %s", what, type(exc).__name__, exc_info=exc)

        task = asyncio.get_running_loop().create_task(guarded())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def wait_for_background(self, timeout_s: float = 10.0) -> None:
        """Let work started by :meth:`run_in_background` finish (at shutdown, and in tests)."""
        if self._background:
            await asyncio.wait(set(self._background), timeout=timeout_s)
