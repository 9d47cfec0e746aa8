"""Route guards for the extension's routes and the host app's own.

``@require_auth`` puts the caller on ``request.ctx.user`` and ``request.ctx.auth_session``
after one query that checks the token, the session and the user together.
``@require_org_role("admin")`` also needs that role in the organization of the route.
``@require_fresh_auth()`` also needs a session authenticated recently (step-up): 403
``REAUTHENTICATION_REQUIRED`` otherwise; the client calls ``POST /auth/reauthenticate``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar, cast
from uuid import UUID

from sanic import HTTPResponse, Request

from sanic_auth_sessions.core import errors, policy
from sanic_auth_sessions.core.models import OrganizationRole
from sanic_auth_sessions.http.runtime import auth_runtime
from sanic_auth_sessions.http.transport import access_token, guard_cookie_request
from sanic_auth_sessions.services.manager import AuthContext, UserManager
from sanic_auth_sessions.services.organizations import OrganizationService

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[HTTPResponse]])


def manager_of(request: Request) -> UserManager:
    return auth_runtime(request).manager


def organizations_of(request: Request) -> OrganizationService:
    """The organization rules, auditing through the app's ``UserManager``."""
    return auth_runtime(request).organizations


async def authenticate(request: Request) -> AuthContext:
    """Resolve (once per request) the caller; raise ``Unauthenticated`` when there is none.

    With a cookie transport, a request authenticated by the access cookie with an unsafe
    method must also pass the CSRF check (403 ``CSRF_FAILED``)."""
    cached: AuthContext | None = getattr(request.ctx, "auth", None)
    if cached is not None:
        return cached
    token, by_cookie = access_token(request)
    auth = await manager_of(request).authenticate(token)
    if by_cookie:
        guard_cookie_request(request, auth.session.id)
    request.ctx.auth = auth
    request.ctx.auth_by_cookie = by_cookie
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


def require_fresh_auth(max_age_s: int | None = None) -> Callable[[Handler], Handler]:
    """Let through callers whose session was authenticated (logged in or re-authenticated) at
    most ``max_age_s`` seconds ago (default ``AUTH_FRESH_AUTH_MAX_AGE_S``), as the session row
    records it; others get 403 ``REAUTHENTICATION_REQUIRED``."""
    if max_age_s is not None and max_age_s <= 0:
        raise ValueError("max_age_s must be a positive number of seconds.")

    def decorator(handler: Handler) -> Handler:
        @wraps(handler)
        async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            auth = await authenticate(request)
            if not manager_of(request).is_fresh(auth.session, max_age_s):
                raise errors.ReauthenticationRequired()
            return await handler(request, *args, **kwargs)

        return cast(Handler, guarded)

    return decorator


async def step_up(
    request: Request,
    *,
    current_password: str | None = None,
    code: str | None = None,
    recovery_code: str | None = None,
) -> None:
    """The step-up rule for the caller of a sensitive route (after its body is validated):
    every proof present is checked, then a fresh session or a sufficient proof is needed."""
    await manager_of(request).require_step_up(
        current_auth(request),
        current_password=current_password,
        code=code,
        recovery_code=recovery_code,
    )


ORG_ID_KWARGS = ("org_id", "organization_id")


def require_org_role(min_role: OrganizationRole | str) -> Callable[[Handler], Handler]:
    """Let through members of the route's organization whose role is at least ``min_role``.

    The organization id comes from the route's ``org_id`` or ``organization_id`` parameter
    (e.g. ``/orgs/<org_id:uuid>/report``). Non-members get 404, as if the organization did
    not exist, and so does an inactive organization; a lower role gets 403; superusers pass
    as owners. The handler finds the caller's membership on ``request.ctx.membership``
    (``None`` for a superuser who is not a member) and the organization on
    ``request.ctx.organization``.
    """
    minimum = OrganizationRole(min_role)

    def decorator(handler: Handler) -> Handler:
        @wraps(handler)
        async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            auth = await authenticate(request)
            raw_id = next((kwargs[key] for key in ORG_ID_KWARGS if key in kwargs), None)
            if raw_id is None:
                raise TypeError(
                    f"@require_org_role needs a route parameter named {' or '.join(ORG_ID_KWARGS)}."
                )
            try:
                org_id = raw_id if isinstance(raw_id, UUID) else UUID(str(raw_id))
            except ValueError:
                raise errors.NotFound("Organization not found.") from None
            access = await organizations_of(request).access(auth.user, org_id)
            policy.require_role(access.role, minimum)
            request.ctx.organization = access.organization
            request.ctx.membership = access.membership
            return await handler(request, *args, **kwargs)

        return cast(Handler, guarded)

    return decorator
