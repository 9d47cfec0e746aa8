"""The one place where exceptions become the contract's error body and status."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sanic import HTTPResponse, Request, Sanic, json
from sanic.exceptions import PayloadTooLarge, SanicException
from tortoise.exceptions import IntegrityError

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.db.errors import is_database_unavailable
from sanic_auth_sessions.http.responses import ErrorResponse

logger = logging.getLogger("sanic_auth_sessions")

STATUS_BY_ERROR: tuple[tuple[type[errors.AuthSessionsError], int], ...] = (
    (errors.BadRequest, 400),
    (errors.Unauthenticated, 401),
    (errors.PermissionDenied, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.PayloadTooLarge, 413),
    (errors.UnsupportedMediaType, 415),
    (errors.ValidationFailed, 422),
    (errors.RateLimited, 429),
    (errors.HeadersTooLarge, 431),
    (errors.BadGateway, 502),
    (errors.ServiceUnavailable, 503),
)

SANIC_CODES = {
    400: "BAD_REQUEST",
    401: "AUTH_REQUIRED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    408: "REQUEST_TIMEOUT",
    413: "PAYLOAD_TOO_LARGE",
    414: "URI_TOO_LONG",
    416: "RANGE_NOT_SATISFIABLE",
    417: "EXPECTATION_FAILED",
    503: "SERVICE_UNAVAILABLE",
}
SANIC_MESSAGES = {
    404: "The resource was not found.",
    405: "This method is not allowed on this resource.",
    413: "The request body is too large.",
}


def status_for(error_class: type[errors.AuthSessionsError]) -> int:
    for base, status in STATUS_BY_ERROR:
        if issubclass(error_class, base):
            return status
    return 400


def status_of(error: errors.AuthSessionsError) -> int:
    return status_for(type(error))


def error_response(error: errors.AuthSessionsError, status: int | None = None) -> HTTPResponse:
    status = status or status_of(error)
    response = json(ErrorResponse.dump(error, success=False), status=status)
    if status == 401:
        response.headers["WWW-Authenticate"] = getattr(error, "challenge", "Bearer")
    if isinstance(error, errors.RateLimited):
        response.headers["Retry-After"] = str(error.retry_after_s)
    return response


# Sanic's stand-in for a request whose head could not be read (too large, malformed).
UNREAD_REQUEST_METHOD = "NONE"


def is_refused_before_routing(request: Request, exc: BaseException) -> bool:
    """Oversized headers or body, or a malformed request line: no route was chosen yet."""
    return request.method == UNREAD_REQUEST_METHOD or isinstance(exc, PayloadTooLarge)


def to_domain_error(
    exc: BaseException, *, head_unread: bool = False
) -> tuple[errors.AuthSessionsError, int]:
    """The domain error and status for any exception, including Sanic's and the ORM's.

    ``head_unread``: the request's head could not be read; a size error there is the
    headers' (431), not the body's.
    """
    if isinstance(exc, errors.AuthSessionsError):
        return exc, status_of(exc)
    if head_unread and isinstance(exc, PayloadTooLarge):
        too_large = errors.HeadersTooLarge()
        return too_large, status_of(too_large)
    if isinstance(exc, SanicException):
        status = exc.status_code
        message = SANIC_MESSAGES.get(status) or (str(exc) if exc.quiet else "") or None
        generic = errors.AuthSessionsError(message)
        generic.code = SANIC_CODES.get(status, "ERROR")
        return generic, status
    if is_database_unavailable(exc):
        unavailable = errors.DatabaseUnavailable()
        return unavailable, status_of(unavailable)
    if isinstance(exc, IntegrityError):
        return errors.Conflict(), 409
    internal = errors.AuthSessionsError("An unexpected error occurred.")
    internal.code = "INTERNAL_ERROR"
    return internal, 500


def install_error_handler(app: Sanic[Any, Any], settings: AuthSettings) -> None:
    """Route errors to the contract's body.

    Domain errors always use it (host routes that use our guards raise them too), and so do
    refusals made before routing (oversized headers or body, a malformed request), on every
    path; other errors use it only on the extension's own paths, so the host keeps its own
    format.
    """
    default_handler: Callable[[Request, Exception], HTTPResponse] = app.error_handler.default

    def is_own_path(path: str) -> bool:
        prefix = settings.url_prefix
        return (
            path == prefix
            or path.startswith(prefix + "/")
            or path in (settings.health_path, settings.jwks_path)
        )

    async def handle_domain_error(request: Request, exc: errors.AuthSessionsError) -> HTTPResponse:
        return error_response(exc)

    async def handle_other_error(request: Request, exc: Exception) -> HTTPResponse:
        path = request.path
        before_routing = is_refused_before_routing(request, exc)
        if not before_routing and not is_own_path(path):
            return default_handler(request, exc)
        error, status = to_domain_error(exc, head_unread=request.method == UNREAD_REQUEST_METHOD)
        if status == 500:
            logger.error("Unhandled error on %s %s", request.method, path, exc_info=exc)
        elif isinstance(error, errors.DatabaseUnavailable):
            logger.error("Database unavailable on %s %s: %r", request.method, path, exc)
        return error_response(error, status)

    app.error_handler.add(errors.AuthSessionsError, handle_domain_error)
    app.error_handler.add(Exception, handle_other_error)
