"""The database side: Tortoise set-up (when the extension owns it), transactions, ping,
advisory locks, and the hand-written authentication query.

Poolers: behind PgBouncer in transaction mode (``AUTH_DATABASE_POOLER=pgbouncer-transaction``)
consecutive transactions of one client connection may run on different server connections, so
nothing may rely on state kept in a server session. asyncpg's statement cache (named prepared
statements) is then turned off: every query, the ORM's and the authentication query alike,
runs as an unnamed statement that asyncpg parses again in the same exchange as its Bind and
Execute, so a pooler cannot separate them. Locks are only ever taken for one transaction
(``pg_advisory_xact_lock``), never for a session.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient, TransactionContext
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connections
from tortoise.transactions import in_transaction

from sanic_auth_sessions.core.config import ConfigurationError
from sanic_auth_sessions.core.models import APP_LABEL, User, UserSession
from sanic_auth_sessions.db import orm

logger = logging.getLogger("sanic_auth_sessions")
MODELS_MODULE = "sanic_auth_sessions.models"
PING_TIMEOUT_S = 2.0
POSTGRES_SCHEMES = ("postgres", "postgresql", "asyncpg")
TRANSACTION_POOLER = "pgbouncer-transaction"


def is_postgres_url(database_url: str) -> bool:
    return database_url.split("://", 1)[0].lower() in POSTGRES_SCHEMES


def connection_config(database_url: str, *, named_statements: bool = True) -> str | dict[str, Any]:
    """Tortoise's connection entry for ``database_url``.

    ``named_statements=False`` turns asyncpg's statement cache off (``statement_cache_size=0``,
    whatever the URL says), so no query relies on a named prepared statement of the server
    session: what a transaction-mode pooler needs.
    """
    if named_statements or not is_postgres_url(database_url):
        return database_url
    config = expand_db_url(database_url)
    config["credentials"]["statement_cache_size"] = 0
    return config


def tortoise_config(
    database_url: str,
    extra_apps: dict[str, Any] | None = None,
    *,
    named_statements: bool = True,
) -> dict[str, Any]:
    """A Tortoise config with our models under the ``auth`` label, plus the host's apps."""
    apps: dict[str, Any] = {APP_LABEL: {"models": [MODELS_MODULE], "default_connection": "default"}}
    apps.update(extra_apps or {})
    default = connection_config(database_url, named_statements=named_statements)
    return {"connections": {"default": default}, "apps": apps, "use_tz": True}


async def init_database(
    database_url: str, *, generate_schemas: bool, named_statements: bool = True
) -> None:
    config = tortoise_config(database_url, named_statements=named_statements)
    await Tortoise.init(config=config, _enable_global_fallback=True)
    if generate_schemas:
        await Tortoise.generate_schemas(safe=True)


async def close_database() -> None:
    await Tortoise.close_connections()


def connection() -> BaseDBAsyncClient:
    """The connection our models use (the host's, when the host owns Tortoise)."""
    db: BaseDBAsyncClient = User._meta.db
    return db


@asynccontextmanager
async def transaction(connection_name: str | None = None) -> AsyncIterator[BaseDBAsyncClient]:
    """A Tortoise transaction on ``connection_name`` (our models' connection by default) that
    never outlives itself.

    Tortoise (1.1) makes the transaction's connection the task's own until the transaction
    ends, and two of its paths skip the end. A start that fails or is cancelled (the pooled
    connection or the SQLite lock is taken, then ``BEGIN`` fails or waits) never runs its
    ``__aexit__``: the connection stays out of the pool, the SQLite lock stays taken. And its
    ``__aexit__`` restores the task's connection only after handing the pooled one back, which
    raises when that connection was lost after ``COMMIT``. Either way the task kept the lost
    connection as its own; under Sanic the task is the HTTP connection's, so each later
    request on the same keep-alive connection failed although the database was back.

    Here a failed start is ended like a failed body, and the task's connection is restored
    whatever the end raised. A connection lost after its ``COMMIT`` was answered does not fail
    the caller: the work is done (the pool replaces the connection).
    """
    name = connection_name or connection().connection_name
    outer = get_connections().get(name)
    context = in_transaction(name)
    try:
        client = await context.__aenter__()
    except BaseException as exc:
        if orm.transaction_token(context) is not None:  # it took what its exit gives back
            with contextlib.suppress(Exception):  # the rollback of a lost connection fails
                await _end(context, name, outer, exc)
        raise
    try:
        yield client
    except BaseException as exc:
        await _end(context, name, outer, exc)
        raise
    try:
        await _end(context, name, outer, None)
    except Exception as exc:
        if not orm.transaction_committed(client):  # COMMIT itself failed
            raise
        logger.warning("Connection lost after a committed transaction: %r", exc)


async def _end(
    context: TransactionContext, name: str, outer: BaseDBAsyncClient, exc: BaseException | None
) -> None:
    try:
        if exc is None:
            await context.__aexit__(None, None, None)
        else:
            await context.__aexit__(type(exc), exc, exc.__traceback__)
    finally:
        if get_connections().get(name) is not outer:  # its exit stopped before restoring it
            get_connections().reset(orm.transaction_token(context))


def is_postgres(db: BaseDBAsyncClient) -> bool:
    return type(db).__module__.startswith("tortoise.backends.asyncpg")


