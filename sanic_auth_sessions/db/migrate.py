"""Migrations of the extension's own tables, with aerich.

The package ships one migration folder per SQL dialect (``migrations/sqlite/auth``,
``migrations/postgres/auth``): aerich migrations are SQL, and SQL differs between them. The
folder is chosen from the database URL. Applied versions are recorded in aerich's ``aerich``
table under the app label ``auth``, so a host app's own aerich migrations (another label) live
beside ours in the same table.

Safe with many hosts: ``apply`` runs under a PostgreSQL advisory lock, so when several hosts
apply at once (each starting with ``AUTH_MIGRATE_ON_START``, or a deploy step run on each) one
applies and records each migration, the others wait, then find nothing to do. And safe behind
a pooler in transaction mode: migration commands never use named prepared statements, and the
lock is a transaction-level one, held by a transaction kept open on a connection of its own.
A database is "fresh" (nothing applied) only when the catalogue has no ``aerich`` table or
that table has no row of ours; any other error is reported, never taken for "fresh".
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tortoise import Tortoise
from tortoise.context import TortoiseContext

from sanic_auth_sessions.core.models import APP_LABEL
from sanic_auth_sessions.db.connection import connection, held_lock, is_postgres, tortoise_config

if TYPE_CHECKING:
    from aerich import Command

MIGRATIONS_ROOT = Path(__file__).parent / "migrations"
AERICH_TABLE = "aerich"
LOCK_NAME = "migrate"  # the advisory lock of apply and downgrade
DIALECTS = {
    "sqlite": "sqlite",
    "postgres": "postgres",
    "postgresql": "postgres",
    "asyncpg": "postgres",
}


class MigrationError(RuntimeError):
    """A migration command cannot run (unknown dialect, nothing to downgrade, …)."""


@dataclass(frozen=True)
class MigrationStatus:
    applied: list[str]
    pending: list[str]

    @property
    def up_to_date(self) -> bool:
        return not self.pending


def dialect_of(database_url: str) -> str:
    scheme = database_url.split("://", 1)[0].lower()
    try:
        return DIALECTS[scheme]
    except KeyError:
        raise MigrationError(f"No migrations for databases of type {scheme!r}.") from None


def migrations_location(database_url: str) -> Path:
    return MIGRATIONS_ROOT / dialect_of(database_url)


def aerich_config(database_url: str) -> dict[str, Any]:
    # Never named prepared statements: a one-off command gains nothing from them, and
    # without them it runs the same through a transaction-mode pooler.
    config = tortoise_config(database_url, named_statements=False)
    default = config["connections"]["default"]
    if isinstance(default, dict):  # PostgreSQL: the advisory lock holds a connection of its own
        credentials = default["credentials"]
        for key in ("maxsize", "max_size"):
            if key in credentials and int(credentials[key]) < 2:
                credentials[key] = 2
    config["apps"][APP_LABEL]["models"].append("aerich.models")
    return config


def version_number(version: str) -> int:
    """``3`` for ``3_20261124045827_name.py``."""
    return int(version.split("_", 1)[0])


def versions_of(dialect: str) -> list[str]:
    """The shipped migrations of ``dialect`` (``sqlite``, ``postgres``), oldest first."""
    folder = MIGRATIONS_ROOT / dialect / APP_LABEL
    versions = [path.name for path in folder.glob("*_*.py") if path.name.split("_")[0].isdigit()]
    return sorted(versions, key=version_number)


def all_versions(database_url: str) -> list[str]:
    return versions_of(dialect_of(database_url))


@asynccontextmanager
async def aerich_command(database_url: str) -> AsyncIterator[Command]:
    # Imported here: the workers of an app check the schema but never migrate it.
    from aerich import Command

    command = Command(
        tortoise_config=aerich_config(database_url),
        app=APP_LABEL,
        location=str(migrations_location(database_url)),
    )
    # A Tortoise context of its own, so that commands can follow one another in one event
    # loop (a re-initialised context would keep no connection configuration).
    with TortoiseContext():
        try:
            async with command:
                yield command
        finally:
            await Tortoise.close_connections()


async def has_aerich_table() -> bool:
    """Whether the catalogue has aerich's table (in PostgreSQL, on the search path)."""
    db = connection()
    if is_postgres(db):
        _, rows = await db.execute_query(
            "SELECT to_regclass($1) IS NOT NULL AS present", [f'"{AERICH_TABLE}"']
        )
        return bool(rows[0]["present"])
    _, rows = await db.execute_query(
        "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?",
        [AERICH_TABLE],
    )
    return bool(rows[0]["n"])


async def _applied(command: Command) -> list[str]:
    if not await has_aerich_table():  # a fresh database
        return []
    return sorted(await command.get_applied_migrations(APP_LABEL), key=version_number)


async def status(database_url: str) -> MigrationStatus:
    async with aerich_command(database_url) as command:
        applied = await _applied(command)
    pending = [version for version in all_versions(database_url) if version not in applied]
    return MigrationStatus(applied=applied, pending=pending)


async def apply(database_url: str) -> list[str]:
    """Apply every pending migration; returns the versions applied (by this call).

    Under an advisory lock on PostgreSQL: concurrent calls (several hosts) wait for each other,
    and each migration is applied and recorded once.
    """
    async with aerich_command(database_url) as command, held_lock(LOCK_NAME):
        applied = await _applied(command)
        if all(version in applied for version in all_versions(database_url)):
            return []
        # aerich applies each pending migration in a transaction of its own, recording it
        # there (on a fresh database the first migration creates the ``aerich`` table).
        # Not aerich's init_db: it would re-initialise Tortoise, closing the lock's connection.
        return list(await command.upgrade(run_in_transaction=True))


async def downgrade(database_url: str, to_version: int | None = None) -> list[str]:
    """Undo the last migration, or every migration after version ``to_version``.

    Migrations are undone one at a time, newest first (aerich's own ``--version`` would
    also undo that version itself, oldest first). Under the same lock as ``apply``.
    """
    async with aerich_command(database_url) as command, held_lock(LOCK_NAME):
        applied = await _applied(command)
        if not applied:
            raise MigrationError("Nothing to downgrade: no migration is applied.")
        await command.init()
        if to_version is None:
            count = 1
        else:
            count = sum(1 for version in applied if version_number(version) > to_version)
        undone: list[str] = []
        try:
            for _ in range(count):
                undone += await command.downgrade(-1, delete=False)
        except Exception as exc:
            raise MigrationError(str(exc)) from exc
        return undone


async def generate(database_url: str, name: str) -> str | None:
    """Write a migration for model changes since the last one (None when there are none).

    Run it against a database that is up to date, once per dialect the package supports.
    """
    async with aerich_command(database_url) as command:
        await command.init()
        created = await command.migrate(name=name, no_input=True)
    return created or None
