"""Route guards for the extension's routes and the host app's own.

``@require_auth`` puts the caller on ``request.ctx.user`` and ``request.ctx.auth_session``
after one query that checks the token, the session and the user together.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar, cast

from sanic import HTTPResponse, Request

from . import errors
from .manager import AuthContext, UserManager

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[HTTPResponse]])


def manager_of(request: Request) -> UserManager:
    manager: UserManager = request.app.ctx.auth_manager
    return manager


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise errors.Unauthenticated("Send an access token as 'Authorization: Bearer <token>'.")
    return token.strip()


async def authenticate(request: Request) -> AuthContext:
    """Resolve (once per request) the caller; raise ``Unauthenticated`` when there is none."""
    cached: AuthContext | None = getattr(request.ctx, "auth", None)
    if cached is not None:
        return cached
    auth = await manager_of(request).authenticate(bearer_token(request))
    request.ctx.auth = auth
    request.ctx.user = auth.user
    request.ctx.auth_session = auth.session
    return auth


def current_auth(request: Request) -> AuthContext:
    """The caller of a guarded handler."""
    auth: AuthContext = request.ctx.auth
    return auth


def require_auth(handler: Handler) -> Handler:
    @wraps(handler)
    async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        await authenticate(request)
        return await handler(request, *args, **kwargs)

    return cast(Handler, guarded)


def require_superuser(handler: Handler) -> Handler:
    @wraps(handler)
    async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        auth = await authenticate(request)
        if not auth.user.is_superuser:
            raise errors.PermissionDenied("Superuser rights are required.")
        return await handler(request, *args, **kwargs)

    return cast(Handler, guarded)
