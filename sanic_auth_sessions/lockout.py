"""Account lockout: too many failed logins for one email locks it for a while.

``AUTH_LOCKOUT_MAX_FAILURES`` failures within ``AUTH_LOCKOUT_WINDOW_S`` seconds of the first
one lock the email for ``AUTH_LOCKOUT_WINDOW_S`` seconds from the locking failure. Counts are
keyed by the normalized email (not the IP), so they hold across IPs and, with ``redis://``
storage, across workers. Independent of ``AUTH_RATE_LIMIT_ENABLED``; storage errors follow
``AUTH_RATE_LIMIT_FAIL_OPEN`` like the rate limits.

The login flow: ``await lockout.check(email)`` before checking the password;
``record_failure(email)`` on a wrong password or unknown email (so locking reveals nothing
about which accounts exist); ``reset(email)`` after a successful login.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from limits.aio.storage import Storage
from sanic import Sanic

from . import errors
from .config import AuthSettings
from .manager import normalize_email
from .ratelimit import RateLimiter, create_storage
from .storage_guard import StorageGuard, StorageSkipped

LOCKED_CODE = "ACCOUNT_LOCKED"


class LoginLockout:
    """Failed-login counter and lock per email; a no-op when ``AUTH_LOCKOUT_ENABLED`` is false.

    Build it inside the running event loop; without ``storage`` it opens its own from
    ``AUTH_RATE_LIMIT_STORAGE_URL`` and ``close()`` releases it.
    """

    def __init__(
        self,
        settings: AuthSettings,
        storage: Storage | None = None,
        guard: StorageGuard | None = None,
    ) -> None:
        self.settings = settings
        self.enabled = settings.lockout_enabled
        self.max_failures = settings.lockout_max_failures
        self.window_s = settings.lockout_window_s
        self._close: Callable[[], Awaitable[None]] | None = None
        if storage is None:
            storage, self._close = create_storage(settings.rate_limit_storage_url)
        self.storage: Storage = storage
        self.guard = guard or StorageGuard(settings, "Login-lockout")

    async def check(self, email: str) -> None:
        """Raise ``errors.RateLimited`` (code ``ACCOUNT_LOCKED``) while ``email`` is locked."""
        if not self.enabled:
            return
        lock_key = self._lock_key(email)
        try:
            if not await self.guard.call(self.storage.get, lock_key):
                return
            unlocks_at = await self.guard.call(self.storage.get_expiry, lock_key)
        except StorageSkipped:
            return
        retry_after_s = max(1, math.ceil(unlocks_at - time.time()))
        minutes = math.ceil(retry_after_s / 60)
        raise errors.RateLimited(
            retry_after_s,
            "Too many failed sign-in attempts: this account is locked. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
            code=LOCKED_CODE,
        )

    async def record_failure(self, email: str) -> bool:
        """Count one failed login; True exactly when this failure locks the account."""
        if not self.enabled:
            return False
        failures_key = self._failures_key(email)
        try:
            failures = await self.guard.call(self.storage.incr, failures_key, self.window_s)
            if failures != self.max_failures:
                return False
            await self.guard.call(self.storage.incr, self._lock_key(email), self.window_s)
            # A fresh count once the lock expires, so the account can lock again.
            await self.guard.call(self.storage.clear, failures_key)
        except StorageSkipped:
            return False
        return True

    async def reset(self, email: str) -> None:
        """Forget the failures of ``email`` (and any lock), after a successful login."""
        if not self.enabled:
            return
        try:
            await self.guard.call(self.storage.clear, self._failures_key(email))
            await self.guard.call(self.storage.clear, self._lock_key(email))
        except StorageSkipped:
            pass

    async def close(self) -> None:
        if self._close is not None:
            await self._close()
            self._close = None

    @staticmethod
    def _failures_key(email: str) -> str:
        return f"auth:lockout:failures:{normalize_email(email)}"

    @staticmethod
    def _lock_key(email: str) -> str:
        return f"auth:lockout:locked:{normalize_email(email)}"


def install_lockout(app: Sanic[Any, Any], settings: AuthSettings) -> None:
    """Create ``app.ctx.auth_lockout`` per worker at ``before_server_start``.

    Sets ``app.ctx.auth_settings`` unless it is already there. Call it after
    ``install_rate_limiting`` so both share the rate limiter's storage and its guard (one Redis
    pool, one time budget and one circuit breaker per worker); called first or alone, the
    lockout opens its own storage.
    """
    if getattr(app.ctx, "auth_settings", None) is None:
        app.ctx.auth_settings = settings

    async def open_lockout(app: Sanic[Any, Any]) -> None:
        limiter: RateLimiter | None = getattr(app.ctx, "auth_rate_limiter", None)
        storage = limiter.storage if limiter is not None else None
        guard = limiter.guard if limiter is not None else None
        app.ctx.auth_lockout = LoginLockout(app.ctx.auth_settings, storage, guard)

    async def close_lockout(app: Sanic[Any, Any]) -> None:
        lockout: LoginLockout | None = getattr(app.ctx, "auth_lockout", None)
        if lockout is not None:
            await lockout.close()

    app.register_listener(open_lockout, "before_server_start")
    app.register_listener(close_lockout, "after_server_stop")
