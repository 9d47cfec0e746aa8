"""Is the database's schema the one this version of the package needs? Asked once at start.

Two questions, on the connection Tortoise already has (whoever set it up):

- does every table of the extension exist with every column its model reads? One ``SELECT
  <columns> … WHERE 1 = 0`` per table: it reads no row, and fails on a missing table or column
  however the schema was made (migrations, ``generate_schemas``, by hand);
- when the shipped migrations manage the schema (aerich's table has rows of ours), is any of
  them not applied yet?

An answer names what to run. A database that cannot be reached is not a schema problem: that
error is raised as it is.
"""

from __future__ import annotations

from tortoise.exceptions import BaseORMException
from tortoise.models import Model

from sanic_auth_sessions.core.models import (
    APP_LABEL,
    EmailToken,
    Membership,
    Organization,
    PasswordResetToken,
    User,
    UserSession,
)
from sanic_auth_sessions.db.connection import connection, is_postgres
from sanic_auth_sessions.db.errors import is_database_unavailable
from sanic_auth_sessions.db.migrate import AERICH_TABLE, has_aerich_table, versions_of

MODELS: tuple[type[Model], ...] = (
    User,
    UserSession,
    PasswordResetToken,
    EmailToken,
    Organization,
    Membership,
)
APPLY_COMMAND = "python -m sanic_auth_sessions migrate apply --database-url <url>"


def columns_of(model: type[Model]) -> list[str]:
    described = model.describe(serializable=True)
    columns = [described["pk_field"]["db_column"]]
    columns += [field["db_column"] for field in described["data_fields"]]
    return columns


async def missing_table_or_column() -> str | None:
    """The first table that is missing or lacks a column, as ``auth_users``; else ``None``."""
    db = connection()
    for model in MODELS:
        table = model.describe(serializable=True)["table"]
        # Qualified: SQLite reads an unknown "column" alone as a string, not an error.
        columns = ", ".join(f'"{table}"."{column}"' for column in columns_of(model))
        try:
            await db.execute_query(f'SELECT {columns} FROM "{table}" WHERE 1 = 0')
        except Exception as exc:
            if is_database_unavailable(exc) or not isinstance(exc, BaseORMException | OSError):
                raise
            return str(table)
    return None


async def pending_migrations() -> list[str]:
    """Shipped migrations not applied, when the migrations manage this database; else none."""
    if not await has_aerich_table():
        return []
    db = connection()
    placeholder = "$1" if is_postgres(db) else "?"
    _, rows = await db.execute_query(
        f'SELECT "version" FROM "{AERICH_TABLE}" WHERE "app" = {placeholder}', [APP_LABEL]
    )
    applied = {str(row["version"]) for row in rows}
    if not applied:
        return []
    return [v for v in versions_of("postgres" if is_postgres(db) else "sqlite") if v not in applied]


async def schema_problem(*, migrations_hint: bool = True) -> str | None:
    """One line saying what is wrong with the schema and what to run, or ``None``."""
    table = await missing_table_or_column()
    if table is not None:
        fix = f"run `{APPLY_COMMAND}`"
        if migrations_hint:
            fix += " or set AUTH_MIGRATE_ON_START=true"
        return f"The database has no table {table} of sanic_auth_sessions, or an older one: {fix}."
    pending = await pending_migrations()
    if pending:
        names = ", ".join(pending)
        fix = f"run `{APPLY_COMMAND}`"
        if migrations_hint:
            fix += " or set AUTH_MIGRATE_ON_START=true"
        return f"The database is behind this version of sanic_auth_sessions ({names}): {fix}."
    return None
