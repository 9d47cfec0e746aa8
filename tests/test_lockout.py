"""Account lockout: N failures lock an email, success resets, storage failures, Redis."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

import pytest
from sanic import Request, Sanic, json
from sanic.response import HTTPResponse

from sanic_auth_sessions import errors
from sanic_auth_sessions.config import AuthSettings
from sanic_auth_sessions.error_handler import install_error_handler
from sanic_auth_sessions.lockout import LoginLockout, install_lockout
from sanic_auth_sessions.ratelimit import install_rate_limiting

from .redis_server import captured_errors, closed_port_url
from .serving import serve

PASSWORD = "right password"


def settings(**overrides: Any) -> AuthSettings:
    overrides.setdefault("lockout_max_failures", 3)
    return AuthSettings.from_defaults(environment="test", **overrides)


def unique_email() -> str:
    return f"user_{uuid4().hex[:10]}@example.com"


async def assert_locked(lockout: LoginLockout, email: str, window_s: int) -> None:
    with pytest.raises(errors.RateLimited) as raised:
        await lockout.check(email)
    assert raised.value.code == "ACCOUNT_LOCKED"
    assert "locked" in raised.value.message
    assert 1 <= raised.value.retry_after_s <= window_s


async def test_locks_after_max_failures_and_success_resets() -> None:
    lockout = LoginLockout(settings())
    email = unique_email()
    assert [await lockout.record_failure(email) for _ in range(2)] == [False, False]
    await lockout.check(email)  # not locked yet
    await lockout.reset(email)  # a successful login forgets the failures
    assert [await lockout.record_failure(email) for _ in range(2)] == [False, False]
    await lockout.check(email)
    assert await lockout.record_failure(email) is True  # exactly this one locks
    await assert_locked(lockout, email, 900)
    assert await lockout.record_failure(email) is False  # already locked
    await lockout.reset(email)
    await lockout.check(email)


async def test_emails_are_independent_and_normalized() -> None:
    lockout = LoginLockout(settings())
    victim, bystander = unique_email(), unique_email()
    for variant in (victim.upper(), f"  {victim} ", victim):
        await lockout.record_failure(variant)
    await assert_locked(lockout, f" {victim.upper()}", 900)
    await lockout.check(bystander)
    assert await lockout.record_failure(bystander) is False


async def test_lock_expires_and_can_lock_again() -> None:
    lockout = LoginLockout(settings(lockout_max_failures=2, lockout_window_s=1))
    email = unique_email()
    assert [await lockout.record_failure(email) for _ in range(2)] == [False, True]
    await assert_locked(lockout, email, 1)
    await asyncio.sleep(1.1)
    await lockout.check(email)
    assert [await lockout.record_failure(email) for _ in range(2)] == [False, True]


async def test_disabled_lockout_never_locks() -> None:
    lockout = LoginLockout(settings(lockout_enabled=False))
    email = unique_email()
    assert not any([await lockout.record_failure(email) for _ in range(10)])
    await lockout.check(email)
    await lockout.reset(email)


async def test_unreachable_storage_fails_open() -> None:
    lockout = LoginLockout(
        settings(rate_limit_storage_url=closed_port_url(), rate_limit_fail_open=True)
    )
    email = unique_email()
    try:
        with captured_errors() as records:
            assert not any([await lockout.record_failure(email) for _ in range(5)])
            await lockout.check(email)
            await lockout.reset(email)
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
            await lockout.check(email)
        with pytest.raises(errors.ServiceUnavailable):
            await lockout.record_failure(email)
        with pytest.raises(errors.ServiceUnavailable):
            await lockout.reset(email)
    finally:
        await lockout.close()


async def test_failures_from_two_workers_add_up_in_redis(redis_url: str) -> None:
    auth_settings = settings(rate_limit_storage_url=redis_url)
    first, second = LoginLockout(auth_settings), LoginLockout(auth_settings)
    email = unique_email()
    try:
        assert await first.record_failure(email) is False
        assert await second.record_failure(email) is False
        assert await first.record_failure(email) is True
        await assert_locked(second, email, 900)
        await second.reset(email)
        await first.check(email)
    finally:
        await first.close()
        await second.close()


def login_app(**overrides: Any) -> Sanic[Any, Any]:
    """A toy login route using the lockout the way the core's login does."""
    app: Sanic[Any, Any] = Sanic(f"lo_{uuid4().hex[:8]}")
    auth_settings = settings(**overrides)
    install_error_handler(app, auth_settings)
    install_rate_limiting(app, auth_settings)
    install_lockout(app, auth_settings)

    @app.post("/login")
    async def login(request: Request) -> HTTPResponse:
        lockout: LoginLockout = request.app.ctx.auth_lockout
        email, password = request.json["email"], request.json["password"]
        await lockout.check(email)
        if password != PASSWORD:
            await lockout.record_failure(email)
            raise errors.InvalidCredentials()
        await lockout.reset(email)
        return json({"success": True})

    return app


async def test_locked_login_over_http_even_with_rate_limiting_off() -> None:
    app = login_app(rate_limit_enabled=False)
    email = unique_email()
    async with serve(app) as client:
        assert app.ctx.auth_lockout.storage is app.ctx.auth_rate_limiter.storage
        for _ in range(3):
            response = await client.post("/login", json={"email": email, "password": "wrong"})
            assert response.status_code == 401
        locked = await client.post("/login", json={"email": email, "password": PASSWORD})
        assert locked.status_code == 429
        body = locked.json()
        assert body["success"] is False
        assert body["errors"][0]["code"] == "ACCOUNT_LOCKED"
        assert body["errors"][0]["field"] is None
        assert 1 <= int(locked.headers["Retry-After"]) <= 900
        other = await client.post("/login", json={"email": unique_email(), "password": PASSWORD})
        assert other.status_code == 200


async def test_lockout_installed_alone_opens_its_own_storage() -> None:
    app: Sanic[Any, Any] = Sanic(f"lo_{uuid4().hex[:8]}")
    install_lockout(app, settings())
    async with serve(app):
        lockout: LoginLockout = app.ctx.auth_lockout
        assert app.ctx.auth_settings.lockout_max_failures == 3
        email = unique_email()
        assert [await lockout.record_failure(email) for _ in range(3)] == [False, False, True]
