"""Account lockout: N failures lock an email, success resets, storage failures, Redis."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

import pytest
from sanic import Request, Sanic, json
from sanic.response import HTTPResponse

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.http.error_handler import install_error_handler
from sanic_auth_sessions.http.runtime import auth_runtime, install_runtime
from sanic_auth_sessions.throttle.lockout import LoginLockout

from ..redis_server import captured_errors, closed_port_url
from ..serving import serve

PASSWORD = "right password"


def settings(**overrides: Any) -> AuthSettings:
    overrides.setdefault("lockout_max_failures", 3)
    return AuthSettings.from_defaults(environment="test", **overrides)


def unique_email() -> str:
    return f"user_{uuid4().hex[:10]}@example.com"


async def attempts(lockout: LoginLockout, email: str, count: int) -> list[str]:
    """``count`` attempts one after another: "checked" or "locked" for each."""
    outcomes = []
    for _ in range(count):
        try:
            await lockout.attempt(email)
            outcomes.append("checked")
        except errors.AccountLocked:
            outcomes.append("locked")
    return outcomes


async def assert_locked(lockout: LoginLockout, email: str, window_s: int) -> None:
    with pytest.raises(errors.RateLimited) as raised:
        await lockout.attempt(email)
    assert raised.value.code == "ACCOUNT_LOCKED"
    assert "locked" in raised.value.message
    assert raised.value.retry_after_s == window_s


async def test_attempts_are_counted_before_the_check_and_success_resets() -> None:
    lockout = LoginLockout(settings())  # 3 checks per window
    email = unique_email()
    assert await attempts(lockout, email, 2) == ["checked", "checked"]
    await lockout.succeeded(email)  # a right credential forgets the attempts
    assert await attempts(lockout, email, 4) == ["checked", "checked", "checked", "locked"]
    await assert_locked(lockout, email, 900)
    await lockout.succeeded(email)  # a success never unlocks: it needs a check, refused here
    await assert_locked(lockout, email, 900)


async def test_the_attempt_that_locks_says_so_once() -> None:
    lockout = LoginLockout(settings(lockout_max_failures=1))
    email = unique_email()
    await lockout.attempt(email)
    with pytest.raises(errors.AccountLocked) as first:
        await lockout.attempt(email)
    assert first.value.newly_locked is True
    with pytest.raises(errors.AccountLocked) as again:
        await lockout.attempt(email)
    assert again.value.newly_locked is False


async def test_concurrent_attempts_never_get_more_checks_than_the_limit() -> None:
    lockout = LoginLockout(settings(lockout_max_failures=5))
    email = unique_email()

    async def one() -> str:
        try:
            await lockout.attempt(email)
        except errors.AccountLocked:
            return "locked"
        await asyncio.sleep(0.05)  # the credential check, during which others arrive
        return "checked"

    outcomes = await asyncio.gather(*(one() for _ in range(20)))
    assert outcomes.count("checked") == 5
    assert outcomes.count("locked") == 15


async def test_emails_are_independent_and_normalized() -> None:
    lockout = LoginLockout(settings())
    victim, bystander = unique_email(), unique_email()
    for variant in (victim.upper(), f"  {victim} ", victim):
        await lockout.attempt(variant)
    await assert_locked(lockout, f" {victim.upper()}", 900)
    assert await attempts(lockout, bystander, 1) == ["checked"]


async def test_lock_expires_and_can_lock_again() -> None:
    lockout = LoginLockout(settings(lockout_max_failures=2, lockout_window_s=1))
    email = unique_email()
    assert await attempts(lockout, email, 3) == ["checked", "checked", "locked"]
    await asyncio.sleep(1.1)
    assert await attempts(lockout, email, 3) == ["checked", "checked", "locked"]


async def test_disabled_lockout_never_locks() -> None:
    lockout = LoginLockout(settings(lockout_enabled=False))
    email = unique_email()
    assert await attempts(lockout, email, 10) == ["checked"] * 10
    await lockout.succeeded(email)


async def test_unreachable_storage_fails_open() -> None:
    lockout = LoginLockout(
        settings(rate_limit_storage_url=closed_port_url(), rate_limit_fail_open=True)
    )
    email = unique_email()
    try:
        with captured_errors() as records:
            assert await attempts(lockout, email, 5) == ["checked"] * 5
            await lockout.succeeded(email)
    finally:
        await lockout.close()
    assert any("Login-lockout" in record.getMessage() for record in records)


async def test_unreachable_storage_fails_closed() -> None:
    lockout = LoginLockout(
        settings(rate_limit_storage_url=closed_port_url(), rate_limit_fail_open=False)
    )
    email = unique_email()
    try:
        with pytest.raises(errors.ServiceUnavailable):
            await lockout.attempt(email)
        with pytest.raises(errors.ServiceUnavailable):
            await lockout.succeeded(email)
    finally:
        await lockout.close()


async def test_attempts_from_two_workers_add_up_in_redis(redis_url: str) -> None:
    auth_settings = settings(rate_limit_storage_url=redis_url)
    first, second = LoginLockout(auth_settings), LoginLockout(auth_settings)
    email = unique_email()
    try:
        await first.attempt(email)
        await second.attempt(email)
        await first.attempt(email)
        await assert_locked(second, email, 900)
        await assert_locked(first, email, 900)
    finally:
        await first.close()
        await second.close()


async def test_concurrent_attempts_through_redis_never_exceed_the_limit(redis_url: str) -> None:
    # The property is the atomic reservation, not the time budget: a generous budget, so a
    # busy machine's slow Redis answer is not taken for an outage (which fails open).
    auth_settings = settings(
        rate_limit_storage_url=redis_url,
        lockout_max_failures=4,
        rate_limit_storage_timeout_ms=5000,
    )
    workers = [LoginLockout(auth_settings) for _ in range(4)]
    email = unique_email()

    async def one(lockout: LoginLockout) -> str:
        try:
            await lockout.attempt(email)
        except errors.AccountLocked:
            return "locked"
        return "checked"

    try:
        outcomes = await asyncio.gather(*(one(workers[i % 4]) for i in range(16)))
    finally:
        for lockout in workers:
            await lockout.close()
    assert outcomes.count("checked") == 4


def login_app(**overrides: Any) -> Sanic[Any, Any]:
    """A toy login route using the lockout the way the core's login does."""
    app: Sanic[Any, Any] = Sanic(f"lo_{uuid4().hex[:8]}")
    auth_settings = settings(**overrides)
    install_error_handler(app, auth_settings)
    install_runtime(app, auth_settings)

    @app.post("/login")
    async def login(request: Request) -> HTTPResponse:
        lockout = auth_runtime(request).lockout
        email, password = request.json["email"], request.json["password"]
        await lockout.attempt(email)
        if password != PASSWORD:
            raise errors.InvalidCredentials()
        await lockout.succeeded(email)
        return json({"success": True})

    return app


async def test_locked_login_over_http_even_with_rate_limiting_off() -> None:
    app = login_app(rate_limit_enabled=False)
    email = unique_email()
    async with serve(app) as client:
        runtime = auth_runtime(app)
        assert runtime.lockout.storage is runtime.limiter.storage is runtime.storage
        assert runtime.lockout.guard is runtime.limiter.guard is runtime.storage_guard
        for _ in range(3):
            response = await client.post("/login", json={"email": email, "password": "wrong"})
            assert response.status_code == 401
        locked = await client.post("/login", json={"email": email, "password": PASSWORD})
        assert locked.status_code == 429
        body = locked.json()
        assert body["success"] is False
        assert body["errors"][0]["code"] == "ACCOUNT_LOCKED"
        assert body["errors"][0]["field"] is None
        assert int(locked.headers["Retry-After"]) == 900
        other = await client.post("/login", json={"email": unique_email(), "password": PASSWORD})
        assert other.status_code == 200


async def test_lockout_alone_opens_its_own_storage() -> None:
    lockout = LoginLockout(settings())
    try:
        assert lockout.guard.what == "Login-lockout"
        email = unique_email()
        assert await attempts(lockout, email, 4) == ["checked"] * 3 + ["locked"]
    finally:
        await lockout.close()
