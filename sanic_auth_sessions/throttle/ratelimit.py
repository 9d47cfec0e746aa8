"""Rate limits on top of :pypi:`limits`, free of any web framework.

A :class:`RateLimiter` (one per worker, built inside the running event loop) counts hits per
``(scope, key)`` and raises ``errors.RateLimited`` past the limit; each hit reports the
limit's state as a :class:`RateLimitInfo`. The route decorator ``@rate_limit`` and the
``X-RateLimit-*`` headers are the HTTP layer's (``sanic_auth_sessions.http.rate_limits``).

Storage comes from ``AUTH_RATE_LIMIT_STORAGE_URL``: ``memory://`` counts per worker process,
``redis://host:port/db`` shares counts between workers and hosts. Every storage call goes
through a :class:`~sanic_auth_sessions.throttle.storage_guard.StorageGuard`: one time budget
per request and a circuit breaker, failing open or closed as ``AUTH_RATE_LIMIT_FAIL_OPEN`` says.
"""

from __future__ import annotations

import logging
import math
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from limits.aio.strategies import RateLimiter as Strategy
from limits.storage import storage_from_string

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.config import AuthSettings, ConfigurationError
from sanic_auth_sessions.throttle.storage_guard import StorageGuard, StorageSkipped

logger = logging.getLogger("sanic_auth_sessions")

REDIS_SCHEMES = ("redis", "rediss", "redis+unix")
REDIS_KEY_PREFIX = "sanic_auth_sessions"
REDIS_TIMEOUT_S = 1.0  # connect and per-command, a backstop: StorageGuard's budget is shorter


@dataclass(frozen=True)
class RateLimitInfo:
    """One limit's state after a hit (the HTTP layer keeps it on ``request.ctx.auth_rate_limit``).

    The ``X-RateLimit-*`` headers of a rate-limited response:

    - ``X-RateLimit-Limit``: the number of requests allowed in the window;
    - ``X-RateLimit-Remaining``: how many are left after this one;
    - ``X-RateLimit-Reset``: seconds (an integer delta of at least 1, not an epoch) until a
      request frees up: with the moving window, when the oldest counted request leaves the
      window; with the fixed window, when the window restarts. On a ``429`` it equals
      ``Retry-After``.
    """

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
    ``AUTH_RATE_LIMIT_STORAGE_URL`` and ``close()`` releases it. Without ``guard`` it has its
    own :class:`StorageGuard`; pass one to share its budget and breaker (with the lockout).
    """

    def __init__(
        self,
        settings: AuthSettings,
        storage: Storage | None = None,
        guard: StorageGuard | None = None,
    ) -> None:
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
        self.guard = guard or StorageGuard(settings, "Rate-limit")
        self._items: dict[str, list[RateLimitItem]] = {}

    async def hit(
        self,
        scope: str,
        limit: str,
        key: str,
        record: Callable[[RateLimitInfo], None] | None = None,
    ) -> None:
        """Count one request; raise ``errors.RateLimited`` when it is over ``limit``.

        ``limit`` is a limits string such as ``"10/minute"`` (or several: ``"5/minute;50/hour"``).
        The storage key is built from ``scope``, ``key`` and the limit. ``record`` receives
        the state of each limit counted, before the one over its limit raises. Does nothing
        when ``AUTH_RATE_LIMIT_ENABLED`` is false.
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
            if record is not None:
                record(RateLimitInfo(item.amount, remaining, reset_after_s))
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