def check_pooler(pooler: str) -> None:
    """At start: refuse a connection that a ``pooler`` set-up cannot run on.

    Under ``pgbouncer-transaction`` the connection must be PostgreSQL's without a statement
    cache. The extension configures its own connection so; a host that owns Tortoise must add
    ``statement_cache_size=0`` to its URL, or every query risks another client's statement.
    """
    if pooler != TRANSACTION_POOLER:
        return
    db = connection()
    if not is_postgres(db):
        raise ConfigurationError(
            f"AUTH_DATABASE_POOLER={pooler} applies to PostgreSQL (asyncpg) connections only."
        )
    extra: dict[str, Any] = getattr(db, "extra", {})
    if extra.get("statement_cache_size") != 0:
        raise ConfigurationError(
            f"AUTH_DATABASE_POOLER={pooler}: the Tortoise connection keeps asyncpg's statement "
            "cache (named prepared statements); add statement_cache_size=0 to its URL."
        )


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name``."""
    digest = hashlib.sha256(f"sanic_auth_sessions:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def try_transaction_lock(db: BaseDBAsyncClient, name: str) -> bool:
    """In the transaction ``db``: take the advisory lock ``name`` if free, without waiting.

    Held until that transaction ends (a transaction-level lock, safe behind a pooler in
    transaction mode). Always True on SQLite, where writers are serialized anyway.
    """
    if not is_postgres(db):
        return True
    sql = "SELECT pg_try_advisory_xact_lock($1) AS locked"
    _, rows = await db.execute_query(sql, [lock_key(name)])
    return bool(rows[0]["locked"])


@asynccontextmanager
async def held_lock(name: str) -> AsyncIterator[None]:
    """Wait for the advisory lock ``name`` and hold it for the body of the ``async with``.

    The lock belongs to a transaction that a task of its own keeps open on one connection
    while the body runs on others (so the body may run transactions of its own), and that
    ends, releasing it, when the body ends; a crash releases it with the connection. A
    transaction-level lock, so it holds behind a pooler in transaction mode too. A no-op on
    SQLite. The body needs a second connection: the caller's pool must allow two.
    """
    db = connection()
    if not is_postgres(db):
        yield
        return
    locked: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    release = asyncio.Event()

    async def hold() -> None:
        try:
            async with transaction(db.connection_name) as holder:
                await holder.execute_query("SELECT pg_advisory_xact_lock($1)", [lock_key(name)])
                if not locked.done():  # pragma: no branch (else: cancelled as it came)
                    locked.set_result(None)
                await release.wait()
        except BaseException as exc:
            if not locked.done():
                locked.set_exception(exc)
            raise

    holder = asyncio.create_task(hold())
    acquired = False
    try:
        await locked
        acquired = True
        yield
    finally:
        release.set()
        if not acquired:  # cancelled while waiting: stop waiting on the server too
            holder.cancel()
        await asyncio.gather(holder, return_exceptions=True)


async def ping() -> float:
    """Round-trip a ``SELECT 1``; returns the latency in milliseconds."""
    started = time.perf_counter()
    await asyncio.wait_for(connection().execute_query("SELECT 1"), timeout=PING_TIMEOUT_S)
    return (time.perf_counter() - started) * 1000


# The placeholder style of each Tortoise backend the package supports (by its module).
PLACEHOLDERS = {
    "tortoise.backends.asyncpg": ("$1", "$2"),
    "tortoise.backends.sqlite": ("?", "?"),
}


@functools.cache
def session_with_user_sql(client_class: type[BaseDBAsyncClient]) -> str:
    """``auth_sessions JOIN auth_users`` on the primary key, both rows active: built once.

    Raises ``ConfigurationError`` for a backend other than asyncpg or SQLite (the extension
    calls it at start, so an unsupported host set-up fails there, not on the first request).
    """
    backend = client_class.__module__.rsplit(".", 1)[0]
    if backend not in PLACEHOLDERS:
        raise ConfigurationError(
            f"Unsupported Tortoise backend {client_class.__module__}.{client_class.__name__}: "
            "sanic_auth_sessions runs on PostgreSQL through asyncpg, or on SQLite."
        )
    first, second = PLACEHOLDERS[backend]
    session_columns = ", ".join(f's."{c}"' for c in UserSession._meta.db_fields)
    user_columns = ", ".join(f'u."{c}" AS "u__{c}"' for c in User._meta.db_fields)
    return (
        f"SELECT {session_columns}, {user_columns} "
        f'FROM "{UserSession._meta.db_table}" s '
        f'JOIN "{User._meta.db_table}" u ON u."id" = s."user_id" '
        f'WHERE s."id" = {first} AND s."user_id" = {second} AND s."is_active" AND u."is_active"'
    )


async def active_session_with_user(session_id: UUID, user_id: UUID) -> UserSession | None:
    """The active session ``session_id`` of the active user ``user_id``, with ``.user`` loaded.

    The hottest query of the package (every authenticated request): one statement on the
    primary key, instead of building an ORM query each time. asyncpg prepares it once per
    connection (a named statement in its cache); with the cache off (a transaction-mode
    pooler) it runs unnamed, parsed with each execution.
    """
    db = connection()
    sql = session_with_user_sql(type(db))
    _, rows = await db.execute_query(sql, [str(session_id), str(user_id)])
    if not rows:
        return None
    row = dict(rows[0])
    user = orm.from_row(User, {column: row.pop(f"u__{column}") for column in User._meta.db_fields})
    session = orm.from_row(UserSession, row)
    session.user = user
    return session
