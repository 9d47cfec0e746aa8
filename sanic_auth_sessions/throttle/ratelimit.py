"""Rate limits for the extension's routes and the host's, on top of :pypi:`limits`.

``install_rate_limiting(app, settings)`` creates one :class:`RateLimiter` per worker at
``before_server_start``; ``@rate_limit("10/minute")`` on a handler counts each request under
the client IP (or any key) and answers ``429`` with ``Retry-After`` past the limit.

Storage comes from ``AUTH_RATE_LIMIT_STORAGE_URL``: ``memory://`` counts per worker process,
``redis://host:port/db`` shares counts between workers and hosts. Every storage call goes
through a :class:`~sanic_auth_sessions.throttle.storage_guard.StorageGuard`: one time budget
per request and a circuit breaker, failing open or closed as ``AUTH_RATE_LIMIT_FAIL_OPEN`` says.

Every response to a rate-limited request, successful or ``429``, carries:

- ``X-RateLimit-Limit``: the number of requests allowed in the window;
- ``X-RateLimit-Remaining``: how many are left after this one;
- ``X-RateLimit-Reset``: seconds (an integer delta of at least 1, not an epoch) until a
  request frees up: with the moving window, when the oldest counted request leaves the
  window; with the fixed window, when the window restarts. On a ``429`` it equals
  ``Retry-After``.

When several limits apply to one request, the headers describe the one with the least
remaining.
"""

from __future__ import annotations

import logging
import math
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from limits.aio.strategies import RateLimiter as Strategy
from limits.storage import storage_from_string
from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.config import AuthSettings, ConfigurationError
from sanic_auth_sessions.http.client import client_ip
from sanic_auth_sessions.throttle.storage_guard import StorageGuard, StorageSkipped

logger = logging.getLogger("sanic_auth_sessions")

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])
LimitSpec = str | Callable[[AuthSettings], str]
KeyFunc = Callable[[Request], str | None]

REDIS_SCHEMES = ("redis", "rediss", "redis+unix")
REDIS_KEY_PREFIX = "sanic_auth_sessions"
REDIS_TIMEOUT_S = 1.0  # connect and per-command, a backstop: StorageGuard's budget is shorter
UNKNOWN_CLIENT = "unknown"


@dataclass(frozen=True)
class RateLimitInfo:
    """One limit's state after a hit, kept on ``request.ctx.auth_rate_limit``."""

    limit: int
    remaining: int
    reset_after_s: int  # measured at the hit, so it equals the 429's Retry-After

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_after_s),
        }


def create_storage(url: str) -> tuple[Storage, Callable[[], Awaitable[None]] | None]:
    """A ``limits`` async storage for ``url`` and, when it holds connections, how to close them.

    Call it inside the event loop that will use the storage.
    """
    scheme = urllib.parse.urlsplit(url).scheme.removeprefix("async+")
    bare_url = url.removeprefix("async+")
    if scheme in REDIS_SCHEMES:
        import redis.asyncio  # optional dependency: pip install sanic-auth-sessions[redis]

        pool = redis.asyncio.ConnectionPool.from_url(
            bare_url.replace("redis+unix://", "unix://", 1),
            socket_connect_timeout=REDIS_TIMEOUT_S,
            socket_timeout=REDIS_TIMEOUT_S,
        )
        options: dict[str, Any] = {
            "implementation": "redispy",
            "connection_pool": pool,
            "key_prefix": REDIS_KEY_PREFIX,
            "wrap_exceptions": True,
        }
        return RedisStorage(f"async+{bare_url}", **options), pool.disconnect
    storage = storage_from_string(f"async+{bare_url}", wrap_exceptions=True)
    if not isinstance(storage, Storage):
        raise ConfigurationError(f"AUTH_RATE_LIMIT_STORAGE_URL: no async storage for {scheme!r}.")
    return storage, None


