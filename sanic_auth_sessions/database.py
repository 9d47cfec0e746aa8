"""The database side: Tortoise set-up (when the extension owns it), transactions, ping."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient, TransactionContext
from tortoise.transactions import in_transaction

from .models import APP_LABEL, User

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
