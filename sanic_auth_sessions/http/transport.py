"""How tokens travel: bearer tokens in bodies and headers, or HttpOnly cookies for browsers.

``AUTH_TRANSPORT`` chooses: ``bearer`` (the default), ``cookie``, or ``both`` (cookies for the
requests that send ``X-Auth-Transport: cookie``). A request is authenticated by its
``Authorization`` header when it has one, otherwise (``cookie``/``both``) by the access cookie.

Cookie requests are protected against cross-site request forgery twice: an unsafe method
authenticated by a cookie needs ``X-CSRF-Token`` equal to the CSRF cookie, whose HMAC binds it
to the session (double submit), and an allowed ``Origin`` (or ``Referer``). A request that sets
cookies without being authenticated by one (a login) needs the allowed origin only.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from sanic import HTTPResponse, Request, json

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.core.tokens import TokenPair
from sanic_auth_sessions.http.runtime import auth_runtime

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
TRANSPORT_HEADER = "x-auth-transport"
CSRF_HEADER = "x-csrf-token"
# RFC 6749 §5.1: nothing between the server and the client may keep a token response.
TOKEN_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}
BODY_TOKENS = ("access_token", "refresh_token")


def asks_for_cookies(request: Request) -> bool:
    """Whether the answer to ``request`` puts its tokens in cookies rather than the body."""
    transport = auth_runtime(request).settings.transport
    if transport == "both":
        return request.headers.get(TRANSPORT_HEADER, "").strip().lower() == "cookie"
    return transport == "cookie"


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise errors.Unauthenticated("Send an access token as 'Authorization: Bearer <token>'.")
    return token.strip()


def access_token(request: Request) -> tuple[str, bool]:
    """The request's access token, and whether it came from the access cookie."""
    settings = auth_runtime(request).settings
    if not settings.uses_cookies or "authorization" in request.headers:
        return bearer_token(request), False
    token = request.cookies.get(settings.cookie_access_name)
    if not token:
        raise errors.Unauthenticated(
            "Log in first: send the access cookie, or 'Authorization: Bearer <token>'."
        )
    return token, True


def refresh_cookie(request: Request) -> str | None:
    """The refresh cookie, with a cookie transport; ``None`` otherwise or when absent."""
    settings = auth_runtime(request).settings
    if not settings.uses_cookies:
        return None
    token: str | None = request.cookies.get(settings.cookie_refresh_name)
    return token or None


def request_origin(request: Request) -> str | None:
    """``Origin``, or the origin of ``Referer`` when there is no ``Origin``."""
    origin: str | None = request.headers.get("origin")
    if origin is not None:
        return origin.strip()
    referer: str | None = request.headers.get("referer")
    if not referer:
        return None
    parts = urlsplit(referer.strip())
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def require_allowed_origin(request: Request) -> None:
    """403 ``CSRF_FAILED`` unless the request comes from an origin of
    ``AUTH_CSRF_TRUSTED_ORIGINS``."""
    origin = request_origin(request)
    if origin is None or origin not in auth_runtime(request).settings.csrf_origins:
        raise errors.CsrfFailed("The request's origin is not allowed to use cookies.")


def require_csrf(request: Request, session_id: UUID) -> None:
    """403 ``CSRF_FAILED`` unless ``X-CSRF-Token`` equals the CSRF cookie, the cookie was made
    for ``session_id``, and the origin is allowed."""
    runtime = auth_runtime(request)
    header = request.headers.get(CSRF_HEADER, "")
    cookie: str = request.cookies.get(runtime.settings.cookie_csrf_name) or ""
    if (
        not header
        or not header.isascii()  # our tokens are; a header of other bytes is not one
        or not cookie.isascii()
        or not hmac.compare_digest(header.encode(), cookie.encode())
        or not runtime.csrf.is_valid(session_id, cookie)
    ):
        raise errors.CsrfFailed("Send the CSRF cookie's value as the X-CSRF-Token header.")
    require_allowed_origin(request)


def authenticated_by_cookie(request: Request) -> bool:
    """Whether the guard authenticated ``request`` by the access cookie."""
    return bool(getattr(request.ctx, "auth_by_cookie", False))


