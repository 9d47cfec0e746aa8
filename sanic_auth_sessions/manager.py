"""Business rules of accounts and sessions. No HTTP here: domain errors and hooks only.

Host apps customise behaviour by subclassing :class:`UserManager` and overriding the
``on_*`` hook methods, then passing the class to the extension.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from . import errors
from .audit import AuditEvent, log_event, new_event
from .config import AuthSettings
from .database import active_session_with_user, transaction
from .devices import DeviceInfo
from .mailer import Mailer
from .models import PasswordResetToken, User, UserSession
from .passwords import PasswordHasher
from .tokens import TokenCodec, TokenPair, new_jti

if TYPE_CHECKING:
    from .lockout import LoginLockout


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


def normalize_email(email: str) -> str:
    return email.strip().lower()


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
        event = new_event(name, user_id=user_id, session_id=session_id, **data)
        log_event(event)
        await self.on_audit_event(event)

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
        return user

    async def ensure_superuser(self, email: str, password: str) -> bool:
        """Create the first superuser if missing; True when created. Safe to race."""
        if await User.filter(email=normalize_email(email)).exists():
            return False
        try:
            await self.create_user(email=email, password=password, is_superuser=True)
        except errors.EmailTaken:
            return False
        return True

    async def update_profile(self, user: User, changes: dict[str, Any]) -> User:
        if "email" in changes:
            changes["email"] = normalize_email(changes["email"])
            if changes["email"] == user.email:
                del changes["email"]
            elif await User.filter(email=changes["email"]).exists():
                raise errors.EmailTaken(field="email")
        if not changes:
            return user
        for key, value in changes.items():
            setattr(user, key, value)
        try:
            await user.save(update_fields=[*changes, "updated_at"])
        except IntegrityError:
            raise errors.EmailTaken(field="email") from None
        await self.on_after_update(user, changes)
        return user

    async def change_password(
        self, ctx: AuthContext, current_password: str, new_password: str
    ) -> None:
        user = ctx.user
        if not await self.hasher.verify(current_password, user.hashed_password):
            await self.audit("password.change_failed", user_id=user.id, session_id=ctx.session.id)
            raise errors.WrongPassword(field="current_password")
        await self.validate_password(
            new_password,
            user_inputs=(user.email, user.first_name, user.last_name),
            field="new_password",
        )
        user.hashed_password = await self.hasher.hash(new_password)
        async with transaction():
            await user.save(update_fields=["hashed_password", "updated_at"])
            revoked = await self.revoke_user_sessions(user.id, keep_session_id=ctx.session.id)
        await self.audit(
            "password.changed", user_id=user.id, session_id=ctx.session.id, sessions_revoked=revoked
        )
        await self.on_after_password_change(user)

    async def deactivate(self, user: User) -> int:
        """Deactivate ``user`` and revoke every session; returns how many were revoked."""
        async with transaction():
            await User.filter(id=user.id).update(is_active=False, updated_at=utcnow())
            revoked = await self.revoke_user_sessions(user.id)
        user.is_active = False
        await self.audit("user.deactivated", user_id=user.id, sessions_revoked=revoked)
        return revoked

    # --- login, tokens, sessions --------------------------------------------------------

    async def login(self, email: str, password: str, device: DeviceInfo) -> LoginResult:
        email = normalize_email(email)
        if self.lockout is not None:
            await self.lockout.check(email)
        user = await User.get_or_none(email=email)
        valid = await self.hasher.verify(password, user.hashed_password if user else None)
        if user is None or not valid:
            await self._login_failed(email, device)
            raise errors.InvalidCredentials()
        if not user.is_active:
            await self.audit("login.failed", user_id=user.id, reason="inactive")
            raise errors.AccountInactive()
        if self.lockout is not None:
            await self.lockout.reset(email)
        session, tokens = await self.start_session(user, device)
        await self.audit("login.succeeded", user_id=user.id, session_id=session.id)
        await self.on_after_login(user, session)
        return LoginResult(user, session, tokens)

    async def _login_failed(self, email: str, device: DeviceInfo) -> None:
        locked = self.lockout is not None and await self.lockout.record_failure(email)
        await self.audit("login.failed", email=email, reason="credentials")
        await self.on_failed_login(email, device)
        if locked:
            await self.audit("account.locked", email=email)
            await self.on_account_locked(email, device)

    async def start_session(self, user: User, device: DeviceInfo) -> tuple[UserSession, TokenPair]:
        session_id = uuid4()
        tokens = self.codec.issue_pair(
            user_id=user.id, session_id=session_id, refresh_jti=new_jti()
        )
        session = await UserSession.create(
            id=session_id,
            user=user,
            refresh_token_jti=tokens.refresh_jti,
            device_name=device.device_name,
            device_id=device.device_id,
            ip_address=device.ip_address,
            user_agent=device.user_agent,
            last_used_at=utcnow(),
            expires_at=tokens.refresh_expires_at,
        )
        return session, tokens

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate the refresh token: an atomic compare-and-swap on the stored ``jti``.

        Of several refreshes with one token exactly one wins. A token that no longer
        matches an active session's ``jti`` is reuse (RFC 9700 §4.14): the session is revoked.
        """
        claims = self.codec.decode(refresh_token, "refresh")
        tokens = self.codec.issue_pair(
            user_id=claims.user_id, session_id=claims.session_id, refresh_jti=new_jti()
        )
        now = utcnow()
        swapped = await UserSession.filter(
            id=claims.session_id,
            user_id=claims.user_id,
            refresh_token_jti=claims.jti,
            is_active=True,
            expires_at__gt=now,
        ).update(
            refresh_token_jti=tokens.refresh_jti,
            last_used_at=now,
            expires_at=tokens.refresh_expires_at,
            updated_at=now,
        )
        if swapped == 1:
            await self.audit(
                "token.refreshed", user_id=claims.user_id, session_id=claims.session_id
            )
            return tokens
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

    async def authenticate(self, access_token: str) -> AuthContext:
        """The user and session of an access token, in one indexed query (session JOIN user)."""
        claims = self.codec.decode(access_token, "access")
        now = utcnow()
        session = await active_session_with_user(claims.session_id, claims.user_id)
        if session is None or session.expires_at <= now:
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

    async def list_sessions(self, user_id: UUID) -> list[UserSession]:
        return (
            await UserSession.filter(user_id=user_id, is_active=True, expires_at__gt=utcnow())
            .order_by("-last_used_at")
            .limit(1000)
        )

    async def revoke_session(self, ctx: AuthContext, session_id: UUID) -> None:
        session = await UserSession.get_or_none(id=session_id)
        if session is None:
            raise errors.NotFound("Session not found.")
        if session.user_id != ctx.user.id:
            raise errors.PermissionDenied("This session belongs to another user.")
        await UserSession.filter(id=session_id).update(is_active=False, updated_at=utcnow())
        await self.audit("session.revoked", user_id=ctx.user.id, session_id=session_id)

    async def delete_expired_sessions(self, ctx: AuthContext) -> int:
        return (
            await UserSession.filter(
                Q(is_active=False) | Q(expires_at__lte=utcnow()), user_id=ctx.user.id
            )
            .exclude(id=ctx.session.id)
            .delete()
        )

    # --- password reset -----------------------------------------------------------------

    async def forgot_password(self, email: str) -> None:
        """Mail a reset token to an active account; silently nothing for any other email."""
        user = await User.get_or_none(email=normalize_email(email), is_active=True)
        if user is None:
            return
        token = secrets.token_urlsafe(32)
        await PasswordResetToken.create(
            user=user,
            token_hash=hash_reset_token(token),
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
        if reset is None or not reset.user.is_active:
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
            if claimed != 1:  # a concurrent confirm used it first
                raise InvalidResetToken(field="token")
            await PasswordResetToken.filter(user_id=user.id, used_at__isnull=True).update(
                used_at=now
            )
            await User.filter(id=user.id).update(hashed_password=hashed, updated_at=now)
            revoked = await self.revoke_user_sessions(user.id)
        await self.audit("password.reset", user_id=user.id, sessions_revoked=revoked)
        await self.on_after_reset_password(user)
        return user
