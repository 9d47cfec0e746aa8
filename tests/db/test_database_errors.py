"""Database errors are classified by type, never by message: real errors from real servers.

An outage (cannot connect, connection lost, server shutting down, too many connections, a
pool closing) is a 503 ``DATABASE_UNAVAILABLE``; anything else, such as a prepared statement
that already exists or statements mixed up between clients, stays a 500. The same errors
during a real PostgreSQL restart are in ``test_database_restart.py``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from asyncpg import exceptions as pg
from sanic import HTTPResponse, Request, Sanic, json
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.exceptions import DBConnectionError
from tortoise.transactions import in_transaction

from sanic_auth_sessions.db.connection import close_database, connection, init_database
from sanic_auth_sessions.db.errors import is_database_unavailable

from ..conftest import (
    POSTGRES_URL,
    RecordingMailer,
    build_app,
    requires_postgres,
    start_app,
    stop_app,
)
from ..helpers import assert_error
from ..serving import free_port

needs_error_codes = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="sqlite3 errors carry sqlite_errorcode from Python 3.11"
)


def dsn(url: str | None = POSTGRES_URL) -> str:
    assert url is not None
    return url.replace("postgres://", "postgresql://", 1)


async def raised(action: Any) -> BaseException:
    """The exception that awaiting ``action`` raises."""
    try:
        await action
    except BaseException as exc:
        return exc
    raise AssertionError("no exception")


@pytest.fixture
async def direct() -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(dsn())
    try:
        yield connection
    finally:
        await connection.close()


def test_outages_in_general() -> None:
    assert is_database_unavailable(DBConnectionError("down"))
    assert is_database_unavailable(ConnectionRefusedError())
    assert is_database_unavailable(TimeoutError())
    assert is_database_unavailable(asyncio.TimeoutError())
    try:
        try:
            raise ConnectionResetError()
        except ConnectionResetError as inner:
            raise ValueError("while talking to the database") from inner
    except ValueError as outer:
        assert is_database_unavailable(outer)  # by what caused it
    assert not is_database_unavailable(ValueError("x"))
    assert not is_database_unavailable(FileNotFoundError("x"))


@requires_postgres("real PostgreSQL errors")
async def test_cannot_connect_is_an_outage() -> None:
    error = await raised(asyncpg.connect(f"postgresql://postgres@127.0.0.1:{free_port()}/x"))
    assert isinstance(error, OSError)
    assert is_database_unavailable(error)


@requires_postgres("real PostgreSQL errors")
async def test_a_terminated_connection_is_an_outage(direct: asyncpg.Connection) -> None:
    victim = await asyncpg.connect(dsn())
    pid = await victim.fetchval("SELECT pg_backend_pid()")
    await direct.execute(f"SELECT pg_terminate_backend({pid})")
    # Depending on when the client notices: the server's notice, the lost connection, the
    # protocol left in the middle of an exchange ("cannot switch to state"), or a connection
    # already known to be closed.
    error = await raised(victim.fetchval("SELECT 1"))
    known = (
        pg.AdminShutdownError
        | pg.ConnectionDoesNotExistError
        | pg.InternalClientError
        | pg.InterfaceError
    )
    assert isinstance(error, known), error
    assert is_database_unavailable(error)
    # Once the client knows: a connection that is closed.
    for _ in range(100):
        if victim.is_closed():
            break
        await asyncio.sleep(0.05)
    closed = await raised(victim.fetchval("SELECT 1"))
    assert type(closed) is pg.InterfaceError
    assert is_database_unavailable(closed)
    victim.terminate()


@requires_postgres("real PostgreSQL errors")
async def test_too_many_connections_is_an_outage(direct: asyncpg.Connection) -> None:
    role = f"limited_{uuid4().hex[:8]}"
    await direct.execute(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 1')
    try:
        url = dsn().replace("postgresql://postgres@", f"postgresql://{role}@", 1)
        first = await asyncpg.connect(url)
        try:
            error = await raised(asyncpg.connect(url))
        finally:
            await first.close()
        assert isinstance(error, pg.TooManyConnectionsError)
        assert is_database_unavailable(error)
    finally:
        await direct.execute(f'DROP ROLE "{role}"')


@requires_postgres("real PostgreSQL errors")
async def test_a_closing_pool_is_an_outage_bad_arguments_are_not() -> None:
    pool = await asyncpg.create_pool(dsn(), min_size=1, max_size=1)
    held = await pool.acquire()
    closing = asyncio.ensure_future(pool.close())  # waits for the held connection
    await asyncio.sleep(0)
    error = await raised(pool.acquire())
    assert type(error) is pg.InterfaceError
    assert is_database_unavailable(error)

    # A query argument of the wrong type (asyncpg's DataError, an InterfaceError too).
    bad_argument = await raised(held.fetchval("SELECT $1::int", "one"))
    assert isinstance(bad_argument, pg.DataError)
    assert not is_database_unavailable(bad_argument)
    await pool.release(held)
    await closing


@requires_postgres("real PostgreSQL errors")
async def test_prepared_statement_errors_are_not_outages(direct: asyncpg.Connection) -> None:
    # The error a pooler in transaction mode gives to a client using named statements.
    await direct.execute("PREPARE twice AS SELECT 1")
    duplicate = await raised(direct.execute("PREPARE twice AS SELECT 1"))
    assert isinstance(duplicate, pg.DuplicatePreparedStatementError)
    assert not is_database_unavailable(duplicate)

    # Statements mixed up between clients: the server's statement of that name is not the
    # one the client prepared, so its parameters do not match (08P01, from PostgreSQL).
    statement = await direct.prepare("SELECT $1::int", name="mixed")
    await direct.execute("DEALLOCATE mixed; PREPARE mixed(int, int, int) AS SELECT $1 + $2 + $3")
    mixed = await raised(statement.fetchval(1))
    assert isinstance(mixed, pg.ProtocolViolationError)
    assert mixed.server_source_function is not None
    assert not is_database_unavailable(mixed)

    syntax = await raised(direct.execute("SELEC 1"))
    assert not is_database_unavailable(syntax)


@needs_error_codes
async def test_sqlite_file_that_cannot_be_opened_is_an_outage(tmp_path: Path) -> None:
    with pytest.raises(sqlite3.OperationalError) as cannot_open:
        sqlite3.connect(tmp_path / "missing-directory" / "db.sqlite3")
    assert is_database_unavailable(cannot_open.value)

    EXECUTOR_CACHE.clear()
    await init_database(
        f"sqlite://{tmp_path / 'missing-directory' / 'db.sqlite3'}", generate_schemas=False
    )
    try:
        through_orm = await raised(connection().execute_query("SELECT 1"))
    finally:
        await close_database()
    assert is_database_unavailable(through_orm)

    database = sqlite3.connect(tmp_path / "db.sqlite3")
    with pytest.raises(sqlite3.OperationalError) as syntax:
        database.execute("SELEC 1")
    database.execute("CREATE TABLE t (x INTEGER UNIQUE)")
    database.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError) as duplicate:
        database.execute("INSERT INTO t VALUES (1)")
    database.close()
    assert not is_database_unavailable(syntax.value)
    assert not is_database_unavailable(duplicate.value)


def prepare_twice_route(app: Sanic) -> None:
    """A host route under the extension's prefix whose query fails without an outage."""

    @app.get("/api/v1/test-prepare-twice")
    async def prepare_twice(request: Request) -> HTTPResponse:
        async with in_transaction() as db:
            await db.execute_script("PREPARE twice AS SELECT 1")
            await db.execute_script("PREPARE twice AS SELECT 1")
        return json({})


@requires_postgres("a real PostgreSQL error")
async def test_a_duplicate_prepared_statement_is_a_500_not_a_503() -> None:
    """The issue's case: asyncpg's hint for this error mentions "connection"."""
    assert POSTGRES_URL is not None
    EXECUTOR_CACHE.clear()
    mailer = RecordingMailer()
    app = build_app(POSTGRES_URL, mailer=mailer, setup=prepare_twice_route)
    running, server = await start_app(app, mailer)
    try:
        response = await running.client.get("/api/v1/test-prepare-twice")
        assert_error(response, 500, "INTERNAL_ERROR")
        assert "prepared" not in response.text
    finally:
        await stop_app(running, server)
