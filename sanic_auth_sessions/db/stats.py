"""Counts for the admin's dashboard, in grouped queries over indexes (never a row per user).

Days are UTC calendar days. On SQLite, Tortoise stores times as UTC text
(``2026-12-02 14:57:03.757051+00:00``), which compares in time order and is indexed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from tortoise.backends.base.client import BaseDBAsyncClient

from sanic_auth_sessions.db.connection import connection, is_postgres

ORGANIZATIONS_SHOWN = 6


@dataclass(frozen=True)
class UserCounts:
    total: int
    active: int


@dataclass(frozen=True)
class OrganizationSize:
    name: str
    members: int


async def users_before(moment: datetime) -> UserCounts:
    """Users created before ``moment``, and how many of them are active now."""
    db = connection()
    sql = (
        'SELECT COUNT(*) AS "total", COALESCE(SUM(CASE WHEN "is_active" THEN 1 ELSE 0 END), 0)'
        ' AS "active" FROM "auth_users" WHERE "created_at" < ' + ("$1" if is_postgres(db) else "?")
    )
    rows = await db.execute_query_dict(sql, [_param(db, moment)])
    return UserCounts(int(rows[0]["total"]), int(rows[0]["active"]))


async def users_by_day(since: datetime) -> dict[date, UserCounts]:
    """Per UTC day from ``since`` on: users created that day, and how many are active now."""
    db = connection()
    if is_postgres(db):
        day = """("created_at" AT TIME ZONE 'UTC')::date"""
        placeholder = "$1"
    else:
        day = 'date("created_at")'  # SQLite's date() turns an offset into UTC
        placeholder = "?"
    sql = (
        f'SELECT {day} AS "day", COUNT(*) AS "total",'
        ' SUM(CASE WHEN "is_active" THEN 1 ELSE 0 END) AS "active"'
        f' FROM "auth_users" WHERE "created_at" >= {placeholder} GROUP BY 1'
    )
    rows = await db.execute_query_dict(sql, [_param(db, since)])
    return {_as_date(row["day"]): UserCounts(int(row["total"]), int(row["active"])) for row in rows}


async def largest_organizations(limit: int = ORGANIZATIONS_SHOWN) -> list[OrganizationSize]:
    """The organizations with the most membership rows (at least one), most first; ties by
    name, then id."""
    db = connection()
    placeholder = "$1" if is_postgres(db) else "?"
    sql = (
        'SELECT o."name" AS "name", c."members" AS "members" FROM ('
        ' SELECT "organization_id", COUNT(*) AS "members" FROM "auth_memberships"'
        ' GROUP BY "organization_id") c'
        ' JOIN "auth_organizations" o ON o."id" = c."organization_id"'
        f' ORDER BY c."members" DESC, o."name", o."id" LIMIT {placeholder}'
    )
    rows = await db.execute_query_dict(sql, [limit])
    return [OrganizationSize(str(row["name"]), int(row["members"])) for row in rows]


def _param(db: BaseDBAsyncClient, moment: datetime) -> object:
    # SQLite compares the stored UTC text; PostgreSQL takes the aware datetime.
    moment = moment.astimezone(timezone.utc)
    return moment if is_postgres(db) else moment.isoformat(sep=" ")


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