class RateLimiter:
    """Counts hits per ``(scope, key)`` with the strategy from ``AUTH_RATE_LIMIT_STRATEGY``.

    Build it inside the running event loop; without ``storage`` it opens its own from
    ``AUTH_RATE_LIMIT_STORAGE_URL`` and ``close()`` releases it.
    """

    def __init__(self, settings: AuthSettings, storage: Storage | None = None) -> None:
        self.settings = settings
        self._close: Callable[[], Awaitable[None]] | None = None
        if storage is None:
            storage, self._close = create_storage(settings.rate_limit_storage_url)
        self.storage: Storage = storage
        self.strategy: Strategy = (
            FixedWindowRateLimiter(storage)
            if settings.rate_limit_strategy == "fixed-window"
            else MovingWindowRateLimiter(storage)
        )
        self.guard = StorageGuard(settings, "Rate-limit")
        self._items: dict[str, list[RateLimitItem]] = {}

    async def hit(self, request: Request, scope: str, limit: str, key: str) -> None:
        """Count one request; raise ``errors.RateLimited`` when it is over ``limit``.

        ``limit`` is a limits string such as ``"10/minute"`` (or several: ``"5/minute;50/hour"``).
        The storage key is built from ``scope``, ``key`` and the limit. Does nothing when
        ``AUTH_RATE_LIMIT_ENABLED`` is false.
        """
        if not self.settings.rate_limit_enabled:
            return
        identifiers = ("auth", scope, key)
        for item in self._parsed(limit):
            try:
                allowed = await self.guard.call(self.strategy.hit, item, *identifiers)
                stats = await self.guard.call(self.strategy.get_window_stats, item, *identifiers)
            except StorageSkipped:
                return
            reset_after_s = max(1, math.ceil(stats.reset_time - time.time()))
            remaining = stats.remaining if allowed else 0
            _record(request, RateLimitInfo(item.amount, remaining, reset_after_s))
            if not allowed:
                raise errors.RateLimited(retry_after_s=reset_after_s)

    async def close(self) -> None:
        if self._close is not None:
            await self._close()
            self._close = None

    def _parsed(self, limit: str) -> list[RateLimitItem]:
        items = self._items.get(limit)
        if items is None:
            items = self._items[limit] = parse_many(limit)
        return items


def _record(request: Request, info: RateLimitInfo) -> None:
    current: RateLimitInfo | None = getattr(request.ctx, "auth_rate_limit", None)
    if current is None or info.remaining < current.remaining:
        request.ctx.auth_rate_limit = info


def ip_key(request: Request) -> str:
    """The client IP (trusted-proxy aware); one shared key when the peer has no IP."""
    settings: AuthSettings = request.app.ctx.auth_settings
    return client_ip(request, settings.trusted_proxies) or UNKNOWN_CLIENT


def _find_request(args: tuple[Any, ...]) -> Request:
    """The request among a handler's first arguments (``self`` comes first on views)."""
    for arg in args[:2]:
        if isinstance(arg, Request):
            return arg
    raise TypeError("@rate_limit decorates Sanic handlers that receive the request.")


def rate_limit(
    limit: LimitSpec, *, scope: str | None = None, key: KeyFunc | None = None
) -> Callable[[Handler], Handler]:
    """Limit a Sanic handler, e.g. ``@rate_limit("100/minute")``.

    ``limit`` is a limits string or a function of the settings
    (``lambda s: s.rate_limit_login``). ``scope`` names the counter (default: the
    handler's qualified name); ``key`` picks whom to count (default: the client IP) and
    returning ``None`` skips the limit. Decorators stack; the outermost counts first.
    Needs ``install_rate_limiting``; a no-op when ``AUTH_RATE_LIMIT_ENABLED`` is false.
    """
    if isinstance(limit, str):
        parse_many(limit)  # a typo fails at import, not on the first request
    key_of = key or ip_key

    def decorator(handler: Handler) -> Handler:
        counter = scope or handler.__qualname__

        @wraps(handler)
        async def limited(*args: Any, **kwargs: Any) -> Any:
            request = _find_request(args)
            settings: AuthSettings | None = getattr(request.app.ctx, "auth_settings", None)
            if settings is None:
                raise RuntimeError("@rate_limit needs install_rate_limiting(app, settings).")
            if settings.rate_limit_enabled:
                value = key_of(request)
                if value is not None:
                    limiter: RateLimiter | None = getattr(
                        request.app.ctx, "auth_rate_limiter", None
                    )
                    if limiter is None:
                        raise RuntimeError("The rate limiter starts with the server.")
                    spec = limit if isinstance(limit, str) else limit(settings)
                    await limiter.hit(request, counter, spec, value)
            return await handler(*args, **kwargs)

        return cast(Handler, limited)

    return decorator


def install_rate_limiting(app: Sanic[Any, Any], settings: AuthSettings) -> None:
    """Create ``app.ctx.auth_rate_limiter`` per worker and add the ``X-RateLimit-*`` headers.

    Sets ``app.ctx.auth_settings`` unless it is already there (the one already there wins).
    The limiter exists even when rate limiting is disabled; it then counts nothing.
    """
    if getattr(app.ctx, "auth_settings", None) is None:
        app.ctx.auth_settings = settings

    async def open_limiter(app: Sanic[Any, Any]) -> None:
        app.ctx.auth_rate_limiter = RateLimiter(app.ctx.auth_settings)

    async def close_limiter(app: Sanic[Any, Any]) -> None:
        limiter: RateLimiter | None = getattr(app.ctx, "auth_rate_limiter", None)
        if limiter is not None:
            await limiter.close()

    async def add_headers(request: Request, response: BaseHTTPResponse) -> None:
        info: RateLimitInfo | None = getattr(request.ctx, "auth_rate_limit", None)
        if info is not None:
            for name, value in info.headers().items():
                response.headers[name] = value

    app.register_listener(open_limiter, "before_server_start")
    app.register_listener(close_limiter, "after_server_stop")
    app.register_middleware(add_headers, "response")
