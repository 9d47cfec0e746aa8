"""The request id (``X-Request-ID``, or a new one) and the client IP of every request, in the
context variable the services read (:mod:`sanic_auth_sessions.core.audit`)."""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

from sanic_auth_sessions.core.audit import RequestContext, current_request
from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.http.client import client_ip

REQUEST_ID_HEADER = "X-Request-ID"
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def install_request_context(app: Sanic[Any, Any], settings: AuthSettings) -> None:
    async def remember_request(request: Request) -> None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = given if VALID_REQUEST_ID.match(given) else uuid4().hex
        request.ctx.request_id = request_id
        ip_address = client_ip(request, settings.trusted_proxies)
        headers = request.headers
        current_request.set(
            RequestContext(
                request_id,
                ip_address,
                headers.get("user-agent"),
                headers.get("x-device-id"),
            )
        )

    async def echo_request_id(request: Request, response: BaseHTTPResponse) -> None:
        request_id = getattr(request.ctx, "request_id", None)
        if request_id and REQUEST_ID_HEADER not in response.headers:
            response.headers[REQUEST_ID_HEADER] = request_id

    # Highest priority: every other middleware and the handler see the request id.
    app.register_middleware(remember_request, "request", priority=1000)
    app.register_middleware(echo_request_id, "response", priority=1000)
