"""The worker's runtime: built once at start, one accessor, shared counter storage and guard."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

import pytest
from sanic import Request, Sanic, json
from sanic.response import HTTPResponse

from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.http.runtime import (
    AuthRuntime,
    auth_runtime,
    install_runtime,
    stop_runtime,
)
from sanic_auth_sessions.services.mailer import InMemoryMailer
from sanic_auth_sessions.throttle.storage_guard import (
    current_request_budget,
    start_request_budget,
)

from ..serving import serve


def settings() -> AuthSettings:
    return AuthSettings.from_defaults(environment="test")


async def test_the_accessor_refuses_before_the_start_and_stopping_then_is_a_no_op() -> None:
    app: Sanic[Any, Any] = Sanic(f"rt_{uuid4().hex[:8]}")
    with pytest.raises(RuntimeError, match="built when the server starts"):
        auth_runtime(app)
    await stop_runtime(app)  # a start that failed left nothing to close


async def test_one_runtime_per_app_with_the_services_built_once() -> None:
    app: Sanic[Any, Any] = Sanic(f"rt_{uuid4().hex[:8]}")
    mailer = InMemoryMailer()
    install_runtime(app, settings(), mailer=mailer)
    seen: list[tuple[AuthRuntime, float | None]] = []

    @app.get("/state")
    async def state(request: Request) -> HTTPResponse:
        budget = current_request_budget()
        seen.append((auth_runtime(request), None if budget is None else budget.left_s))
        return json({"ok": True})

    async with serve(app) as client:
        runtime = auth_runtime(app)
        assert runtime.mailer is mailer and runtime.manager.mailer is mailer
        assert runtime.organizations.audit == runtime.manager.audit
        assert runtime.admin.manager is runtime.manager
        assert runtime.admin.organizations is runtime.organizations
        assert runtime.limiter.storage is runtime.lockout.storage is runtime.storage
        assert runtime.limiter.guard is runtime.lockout.guard is runtime.storage_guard
        assert app.ctx.auth_manager is runtime.manager  # the documented aliases
        assert app.ctx.auth_settings is runtime.settings
        for _ in range(2):
            assert (await client.get("/state")).status_code == 200
    assert seen == [(runtime, None), (runtime, None)]  # a whole budget for each request


async def test_a_request_budget_is_shared_by_the_tasks_the_request_starts() -> None:
    assert current_request_budget() is None  # outside a request

    async def spend() -> None:
        budget = current_request_budget()
        assert budget is not None
        budget.left_s = 0.05

    async def request() -> float | None:
        budget = start_request_budget()
        await asyncio.create_task(spend())
        return budget.left_s

    assert await asyncio.create_task(request()) == 0.05
    assert current_request_budget() is None
