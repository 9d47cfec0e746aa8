"""Behind a connection pooler in transaction mode (``AUTH_DATABASE_POOLER``), and the direct
URL for schema work (``AUTH_MIGRATIONS_DATABASE_URL``).

With ``TEST_PGBOUNCER_URL`` set, the ``database_url`` tests here also run through a real
PgBouncer in transaction mode, as do the auth, sessions, cleanup and migration modules.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import asyncpg
import pytest
from sanic import Sanic
from tortoise import Tortoise
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.contrib.sanic import register_tortoise

from sanic_auth_sessions.core.config import ConfigurationError
from sanic_auth_sessions.db.connection import (
    connection,
    connection_config,
    session_with_user_sql,
    tortoise_config,
)
from sanic_auth_sessions.db.migrate import all_versions

from ..conftest import (
    POSTGRES_URL,
    RecordingMailer,
    RunningApp,
    bearer,
    build_app,
    empty_postgres,
    requires_postgres,
    start_app,
    stop_app,
)
from ..tcp_proxy import TcpProxy

USERS = 4
ROUNDS = 15


def with_query(url: str, query: str) -> str:
    return urlunsplit(urlsplit(url)._replace(query=query))


def test_without_named_statements_the_statement_cache_is_off() -> None:
    url = "postgres://app:secret@db.example:6432/auth?statement_cache_size=100&maxsize=20"
    config = connection_config(url, named_statements=False)
    assert isinstance(config, dict)
    assert config["engine"] == "tortoise.backends.asyncpg"
    assert config["credentials"]["statement_cache_size"] == 0  # whatever the URL says
    assert config["credentials"]["maxsize"] == "20"  # the rest of the URL is kept
    assert connection_config(url) == url
    assert connection_config("sqlite:///tmp/x.sqlite3", named_statements=False) == (
        "sqlite:///tmp/x.sqlite3"
    )
    assert tortoise_config(url, named_statements=False)["connections"]["default"] == config


async def test_concurrent_traffic_succeeds(make_app: Callable[..., Any]) -> None:
    """Logins, refreshes and authenticated reads from several clients at once. Through
    PgBouncer in transaction mode with named statements this gave 500s: one client's
    statement run with another's parameters."""
    api: RunningApp = await make_app()
    emails = [f"pooled{index}@example.com" for index in range(USERS)]
    for email in emails:
        await api.register(email)
    statuses: Counter[int] = Counter()

    async def client(email: str) -> None:
        tokens = await api.login(email)
        for _ in range(ROUNDS):
            for response in await asyncio.gather(
                api.client.get(api.url("/users/me"), headers=bearer(tokens)),
                api.client.get(api.url("/sessions/me"), headers=bearer(tokens)),
                api.client.get(api.url("/users/me"), headers=bearer(tokens)),
            ):
                statuses[response.status_code] += 1
            refreshed = await api.client.post(
                api.url("/auth/refresh"), json={"refresh_token": tokens["refresh_token"]}
            )
            statuses[refreshed.status_code] += 1
            tokens = refreshed.json()

    await asyncio.gather(*(client(email) for email in emails))
    assert statuses == {200: USERS * ROUNDS * 4}


async def prepared_statements() -> list[str]:
    """The named prepared statements of the app's connection (a pool of one)."""
    _, rows = await connection().execute_query("SELECT statement FROM pg_prepared_statements")
    return [row["statement"] for row in rows]


@requires_postgres("prepared statements are PostgreSQL's")
@pytest.mark.parametrize("pooler", ["none", "pgbouncer-transaction"])
async def test_the_authentication_query_is_prepared_only_without_a_pooler(pooler: str) -> None:
    """``none`` keeps the hot path's prepared statement; ``pgbouncer-transaction`` runs every
    query unnamed, so no statement outlives its transaction in the server session."""
    assert POSTGRES_URL is not None
    await empty_postgres(POSTGRES_URL)
    EXECUTOR_CACHE.clear()
    mailer = RecordingMailer()
    app = build_app(with_query(POSTGRES_URL, "maxsize=1"), mailer=mailer, database_pooler=pooler)
    api, server = await start_app(app, mailer)
    try:
        tokens = await api.user_with_tokens("prepared@example.com")
        for _ in range(2):
            me = await api.client.get(api.url("/users/me"), headers=bearer(tokens))
            assert me.status_code == 200
        statements = await prepared_statements()
    finally:
        await stop_app(api, server)
    if pooler == "none":
        assert session_with_user_sql(AsyncpgDBClient) in statements
    else:
        assert statements == []


