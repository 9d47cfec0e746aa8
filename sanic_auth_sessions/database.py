"""The database side: Tortoise set-up (when the extension owns it), transactions, ping."""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Any
from uuid import UUID

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient, TransactionContext
from tortoise.transactions import in_transaction

from .config import ConfigurationError
from .models import APP_LABEL, User, UserSession

MODELS_MODULE = "sanic_auth_sessions.models"
PING_TIMEOUT_S = 2.0


def tortoise_config(database_url: str, extra_apps: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Tortoise config with our models under the ``auth`` label, plus the host's apps."""
    apps: dict[str, Any] = {APP_LABEL: {"models": [MODELS_MODULE], "default_connection": "default"}}
    apps.update(extra_apps or {})
    return {"connections": {"default": database_url}, "apps": apps, "use_tz": True}


async def init_database(database_url: str, *, generate_schemas: bool) -> None:
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    if generate_schemas:
        await Tortoise.generate_schemas(safe=True)


async def close_database() -> None:
    await Tortoise.close_connections()


def connection() -> BaseDBAsyncClient:
    """The connection our models use (the host's, when the host owns Tortoise)."""
    db: BaseDBAsyncClient = User._meta.db
    return db


def transaction() -> TransactionContext:
    return in_transaction(User._meta.default_connection)


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
    primary key, prepared once, instead of building an ORM query each time.
    """
    db = connection()
    sql = session_with_user_sql(type(db))
    _, rows = await db.execute_query(sql, [str(session_id), str(user_id)])
    if not rows:
        return None
    row = dict(rows[0])
    user = User._init_from_db(
        **{column: row.pop(f"u__{column}") for column in User._meta.db_fields}
    )
    session = UserSession._init_from_db(**row)
    session.user = user
    return session
