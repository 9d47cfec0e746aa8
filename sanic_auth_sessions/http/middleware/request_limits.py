"""Request size limits: Sanic refuses larger heads (431) and bodies (413) before routing."""

from __future__ import annotations

from typing import Any

from sanic import Sanic

from sanic_auth_sessions.core.config import AuthSettings


def apply_request_limits(app: Sanic[Any, Any], settings: AuthSettings) -> None:
    """Set Sanic's ``REQUEST_MAX_SIZE`` (app-wide, in bytes) to ``AUTH_MAX_BODY_BYTES`` and
    ``REQUEST_MAX_HEADER_SIZE`` to ``AUTH_MAX_HEADER_BYTES``.

    Sanic reads it when a connection opens, so call this before the server starts. It covers
    host routes too: a host that accepts larger uploads raises ``AUTH_MAX_BODY_BYTES``.
    """
    app.config.REQUEST_MAX_SIZE = settings.max_body_bytes
    # The request line and headers together; the error handler answers 431 above it.
    app.config.REQUEST_MAX_HEADER_SIZE = settings.max_header_bytes
