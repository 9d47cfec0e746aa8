"""Data steps that the shipped migrations of both dialects run (the SQL stays in each file).

Each step is frozen with the migration that runs it: a later change of the package's rules
gets a new step and a new migration, never an edit here.
"""

from __future__ import annotations

import unicodedata

from tortoise import BaseDBAsyncClient

from sanic_auth_sessions.db.migrate import MigrationError


def _normalized_email(email: str) -> str:
    """The rule of migration 2 (PostgreSQL) / 1 (SQLite): NFKC, trimmed, lower-cased."""
    return unicodedata.normalize("NFKC", email).strip().lower()


async def normalize_stored_emails(db: BaseDBAsyncClient) -> None:
    """Rewrite ``auth_users.email`` in the normalized form, or stop, naming the accounts that
    would then share an address (nothing is changed then)."""
    rows = await db.execute_query_dict('SELECT "id", "email" FROM "auth_users"')
    owners: dict[str, list[str]] = {}
    for row in rows:
        owners.setdefault(_normalized_email(row["email"]), []).append(row["email"])
    collisions = sorted(sorted(emails) for emails in owners.values() if len(emails) > 1)
    if collisions:
        listed = "; ".join(" and ".join(repr(e) for e in emails) for emails in collisions)
        raise MigrationError(
            f"These accounts would share an email once normalized: {listed}. "
            "Change or delete one of each, then run the migration again."
        )
    first, second = ("$1", "$2") if db.capabilities.dialect == "postgres" else ("?", "?")
    for row in rows:
        email = _normalized_email(row["email"])
        if email != row["email"]:
            await db.execute_query(
                f'UPDATE "auth_users" SET "email" = {first} WHERE "id" = {second}',
                [email, row["id"]],
            )
