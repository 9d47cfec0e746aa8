"""A real PostgreSQL server restarted and stopped under a running app: only 503s, never a 500,
and the same app serves again once the server is back, without a restart of its own.

The server is the test's own (``postgres_server.py``), reached directly or through a real
PgBouncer in transaction mode (with ``AUTH_DATABASE_POOLER=pgbouncer-transaction``). What the
app sees differs: a direct connection is terminated by the shutdown ("terminating connection
due to administrator command"), refused while the server is down, or told it is starting up;
PgBouncer reports its own failures ("server conn crashed?", "server login has been failing").
Each must be a 503 ``DATABASE_UNAVAILABLE``.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from asyncpg import exceptions as pg
from tortoise.backends.base.executor import EXECUTOR_CACHE

from sanic_auth_sessions.db.errors import is_database_unavailable

from ..conftest import (
    STRONG_PASSWORD,
    RecordingMailer,
    RunningApp,
    bearer,
    build_app,
    start_app,
    stop_app,
)
from ..helpers import assert_error
from ..postgres_server import ThrowawayPgBouncer, ThrowawayPostgres

pytestmark = pytest.mark.asyncio(loop_scope="module")

RECOVERY_TIMEOUT_S = 30
CLIENTS = 3


@pytest.fixture(scope="module")
def postgres() -> Iterator[ThrowawayPostgres]:
    server = ThrowawayPostgres()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def pgbouncer(postgres: ThrowawayPostgres) -> Iterator[ThrowawayPgBouncer]:
    bouncer = ThrowawayPgBouncer(postgres)
    try:
        yield bouncer
    finally:
        bouncer.close()


@pytest_asyncio.fixture(loop_scope="module", params=["direct", "pgbouncer"])
async def served(
    request: pytest.FixtureRequest, postgres: ThrowawayPostgres
) -> AsyncIterator[RunningApp]:
    """The app on the throwaway server, directly or through PgBouncer."""
    if request.param == "pgbouncer":
        url = request.getfixturevalue("pgbouncer").url
        pooler = "pgbouncer-transaction"
    else:
        url, pooler = postgres.url, "none"
    connection = await asyncpg.connect(postgres.url.replace("postgres://", "postgresql://"))
    await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    await connection.close()
    EXECUTOR_CACHE.clear()
    mailer = RecordingMailer()
    app = build_app(url, mailer=mailer, database_pooler=pooler)
    running, server = await start_app(app, mailer)
    try:
        yield running
    finally:
        await stop_app(running, server)


class Traffic:
    """Clients sending authenticated reads and logins in a loop; statuses are counted."""

    def __init__(self, api: RunningApp, tokens: dict[str, Any], email: str) -> None:
        self.api = api
        self.tokens = tokens
        self.email = email
        self.statuses: Counter[int] = Counter()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def requests(self) -> list[Any]:
        api = self.api
        return [
            lambda: api.client.get(api.url("/users/me"), headers=bearer(self.tokens)),
            lambda: api.client.get(api.url("/sessions/me"), headers=bearer(self.tokens)),
            lambda: api.client.post(
                api.url("/auth/login"), json={"email": self.email, "password": STRONG_PASSWORD}
            ),
        ]

    async def _client(self) -> None:
        while not self._stop.is_set():
            for send in self.requests():
                response: httpx.Response = await send()
                self.statuses[response.status_code] += 1
                if response.status_code == 503:
                    assert_error(response, 503, "DATABASE_UNAVAILABLE")

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._client()) for _ in range(CLIENTS)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)


async def wait_until_served(traffic: Traffic) -> None:
    """Every kind of request succeeds again (the app was not restarted)."""
    deadline = time.monotonic() + RECOVERY_TIMEOUT_S
    for send in traffic.requests():
        while (response := await send()).status_code != 200:
            assert response.status_code == 503, response.text
            assert time.monotonic() < deadline, "the app did not recover"
            await asyncio.sleep(0.1)


async def test_restart_and_stop_give_503s_never_500s_then_recover(
    served: RunningApp, postgres: ThrowawayPostgres
) -> None:
    api = served
    tokens = await api.user_with_tokens("restart@example.com")
    traffic = Traffic(api, tokens, "restart@example.com")
    traffic.start()
    try:
        await asyncio.sleep(0.3)
        await asyncio.to_thread(postgres.restart)  # under load
        await wait_until_served(traffic)

        await asyncio.to_thread(postgres.stop)
        for send in traffic.requests():
            assert_error(await send(), 503, "DATABASE_UNAVAILABLE")
        health = await api.client.get("/health")
        assert health.status_code == 503 and health.json()["status"] == "unhealthy"
        await asyncio.sleep(0.5)  # traffic meets the stopped server for a while
        await asyncio.to_thread(postgres.start)
        await wait_until_served(traffic)
        await asyncio.sleep(0.3)
    finally:
        await traffic.stop()
    assert set(traffic.statuses) <= {200, 503}, traffic.statuses
    assert traffic.statuses[503] and traffic.statuses[200], traffic.statuses
    assert (await api.client.get("/health")).status_code == 200


async def test_pgbouncer_reports_a_stopped_server_as_an_outage(
    pgbouncer: ThrowawayPgBouncer, postgres: ThrowawayPostgres
) -> None:
    """PgBouncer's own errors carry SQLSTATE 08P01 (protocol violation) but no server source
    location: an outage, unlike the same SQLSTATE from PostgreSQL itself."""
    await asyncio.to_thread(postgres.stop)
    try:
        error: BaseException | None = None
        try:
            client = await asyncpg.connect(
                pgbouncer.url.replace("postgres://", "postgresql://"), statement_cache_size=0
            )
            try:
                await client.fetchval("SELECT 1")
            finally:
                client.terminate()
        except Exception as exc:
            error = exc
        assert error is not None
        reported = [e for e in (error, error.__cause__, error.__context__) if e is not None]
        assert any(
            isinstance(e, pg.ProtocolViolationError) and e.server_source_function is None
            for e in reported
        ), reported
        assert is_database_unavailable(error)
    finally:
        await asyncio.to_thread(postgres.start)