def answers_in_cookies(request: Request) -> bool:
    """A cookie request, or one authenticated by a cookie: its tokens go in cookies, never in
    a body that the page's scripts could read."""
    return asks_for_cookies(request) or authenticated_by_cookie(request)


def check_cookie_login(request: Request) -> None:
    """A request asking for cookies without being authenticated by one (a login): the
    origin check."""
    if asks_for_cookies(request):
        require_allowed_origin(request)


def guard_cookie_request(request: Request, session_id: UUID) -> None:
    """The CSRF check of a request authenticated by the access cookie: unsafe methods only."""
    if request.method.upper() not in SAFE_METHODS:
        require_csrf(request, session_id)


# --- answers -----------------------------------------------------------------------------------


def _cookie(
    response: HTTPResponse,
    settings: AuthSettings,
    name: str,
    value: str,
    *,
    path: str,
    max_age: int,
    httponly: bool,
    samesite: str,
) -> None:
    response.add_cookie(
        name,
        value,
        path=path,
        domain=settings.cookie_domain,
        secure=settings.environment != "development",
        max_age=max(max_age, 0),
        httponly=httponly,
        samesite=samesite,  # type: ignore[arg-type]
    )


def auth_path(settings: AuthSettings) -> str:
    """Where the refresh cookie is sent: the auth routes only."""
    return f"{settings.url_prefix.rstrip('/')}/auth"


def set_access_cookie(response: HTTPResponse, settings: AuthSettings, token: str) -> None:
    _cookie(
        response,
        settings,
        settings.cookie_access_name,
        token,
        path="/",
        max_age=settings.access_token_ttl_s,
        httponly=True,
        samesite="Lax",
    )


def set_token_cookies(
    request: Request, response: HTTPResponse, tokens: TokenPair, session_id: UUID
) -> None:
    """The three cookies of a token response: access, refresh and a new CSRF token."""
    runtime = auth_runtime(request)
    settings = runtime.settings
    session_left = int((tokens.refresh_expires_at - datetime.now(timezone.utc)).total_seconds())
    set_access_cookie(response, settings, tokens.access_token)
    _cookie(
        response,
        settings,
        settings.cookie_refresh_name,
        tokens.refresh_token,
        path=auth_path(settings),
        max_age=session_left,
        httponly=True,
        samesite="Strict",
    )
    _cookie(
        response,
        settings,
        settings.cookie_csrf_name,
        runtime.csrf.issue(session_id),
        path="/",
        max_age=session_left,
        httponly=False,
        samesite="Strict",
    )


def clear_token_cookies(request: Request, response: HTTPResponse) -> None:
    """Expire the three cookies (same name, path and domain, ``Max-Age=0``)."""
    settings = auth_runtime(request).settings
    if not settings.uses_cookies:
        return
    for name, path, httponly, samesite in (
        (settings.cookie_access_name, "/", True, "Lax"),
        (settings.cookie_refresh_name, auth_path(settings), True, "Strict"),
        (settings.cookie_csrf_name, "/", False, "Strict"),
    ):
        _cookie(
            response, settings, name, "", path=path, max_age=0, httponly=httponly, samesite=samesite
        )


def token_response(body: dict[str, Any]) -> HTTPResponse:
    """A body no cache may keep (secrets, tokens)."""
    return json(body, headers=TOKEN_HEADERS)


def cookie_body(body: dict[str, Any]) -> dict[str, Any]:
    """A token body of a cookie request: no tokens, ``token_type: "cookie"``."""
    kept = {key: value for key, value in body.items() if key not in BODY_TOKENS}
    kept["token_type"] = "cookie"
    return kept


def token_answer(
    request: Request,
    body: dict[str, Any],
    *,
    tokens: TokenPair,
    session_id: UUID,
    status: int = 200,
    cookies: bool = False,
) -> HTTPResponse:
    """A response carrying a new token pair: in the body, or in cookies for a cookie request
    (or, ``cookies``, for a request authenticated by a cookie)."""
    if not cookies and not asks_for_cookies(request):
        return json(body, status=status, headers=TOKEN_HEADERS)
    response = json(cookie_body(body), status=status, headers=TOKEN_HEADERS)
    set_token_cookies(request, response, tokens, session_id)
    return response
