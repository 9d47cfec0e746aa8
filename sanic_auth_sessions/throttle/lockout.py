"""Account lockout: too many attempts with one account's credentials lock it for a while.

One counter per normalized email counts **attempts**, atomically and **before** the credential
is checked; it expires ``AUTH_LOCKOUT_WINDOW_S`` after its first attempt. An attempt that brings
it above ``AUTH_LOCKOUT_MAX_FAILURES``, or that arrives while the email is locked, is refused
(429 ``ACCOUNT_LOCKED``) without a check and locks the email for ``AUTH_LOCKOUT_WINDOW_S`` from
that moment. A successful check resets the counter. So N concurrent guesses never get more than
``AUTH_LOCKOUT_MAX_FAILURES`` checks per window, with memory and Redis storage alike (the
increment is one atomic storage operation).

Counts are keyed by the normalized email (not the IP), so they hold across IPs and, with
``redis://`` storage, across workers and hosts; unknown emails are counted like known ones, so
locking reveals nothing about which accounts exist. Independent of ``AUTH_RATE_LIMIT_ENABLED``;
storage errors follow ``AUTH_RATE_LIMIT_FAIL_OPEN`` like the rate limits.

The flow, for logins and every other check of an account's credential (a current password on
an authenticated route): ``await lockout.attempt(email)`` before checking, then
``await lockout.succeeded(email)`` when the credential was right.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from limits.aio.storage import Storage

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.core.emails import normalize_email
from sanic_auth_sessions.throttle.ratelimit import create_storage
from sanic_auth_sessions.throttle.storage_guard import StorageGuard, StorageSkipped


class LoginLockout:
    """Attempt counter and lock per email; a no-op when ``AUTH_LOCKOUT_ENABLED`` is false.

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

    async def attempt(self, email: str) -> None:
        """Count one attempt for ``email`` before its check; raise ``errors.AccountLocked``
        when the email is locked or this attempt is one too many.

        Returns normally when the check may go ahead.
        """
        if not self.enabled:
            return
        lock_key, attempts_key = self._lock_key(email), self._attempts_key(email)
        try:
            already_locked = bool(await self.guard.call(self.storage.get, lock_key))
            if not already_locked:
                # Never cleared when the lock is set (a concurrent attempt would then find a
                # fresh count): it expires before the lock does, a window after its first.
                attempts = await self.guard.call(self.storage.incr, attempts_key, self.window_s)
                if attempts <= self.max_failures:
                    return
            # (Re)lock for a whole window from now.
            await self.guard.call(self.storage.clear, lock_key)
            await self.guard.call(self.storage.incr, lock_key, self.window_s)
        except StorageSkipped:
            return
        raise errors.AccountLocked(self.window_s, newly_locked=not already_locked)

    async def succeeded(self, email: str) -> None:
        """The credential was right: forget the attempts of ``email``."""
        if not self.enabled:
            return
        with contextlib.suppress(StorageSkipped):
            await self.guard.call(self.storage.clear, self._attempts_key(email))

    async def close(self) -> None:
        if self._close is not None:
            await self._close()
            self._close = None

    @staticmethod
    def _attempts_key(email: str) -> str:
        return f"auth:lockout:attempts:{normalize_email(email)}"

    @staticmethod
    def _lock_key(email: str) -> str:
        return f"auth:lockout:locked:{normalize_email(email)}"
