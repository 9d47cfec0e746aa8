"""Request body size limit: oversize bodies on our paths get 413 with the contract body."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

from sanic import HTTPResponse, Request, Sanic, json

from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.http.error_handler import install_error_handler
from sanic_auth_sessions.http.middleware.request_limits import apply_request_limits
from sanic_auth_sessions.http.middleware.security_headers import install_security_headers

from ..helpers import assert_error
from ..serving import serve

LIMIT = 2048


def make_app() -> Sanic[Any, Any]:
    app: Sanic[Any, Any] = Sanic(f"limits_{uuid4().hex[:8]}")
    settings = AuthSettings.from_defaults(environment="test", max_body_bytes=LIMIT)

    @app.post("/api/v1/echo")
    async def echo(request: Request) -> HTTPResponse:
        return json({"success": True, "size": len(request.body)})

    @app.post("/upload")
    async def upload(request: Request) -> HTTPResponse:
        return json({"size": len(request.body)})

    install_error_handler(app, settings)
    install_security_headers(app, settings)
    apply_request_limits(app, settings)
    return app


def test_sets_sanic_request_max_size() -> None:
    app = make_app()
    assert app.config.REQUEST_MAX_SIZE == LIMIT
    default: Sanic[Any, Any] = Sanic(f"limits_{uuid4().hex[:8]}")
    apply_request_limits(default, AuthSettings.from_defaults(environment="test"))
    assert default.config.REQUEST_MAX_SIZE == 1024 * 1024


async def test_body_within_limit_passes() -> None:
    async with serve(make_app()) as client:
        response = await client.post("/api/v1/echo", content=b"x" * LIMIT)
    assert response.status_code == 200
    assert response.json() == {"success": True, "size": LIMIT}


async def test_oversize_body_gets_413_with_contract_body() -> None:
    async with serve(make_app()) as client:
        response = await client.post(
            "/api/v1/echo",
            content=b'{"email": "' + b"x" * (LIMIT * 4) + b'"}',
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 413
    body = response.json()
    assert body["success"] is False
    assert [error["code"] for error in body["errors"]] == ["PAYLOAD_TOO_LARGE"]
    assert set(body["errors"][0]) == {"code", "message", "field"}
    assert response.headers["x-content-type-options"] == "nosniff"
    assert (
        response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    )


async def test_oversize_chunked_body_gets_413() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield b"y" * 1024

    async with serve(make_app()) as client:
        response = await client.post("/api/v1/echo", content=chunks())
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "PAYLOAD_TOO_LARGE"


async def test_a_body_refused_before_routing_has_the_contract_body_on_host_paths_too() -> None:
    async with serve(make_app()) as client:
        response = await client.post("/upload", content=b"z" * (LIMIT + 1))
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