def host_owned_tortoise(url: str) -> Callable[[Sanic], None]:
    def setup(app: Sanic) -> None:
        register_tortoise(app, config=tortoise_config(url))

        @app.before_server_start
        async def create_tables(app: Sanic) -> None:
            await Tortoise.generate_schemas(safe=True)

    return setup


@requires_postgres("the statement cache is asyncpg's")
async def test_a_host_connection_with_a_statement_cache_is_refused_behind_a_pooler() -> None:
    """The host owns Tortoise: its URL must turn asyncpg's statement cache off."""
    assert POSTGRES_URL is not None
    mailer = RecordingMailer()
    EXECUTOR_CACHE.clear()
    cached = build_app(
        None,  # type: ignore[arg-type]
        mailer=mailer,
        setup=host_owned_tortoise(POSTGRES_URL),
        database_pooler="pgbouncer-transaction",
    )
    with pytest.raises(ConfigurationError, match="statement_cache_size=0"):
        await start_app(cached, mailer)
    await Tortoise.close_connections()

    EXECUTOR_CACHE.clear()
    uncached = build_app(
        None,  # type: ignore[arg-type]
        mailer=mailer,
        setup=host_owned_tortoise(with_query(POSTGRES_URL, "statement_cache_size=0")),
        database_pooler="pgbouncer-transaction",
    )
    running, server = await start_app(uncached, mailer)
    try:
        tokens = await running.user_with_tokens(f"host-{uuid4().hex[:8]}@example.com")
        me = await running.client.get(running.url("/users/me"), headers=bearer(tokens))
        assert me.status_code == 200
    finally:
        await stop_app(running, server)


async def test_the_pooler_setting_is_refused_on_sqlite(tmp_path: Any) -> None:
    mailer = RecordingMailer()
    EXECUTOR_CACHE.clear()
    app = build_app(
        f"sqlite://{tmp_path / 'pooled.sqlite3'}",
        mailer=mailer,
        database_pooler="pgbouncer-transaction",
    )
    with pytest.raises(ConfigurationError, match="PostgreSQL"):
        await start_app(app, mailer)
    await Tortoise.close_connections()


@requires_postgres("a second database on the PostgreSQL server")
async def test_migrate_on_start_goes_through_the_migrations_url() -> None:
    """The main URL leads nowhere at start (its proxy is cut); the schema work still happens,
    through ``AUTH_MIGRATIONS_DATABASE_URL``. The main URL comes back only once every migration
    is recorded, while the start waits for it; then the app serves."""
    assert POSTGRES_URL is not None
    name = f"mig_on_start_{uuid4().hex[:8]}"
    admin = await asyncpg.connect(POSTGRES_URL.replace("postgres://", "postgresql://", 1))
    await admin.execute(f'CREATE DATABASE "{name}"')
    migrations_url = urlunsplit(urlsplit(POSTGRES_URL)._replace(path=f"/{name}"))
    target = urlsplit(migrations_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    port = await proxy.start()
    await proxy.cut()
    main_url = urlunsplit(target._replace(netloc=f"{target.username}@127.0.0.1:{port}"))
    mailer = RecordingMailer()
    EXECUTOR_CACHE.clear()
    app = build_app(
        main_url,
        mailer=mailer,
        generate_schemas=False,
        migrate_on_start=True,
        migrations_database_url=migrations_url,
    )

    async def restore_once_migrated() -> list[str]:
        direct = await asyncpg.connect(migrations_url.replace("postgres://", "postgresql://", 1))
        try:
            while True:
                present = await direct.fetchval("SELECT to_regclass('aerich') IS NOT NULL")
                rows = await direct.fetch("SELECT version FROM aerich") if present else []
                if len(rows) == len(all_versions(migrations_url)):
                    await proxy.restore()
                    return sorted(row["version"] for row in rows)
                await asyncio.sleep(0.05)
        finally:
            await direct.close()

    restored = asyncio.ensure_future(restore_once_migrated())
    running, server = await start_app(app, mailer)
    try:
        assert sorted(await restored) == sorted(all_versions(migrations_url))
        tokens = await running.user_with_tokens("migrated@example.com")
        me = await running.client.get(running.url("/users/me"), headers=bearer(tokens))
        assert me.status_code == 200
    finally:
        await stop_app(running, server)
        await proxy.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
