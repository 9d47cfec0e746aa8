"""A transaction whose start fails, or is cancelled, leaves nothing behind.

Tortoise makes the pooled connection (or the SQLite lock) the task's before it sends
``BEGIN``, and cleans up only when the body ends: a ``BEGIN`` that fails or is cancelled kept
the connection out of the pool, the SQLite lock taken, and the lost connection as the task's
own. Under Sanic the task is the HTTP connection's, so each later request on that keep-alive
connection failed ("connection has been released back to the pool") although the database
was back. ``db.connection.transaction`` ends such a start like a failed body.

Each case uses a real server: PostgreSQL through a TCP proxy that holds ``BEGIN`` (then is cut,
or the task is cancelled), with a pool of one connection, so a leaked connection would make
the next transaction wait forever; SQLite with its one worker thread kept busy so that
``BEGIN`` waits, then the task is cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.connection import get_connections

from sanic_auth_sessions.db.connection import (
    close_database,
    connection,
    init_database,
    transaction,
)
from sanic_auth_sessions.db.errors import is_database_unavailable

from ..conftest import POSTGRES_URL, requires_postgres
from ..tcp_proxy import TcpProxy

#: Long enough for a wedged transaction to show as a hang, far longer than a healthy one.
NEXT_TRANSACTION_TIMEOUT_S = 5.0


async def served_again() -> int:
    """A transaction and a plain query with this task's connections (``wait_for`` runs them
    in a copy of its context), within the time limit."""

    async def both() -> int:
        async with transaction() as db:
            _, rows = await db.execute_query("SELECT 1 AS one")
        _, plain = await connection().execute_query("SELECT 2 AS two")
        return int(rows[0]["one"]) + int(plain[0]["two"])

    return await asyncio.wait_for(both(), NEXT_TRANSACTION_TIMEOUT_S)


def task_connection_is_the_shared_one() -> bool:
    """The task's connection is the client every task shares, not a transaction's."""
    return get_connections().get("default") is connection()


def begin_in_task() -> asyncio.Task[None]:
    """A task that runs an (empty) transaction and waits inside it."""

    async def run() -> None:
        async with transaction():
            await asyncio.Event().wait()  # pragma: no cover (never entered in these tests)

    return asyncio.create_task(run())


@pytest.fixture
async def proxied_postgres() -> AsyncIterator[TcpProxy]:
    """Tortoise on the test PostgreSQL through a proxy, a pool of one connection."""
    assert POSTGRES_URL is not None
    target = urlsplit(POSTGRES_URL)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    port = await proxy.start()
    url = urlunsplit(
        target._replace(netloc=f"{target.username}@127.0.0.1:{port}", query="minsize=1&maxsize=1")
    )
    EXECUTOR_CACHE.clear()
    await init_database(url, generate_schemas=False)
    try:
        assert await served_again() == 3  # the pool's one connection is open
        yield proxy
    finally:
        await proxy.close()
        await close_database()


@requires_postgres("a real PostgreSQL BEGIN that does not answer")
async def test_a_transaction_cancelled_during_begin_gives_its_connection_back(
    proxied_postgres: TcpProxy,
) -> None:
    proxy = proxied_postgres
    proxy.hold()
    outer_connection = get_connections().get("default")
    task = begin_in_task()
    await asyncio.wait_for(proxy.held.wait(), NEXT_TRANSACTION_TIMEOUT_S)
    task.cancel()
    proxy.release()  # the server answers again (asyncpg's cancel request goes through it)
    result = await asyncio.gather(task, return_exceptions=True)
    assert isinstance(result[0], asyncio.CancelledError)
    assert get_connections().get("default") is outer_connection
    assert await served_again() == 3


@requires_postgres("a real PostgreSQL connection lost during BEGIN")
async def test_a_failed_begin_in_this_task_leaves_this_task_its_connection(
    proxied_postgres: TcpProxy,
) -> None:
    """Same task, as in a Sanic keep-alive connection: the next query is not the lost one's."""
    proxy = proxied_postgres
    proxy.hold()

    async def cut_once_held() -> None:
        await proxy.held.wait()
        await proxy.cut()

    cutter = asyncio.create_task(cut_once_held())
    with pytest.raises(Exception) as lost:
        async with transaction():
            pass  # pragma: no cover (BEGIN never answers)
    await cutter
    assert is_database_unavailable(lost.value), lost.value
    proxy.release()
    await proxy.restore()
    assert task_connection_is_the_shared_one()
    assert await served_again() == 3


SLOW_SQLITE_QUERY = (
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3000000) "
    "SELECT count(*) FROM n"
)


async def test_sqlite_a_transaction_cancelled_during_begin_releases_the_lock(
    tmp_path: Path,
) -> None:
    EXECUTOR_CACHE.clear()
    await init_database(f"sqlite://{tmp_path / 'db.sqlite3'}", generate_schemas=False)
    try:
        assert await served_again() == 3
        # The one aiosqlite thread runs a long query outside Tortoise: BEGIN waits behind it.
        raw = connection()._connection  # type: ignore[attr-defined]
        busy = asyncio.create_task(raw.execute(SLOW_SQLITE_QUERY))
        await asyncio.sleep(0)
        task = begin_in_task()
        await asyncio.sleep(0.05)
        assert not task.done() and not busy.done(), "the slow query ended too soon"
        task.cancel()
        result = await asyncio.gather(task, return_exceptions=True)
        assert isinstance(result[0], asyncio.CancelledError)
        await busy
        assert task_connection_is_the_shared_one()
        assert await served_again() == 3
    finally:
        await close_database()


@requires_postgres("a real PostgreSQL connection lost after COMMIT")
async def test_a_connection_lost_after_commit_is_not_an_error_and_leaves_this_task_its_connection(
    proxied_postgres: TcpProxy,
) -> None:
    """COMMIT is answered, then the server vanishes before the pool resets the connection:
    Tortoise's exit raises before it restores the task's connection. The work was committed,
    so the caller is told so, and the next query in the same task runs."""
    proxy = proxied_postgres
    table = f"probe_{uuid4().hex[:12]}"
    await connection().execute_script(f"CREATE TABLE {table} (x INTEGER)")

    async def cut_at_reset() -> None:
        await proxy.held.wait()  # COMMIT
        proxy.release()  # COMMIT passes; the next message (the pool's reset) is held
        proxy.hold()
        await proxy.held.wait()
        await proxy.cut()
        proxy.release()

    cutter = asyncio.create_task(cut_at_reset())
    try:
        async with transaction() as db:
            await db.execute_query(f"INSERT INTO {table} VALUES (7)")
            proxy.hold()
        await asyncio.wait_for(cutter, NEXT_TRANSACTION_TIMEOUT_S)
        await proxy.restore()
        assert task_connection_is_the_shared_one()
        assert await served_again() == 3
        _, rows = await connection().execute_query(f"SELECT x FROM {table}")
        assert [row["x"] for row in rows] == [7]
    finally:
        cutter.cancel()
        await proxy.restore()
        await connection().execute_script(f"DROP TABLE IF EXISTS {table}")
