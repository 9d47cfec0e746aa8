"""Rate limits on routes: the ``@rate_limit`` decorator, its ``429`` and the headers.

``@rate_limit("10/minute")`` on a handler counts each request under the client IP (or any
key) with the worker's :class:`~sanic_auth_sessions.throttle.ratelimit.RateLimiter` and answers
``429`` with ``Retry-After`` past the limit. ``install_rate_limiting(app)`` adds the
``X-RateLimit-*`` headers (see :class:`~sanic_auth_sessions.throttle.ratelimit.RateLimitInfo`)
to every response to a rate-limited request, successful or ``429``. When several limits apply
to one request, the headers describe the one with the least remaining.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar, cast

from limits import parse_many
from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.http.client import client_ip
from sanic_auth_sessions.http.runtime import auth_runtime
from sanic_auth_sessions.throttle.ratelimit import RateLimitInfo

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])
LimitSpec = str | Callable[[AuthSettings], str]
KeyFunc = Callable[[Request], str | None]

UNKNOWN_CLIENT = "unknown"


def ip_key(request: Request) -> str:
    """The client IP (trusted-proxy aware); one shared key when the peer has no IP."""
    settings = auth_runtime(request).settings
    return client_ip(request, settings.trusted_proxies) or UNKNOWN_CLIENT


def _find_request(args: tuple[Any, ...]) -> Request:
    """The request among a handler's first arguments (``self`` comes first on views)."""
    for arg in args[:2]:
        if isinstance(arg, Request):
            return arg
    raise TypeError("@rate_limit decorates Sanic handlers that receive the request.")


def _recorder(request: Request) -> Callable[[RateLimitInfo], None]:
    """Keep on ``request.ctx.auth_rate_limit`` the limit with the least remaining."""

    def record(info: RateLimitInfo) -> None:
        current: RateLimitInfo | None = getattr(request.ctx, "auth_rate_limit", None)
        if current is None or info.remaining < current.remaining:
            request.ctx.auth_rate_limit = info

    return record


def rate_limit(
    limit: LimitSpec, *, scope: str | None = None, key: KeyFunc | None = None
) -> Callable[[Handler], Handler]:
    """Limit a Sanic handler, e.g. ``@rate_limit("100/minute")``.

    ``limit`` is a limits string or a function of the settings
    (``lambda s: s.rate_limit_login``). ``scope`` names the counter (default: the
    handler's qualified name); ``key`` picks whom to count (default: the client IP) and
    returning ``None`` skips the limit. Decorators stack; the outermost counts first.
    Needs the extension (or ``install_runtime``); a no-op when ``AUTH_RATE_LIMIT_ENABLED``
    is false.
    """
    if isinstance(limit, str):
        parse_many(limit)  # a typo fails at import, not on the first request
    key_of = key or ip_key

    def decorator(handler: Handler) -> Handler:
        counter = scope or handler.__qualname__

        @wraps(handler)
        async def limited(*args: Any, **kwargs: Any) -> Any:
            request = _find_request(args)
            runtime = auth_runtime(request)
            if runtime.settings.rate_limit_enabled:
                value = key_of(request)
                if value is not None:
                    spec = limit if isinstance(limit, str) else limit(runtime.settings)
                    await runtime.limiter.hit(counter, spec, value, _recorder(request))
            return await handler(*args, **kwargs)

        return cast(Handler, limited)

    return decorator


def install_rate_limiting(app: Sanic[Any, Any]) -> None:
    """Add the ``X-RateLimit-*`` headers to the responses to rate-limited requests."""

    async def add_headers(request: Request, response: BaseHTTPResponse) -> None:
        info: RateLimitInfo | None = getattr(request.ctx, "auth_rate_limit", None)
        if info is not None:
            for name, value in info.headers().items():
                response.headers[name] = value

    app.register_middleware(add_headers, "response")
