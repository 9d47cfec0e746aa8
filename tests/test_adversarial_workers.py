"""The example app, two worker processes, one fresh PostgreSQL database, 1,000 logins.

Exactly one session row per login, and every refresh token usable exactly once, whichever
worker served which request. The example app is run unchanged (``sanic example_app.server:app
--workers 2``); only its bcrypt cost is lowered, through Sanic's own ``SANIC_`` environment
prefix (``SANIC_AUTH_BCRYPT_ROUNDS=4`` becomes ``app.config.AUTH_BCRYPT_ROUNDS``), because at
the default 12 rounds 1,000 logins are minutes of CPU on a small machine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import asyncpg
import httpx
import pytest

from . import example_process
from .conftest import (
    BCRYPT_PATTERN,
    JWT_PATTERN,
    POSTGRES_URL,
    STRONG_PASSWORD,
    requires_postgres,
)
from .example_process import TWO_WORKERS, example_app
from .serving import loopback_client

pytestmark = requires_postgres("the multi-worker test runs on PostgreSQL")

USERS = 20
LOGINS_PER_USER = 50
CLIENTS = 50  # concurrent clients, each with its own connection(s)
SECRET_KEY = "workers-test-secret-key-0123456789abcdef"  # 40 characters


def dsn(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """A database of its own, created empty (the app migrates it at start) and dropped after."""
    assert POSTGRES_URL is not None
    name = f"auth_workers_{uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(dsn(POSTGRES_URL))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield with_database(POSTGRES_URL, name)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def fetch(url: str, sql: str) -> Any:
    connection = await asyncpg.connect(dsn(url))
    try:
        return await connection.fetch(sql)
    finally:
        await connection.close()


def new_client(base_url: str) -> httpx.AsyncClient:
    return loopback_client(base_url, timeout=60)


async def run_clients(clients: list[httpx.AsyncClient], jobs: list[Any], call: Any) -> list[Any]:
    """Run ``call(client, job)`` for every job, spread over the concurrent clients."""
    results: list[Any] = [None] * len(jobs)

    async def client_loop(number: int) -> None:
        for index in range(number, len(jobs), len(clients)):
            results[index] = await call(clients[number], jobs[index])

    await asyncio.gather(*(client_loop(number) for number in range(len(clients))))
    return results


async def login(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/login", json={"email": email, "password": STRONG_PASSWORD}
    )


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": token})


async def scenario(base_url: str, database_url: str) -> None:
    clients = [new_client(base_url) for _ in range(CLIENTS)]
    try:
        await scenario_with(clients, database_url)
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))


async def scenario_with(clients: list[httpx.AsyncClient], database_url: str) -> None:
    emails = [f"worker-user-{i}@example.com" for i in range(USERS)]
    for email in emails:
        response = await clients[0].post(
            "/api/v1/auth/register", json={"email": email, "password": STRONG_PASSWORD}
        )
        assert response.status_code == 201, response.text
    hashes = await fetch(database_url, "SELECT hashed_password FROM auth_users")
    assert all(row["hashed_password"].startswith("$2b$04$") for row in hashes)

    # 1,000 logins from 50 concurrent clients.
    logins = await run_clients(clients, emails * LOGINS_PER_USER, login)
    statuses = [response.status_code for response in logins]
    assert statuses == [200] * USERS * LOGINS_PER_USER, sorted(set(statuses))
    pairs = [response.json() for response in logins]
    refresh_tokens = [pair["refresh_token"] for pair in pairs]
    assert len(set(refresh_tokens)) == 1000

    rows = await fetch(
        database_url, "SELECT user_id, count(*) AS n FROM auth_sessions GROUP BY user_id"
    )
    assert sum(row["n"] for row in rows) == 1000
    assert sorted(row["n"] for row in rows) == [LOGINS_PER_USER] * USERS

    # Every refresh token works once...
    rotated = await run_clients(clients, refresh_tokens, refresh)
    assert [r.status_code for r in rotated] == [200] * 1000, sorted(
        {r.status_code for r in rotated}
    )
    new_tokens = [r.json()["refresh_token"] for r in rotated]
    assert len(set(new_tokens) | set(refresh_tokens)) == 2000
    # ... and never again: a second use is reuse, refused, and it revokes the session.
    replayed = await run_clients(clients, refresh_tokens, refresh)
    assert [r.status_code for r in replayed] == [401] * 1000, sorted(
        {r.status_code for r in replayed}
    )
    assert {r.json()["errors"][0]["code"] for r in replayed} == {"AUTH_TOKEN_REUSED"}
    counts = await fetch(
        database_url,
        "SELECT count(*) AS total, count(*) FILTER (WHERE is_active) AS active FROM auth_sessions",
    )
    assert (counts[0]["total"], counts[0]["active"]) == (1000, 0)
    # The sessions are dead for the rotated tokens too.
    dead = await run_clients(clients, new_tokens[:100], refresh)
    assert {r.status_code for r in dead} == {401}


def test_a_thousand_logins_on_two_workers_give_a_thousand_sessions_each_refreshable_once(
    tmp_path: Path, fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two workers each importing the app on a busy 2-core machine can take longer than the
    # 30 s a single process gets.
    monkeypatch.setattr(example_process, "START_TIMEOUT_S", 120)
    env = {
        "DATABASE_URL": fresh_database,
        "ENVIRONMENT": "test",
        "AUTH_SECRET_KEY": SECRET_KEY,
        "RATE_LIMIT_ENABLED": "false",
        "SANIC_AUTH_BCRYPT_ROUNDS": "4",
    }
    with example_app(tmp_path, *TWO_WORKERS, **env) as base_url:
        asyncio.run(scenario(base_url, fresh_database))
    log = "\n".join(path.read_text(errors="replace") for path in tmp_path.glob("server-*.log"))
    # Two workers really served (Sanic logs each worker process it starts).
    assert log.count("Starting worker") >= 2, log[-2000:]
    assert not JWT_PATTERN.search(log), "a JWT was logged"
    assert not BCRYPT_PATTERN.search(log), "a password hash was logged"
