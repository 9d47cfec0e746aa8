"""The extension's objects of one worker, built in one place and reached through one accessor.

``start_runtime`` builds an :class:`AuthRuntime` at ``before_server_start`` (the extension calls
it from its start listener, after the database is up) and ``auth_runtime(request_or_app)``
returns it. Nothing is built per request: the services are made once per worker.

``app.ctx.auth_settings`` and ``app.ctx.auth_manager`` stay available to hosts as aliases of
``auth_runtime(app).settings`` and ``auth_runtime(app).manager``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from limits.aio.storage import Storage
from sanic import Request, Sanic

from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.core.csrf import CsrfTokens
from sanic_auth_sessions.core.passwords import PasswordHasher, hasher_for
from sanic_auth_sessions.services.admin import AdminService
from sanic_auth_sessions.services.mailer import ConsoleMailer, Mailer
from sanic_auth_sessions.services.manager import UserManager
from sanic_auth_sessions.services.organizations import OrganizationService
from sanic_auth_sessions.throttle.lockout import LoginLockout
from sanic_auth_sessions.throttle.ratelimit import RateLimiter, create_storage
from sanic_auth_sessions.throttle.storage_guard import StorageGuard, start_request_budget

RUNTIME_ATTRIBUTE = "auth_runtime"  # on ``app.ctx``


@dataclass(eq=False, kw_only=True)
class AuthRuntime:
    """Everything the extension keeps per worker.

    The rate limiter and the lockout share one counter storage and one :class:`StorageGuard`
    (one Redis pool, one time budget per request and one circuit breaker per worker).
    """

    settings: AuthSettings
    storage: Storage  # the counters of the rate limits and the lockout
    storage_guard: StorageGuard
    limiter: RateLimiter
    lockout: LoginLockout
    hasher: PasswordHasher
    mailer: Mailer
    manager: UserManager
    organizations: OrganizationService
    admin: AdminService
    csrf: CsrfTokens  # the cookie transport's CSRF tokens
    cleanup_task: asyncio.Task[None] | None = None  # the periodic cleanup, once started
    close_storage: Callable[[], Awaitable[None]] | None = field(default=None, repr=False)

    @classmethod
    def build(
        cls,
        settings: AuthSettings,
        *,
        manager_class: type[UserManager] = UserManager,
        mailer: Mailer | None = None,
    ) -> AuthRuntime:
        """Build the objects in their order; call it inside the running event loop."""
        storage, close_storage = create_storage(settings.rate_limit_storage_url)
        guard = StorageGuard(settings, "Rate-limit")
        limiter = RateLimiter(settings, storage, guard)
        lockout = LoginLockout(settings, storage, guard)
        hasher = hasher_for(settings, settings.hashing_threads)
        mailer = mailer or ConsoleMailer()
        manager = manager_class(settings, hasher=hasher, mailer=mailer, lockout=lockout)
        organizations = OrganizationService(settings, audit=manager.audit)
        return cls(
            settings=settings,
            storage=storage,
            storage_guard=guard,
            limiter=limiter,
            lockout=lockout,
            hasher=hasher,
            mailer=mailer,
            manager=manager,
            organizations=organizations,
            admin=AdminService(manager, organizations),
            csrf=CsrfTokens(settings.secret_key),
            close_storage=close_storage,
        )

    async def stop_cleanup(self) -> None:
        task, self.cleanup_task = self.cleanup_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        """Stop the cleanup, let background work finish, then release threads and storage."""
        await self.stop_cleanup()
        await self.manager.wait_for_background()  # e.g. reset mails after their answer
        self.hasher.close()
        close_storage, self.close_storage = self.close_storage, None
        if close_storage is not None:
            await close_storage()


def auth_runtime(target: Request | Sanic[Any, Any]) -> AuthRuntime:
    """The :class:`AuthRuntime` of the app (of the request's app); it exists once started."""
    app = target.app if isinstance(target, Request) else target
    runtime = vars(app.ctx).get(RUNTIME_ATTRIBUTE)
    if not isinstance(runtime, AuthRuntime):
        raise RuntimeError(
            "The sanic-auth-sessions runtime is built when the server starts "
            "(AuthSessions, or install_runtime for an app without the extension)."
        )
    return runtime


async def start_runtime(
    app: Sanic[Any, Any],
    settings: AuthSettings,
    *,
    manager_class: type[UserManager] = UserManager,
    mailer: Mailer | None = None,
) -> AuthRuntime:
    """Build the worker's runtime and put it on the app (with its documented aliases)."""
    runtime = AuthRuntime.build(settings, manager_class=manager_class, mailer=mailer)
    setattr(app.ctx, RUNTIME_ATTRIBUTE, runtime)
    app.ctx.auth_settings = settings
    app.ctx.auth_manager = runtime.manager
    return runtime


async def stop_runtime(app: Sanic[Any, Any]) -> None:
    """Close the worker's runtime, if it was started (a failed start leaves none)."""
    runtime = vars(app.ctx).get(RUNTIME_ATTRIBUTE)
    if isinstance(runtime, AuthRuntime):
        await runtime.close()


def install_storage_budget(app: Sanic[Any, Any]) -> None:
    """Give every request its own time budget for the counter storage (see ``storage_guard``)."""

    async def start_budget(request: Request) -> None:
        start_request_budget()

    app.register_middleware(start_budget, "request", priority=1000)  # before any other


def install_runtime(
    app: Sanic[Any, Any],
    settings: AuthSettings,
    *,
    manager_class: type[UserManager] = UserManager,
    mailer: Mailer | None = None,
) -> None:
    """For an app without the extension (e.g. one using only ``@rate_limit``): build the
    runtime at ``before_server_start`` and close it at ``after_server_stop``."""
    app.ctx.auth_settings = settings
    install_storage_budget(app)

    async def start(app: Sanic[Any, Any]) -> None:
        await start_runtime(app, settings, manager_class=manager_class, mailer=mailer)

    async def stop(app: Sanic[Any, Any]) -> None:
        await stop_runtime(app)

    app.register_listener(start, "before_server_start")
    app.register_listener(stop, "after_server_stop")
