"""The rate-limit storage behind a time budget and a circuit breaker, against a Redis that hangs.

A private ``redis-server`` is stopped with SIGSTOP: connections are still accepted by the
kernel but nothing answers, as with a Redis host that froze. The budget is the default 100 ms.
Timing is asserted only loosely (a hung login used to take four 1 s socket timeouts); the exact
property is counted instead: a request makes at most one call that times out, because that
call spends its whole budget.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.http.runtime import auth_runtime
from sanic_auth_sessions.throttle.lockout import LoginLockout
from sanic_auth_sessions.throttle.storage_guard import StorageGuard, redacted_url

from ..conftest import STRONG_PASSWORD, RunningApp
from ..redis_server import REDIS_START_TIMEOUT_S, _answers_ping
from ..serving import free_port

HIGH_LIMITS = {"rate_limit_login": "1000/minute", "rate_limit_login_email": "1000/minute"}
LOOSE_BOUND_S = 1.0  # ten times the budget; the old behaviour took over 4 s


class StoppableRedis:
    """A ``redis-server`` of this test alone, which the test can freeze and thaw."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("no redis-server on PATH")
        port = free_port()
        self.url = f"redis://127.0.0.1:{port}/0"
        arguments = ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir)]
        self.process = subprocess.Popen(
            [binary, *arguments, "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + REDIS_START_TIMEOUT_S
        while not _answers_ping(port):
            assert self.process.poll() is None and time.monotonic() < deadline, "no redis"
            time.sleep(0.05)

    def freeze(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        self.thaw()
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[StoppableRedis]:
    server = StoppableRedis(tmp_path)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def captured(level: int = logging.WARNING) -> Iterator[list[logging.LogRecord]]:
    """Records of the package at ``level`` and above."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(level)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("sanic_auth_sessions")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def opened(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    return [r for r in records if "circuit breaker open" in r.getMessage()]


def closed(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    return [r for r in records if "circuit breaker closed" in r.getMessage()]


async def timed_login(api: RunningApp, email: str) -> tuple[Any, float]:
    started = time.monotonic()
    response = await api.client.post(
        api.url("/auth/login"), json={"email": email, "password": STRONG_PASSWORD}
    )
    return response, time.monotonic() - started


async def test_a_hung_storage_costs_a_login_one_budget_then_the_breaker_skips_it(
    make_app: Any, redis: StoppableRedis
) -> None:
    api: RunningApp = await make_app(
        rate_limit_enabled=True,
        lockout_enabled=True,
        rate_limit_storage_url=redis.url,
        rate_limit_breaker_cooldown_s=1,
        **HIGH_LIMITS,
    )
    guard: StorageGuard = auth_runtime(api.app).limiter.guard
    assert auth_runtime(api.app).lockout.guard is guard  # one budget and one breaker per request
    email = f"hung-{uuid4().hex[:8]}@example.com"
    await api.register(email)
    await api.login(email)  # the pool holds a live connection to Redis now

    with captured() as records:
        redis.freeze()
        # Each login makes up to eight storage calls (two limits, the lockout's attempt and
        # success):
        # the first one hangs and spends the budget, the others are not made, the login
        # fails open.
        for failures in (1, 2, 3):
            response, elapsed = await timed_login(api, email)
            assert response.status_code == 200, response.text
            assert guard.failures == failures
            assert elapsed < LOOSE_BOUND_S
            assert "X-RateLimit-Limit" not in response.headers  # not limited: failing open
        assert guard.is_open
        for _ in range(5):  # open: the storage is not called at all
            response, elapsed = await timed_login(api, email)
            assert response.status_code == 200
            assert elapsed < LOOSE_BOUND_S
        assert guard.failures == 3

        redis.thaw()
        await asyncio.sleep(1.1)  # the cool-down: the next call probes the storage
        response, _ = await timed_login(api, email)
        assert response.status_code == 200
        assert not guard.is_open and guard.failures == 0
        assert "X-RateLimit-Limit" in response.headers  # limited again
        for _ in range(3):
            assert (await timed_login(api, email))[0].status_code == 200

    # One line per state change, none per request.
    assert len(opened(records)) == 1 and opened(records)[0].levelno == logging.ERROR
    assert "FAILING OPEN" in opened(records)[0].getMessage()
    assert len(closed(records)) == 1 and closed(records)[0].levelno == logging.WARNING
    assert len(records) == 2, [r.getMessage() for r in records]


async def test_failing_closed_answers_503_and_at_once_while_open(
    make_app: Any, redis: StoppableRedis
) -> None:
    api: RunningApp = await make_app(
        rate_limit_enabled=True,
        lockout_enabled=True,
        rate_limit_storage_url=redis.url,
        rate_limit_fail_open=False,
        **HIGH_LIMITS,
    )
    guard: StorageGuard = auth_runtime(api.app).limiter.guard
    email = f"closed-{uuid4().hex[:8]}@example.com"
    await api.register(email)
    redis.freeze()
    with captured() as records:
        for failures in (1, 2, 3, 3, 3):  # three timeouts open the breaker; then no call
            response, elapsed = await timed_login(api, email)
            assert response.status_code == 503
            assert response.json()["errors"][0]["code"] == "SERVICE_UNAVAILABLE"
            assert guard.failures == failures
            assert elapsed < LOOSE_BOUND_S
        # Routes without a limit keep working.
        assert (await api.client.get("/health")).status_code == 200
    assert len(opened(records)) == 1
    assert "failing closed" in opened(records)[0].getMessage()


def lockout_settings(url: str, **overrides: Any) -> AuthSettings:
    return AuthSettings.from_defaults(
        environment="test", rate_limit_storage_url=url, lockout_max_failures=3, **overrides
    )


async def test_outside_a_request_each_call_gets_the_budget_and_half_open_lets_one_through(
    redis: StoppableRedis,
) -> None:
    # A zero cool-down: the breaker is half-open as soon as it opens.
    lockout = LoginLockout(lockout_settings(redis.url, rate_limit_breaker_cooldown_s=0))
    guard = lockout.guard
    email = f"direct-{uuid4().hex[:8]}@example.com"
    try:
        await lockout.attempt(email)
        redis.freeze()
        with captured() as records:
            # No request: each call has the whole budget, so each times out on its own.
            await lockout.attempt(email)  # fails open: the check may go ahead
            await lockout.attempt(email)
            await lockout.succeeded(email)
            assert guard.failures == 3 and guard.is_open
            # Half-open: of five concurrent calls one probes the storage, four are skipped.
            await asyncio.gather(*(lockout.attempt(email) for _ in range(5)))
            assert guard.failures == 4 and guard.is_open
            redis.thaw()
            await lockout.attempt(email)  # the probe succeeds: closed
            assert guard.failures == 0 and not guard.is_open
            other = f"after-{uuid4().hex[:8]}@example.com"
            for _ in range(3):
                await lockout.attempt(other)
            with pytest.raises(errors.AccountLocked):
                await lockout.attempt(other)
        assert len(opened(records)) == 1 and len(closed(records)) == 1
        assert "Login-lockout" in opened(records)[0].getMessage()
    finally:
        await lockout.close()


async def test_failing_closed_outside_a_request_raises_service_unavailable(
    redis: StoppableRedis,
) -> None:
    lockout = LoginLockout(lockout_settings(redis.url, rate_limit_fail_open=False))
    email = f"direct-{uuid4().hex[:8]}@example.com"
    try:
        await lockout.attempt(email)
        redis.freeze()
        for _ in range(4):
            with pytest.raises(errors.ServiceUnavailable):
                await lockout.attempt(email)
        assert lockout.guard.is_open and lockout.guard.failures == 3
    finally:
        await lockout.close()


def test_passwords_in_the_storage_url_are_not_logged() -> None:
    assert redacted_url("redis://:s3cret@redis.internal:6379/0") == (
        "redis://***@redis.internal:6379/0"
    )
    assert redacted_url("redis://redis.internal:6379/0") == "redis://redis.internal:6379/0"
