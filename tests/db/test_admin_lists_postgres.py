"""PostgreSQL's planner and the admin lists: statements planned for their values, and the
users' search served by the trigram indexes of the migrations (a fresh, migrated database)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import asyncpg
import pytest_asyncio
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.transactions import in_transaction

from sanic_auth_sessions import InMemoryMailer, User
from sanic_auth_sessions.db import orm
from sanic_auth_sessions.db.connection import connection
from sanic_auth_sessions.db.pagination import _planned_with_values
from sanic_auth_sessions.db.search import with_short_words_indexed
from sanic_auth_sessions.services.admin import search_words, user_search

from ..conftest import (
    POSTGRES_URL,
    STRONG_PASSWORD,
    RunningApp,
    bearer,
    build_app,
    requires_postgres,
    start_app,
    stop_app,
)
from ..helpers import ROOT_EMAIL

pytestmark = requires_postgres("the planner of PostgreSQL")


async def admin_sql(sql: str) -> None:
    assert POSTGRES_URL
    server = POSTGRES_URL.replace("postgres://", "postgresql://", 1).rsplit("/", 1)[0]
    conn = await asyncpg.connect(server + "/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest_asyncio.fixture
async def migrated() -> AsyncIterator[RunningApp]:
    """A server on a new database that the shipped migrations set up, with one connection
    (so the test sees the prepared statements the lists used)."""
    assert POSTGRES_URL
    name = f"lists_{uuid4().hex[:10]}"
    await admin_sql(f'CREATE DATABASE "{name}"')
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}?minsize=1&maxsize=1"
    EXECUTOR_CACHE.clear()  # SQL compiled for SQLite by an earlier module of this worker
    mailer = InMemoryMailer()
    app = build_app(
        url,
        mailer=mailer,
        generate_schemas=False,
        migrate_on_start=True,
        first_superuser_email=ROOT_EMAIL,
        first_superuser_password=STRONG_PASSWORD,
    )
    running, server = await start_app(app, mailer)
    try:
        yield running
    finally:
        await stop_app(running, server)
        await admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def people(count: int) -> None:
    await User.bulk_create(
        [
            User(
                email=f"person-{i:03d}@example.com",
                hashed_password="x",
                first_name=f"Ada{i}",
                last_name=f"Lovelace{i}",
            )
            for i in range(count)
        ]
    )
    await connection().execute_script("ANALYZE auth_users")


async def test_list_statements_are_never_planned_generically(migrated: RunningApp) -> None:
    """After five runs PostgreSQL may reuse a plan made without the values (for ``LIKE $1``,
    one that ignores the pattern); the keyset lists force a plan for the values."""
    await people(40)
    root = await migrated.login(ROOT_EMAIL)
    for path in ("/admin/users", "/admin/sessions"):
        for _ in range(8):
            response = await migrated.client.get(
                migrated.url(path), params={"search": "person", "limit": 2}, headers=bearer(root)
            )
            assert response.status_code == 200, response.text
    statements = await connection().execute_query_dict(
        "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements "
        "WHERE statement NOT LIKE '%pg_prepared_statements%' AND statement LIKE '%LIKE%'"
    )
    counts = [row for row in statements if row["statement"].startswith("SELECT COUNT(*)")]
    assert counts and len(statements) >= 3
    for row in statements:
        assert row["generic_plans"] == 0, row
    assert all(row["custom_plans"] >= 8 for row in counts), counts

    async with _planned_with_values(User) as planned:
        assert planned is not None
        mode = await planned.execute_query_dict("SHOW plan_cache_mode")
        assert mode == [{"plan_cache_mode": "force_custom_plan"}]
    after = await connection().execute_query_dict("SHOW plan_cache_mode")
    assert after == [{"plan_cache_mode": "auto"}]  # only for the list's transaction


async def test_user_search_is_served_by_the_trigram_indexes(migrated: RunningApp) -> None:
    await people(200)
    query = User.filter(user_search("Lovelace1 ADA12"))
    _, sql, params = orm.compiled(query)
    async with in_transaction() as tx:
        await tx.execute_script("SET LOCAL enable_seqscan = off")
        rows = await tx.execute_query_dict(f"EXPLAIN {sql}", list(params))
    plan = "\n".join(row["QUERY PLAN"] for row in rows)
    for index in (
        "idx_auth_users_email_trgm",
        "idx_auth_users_first_name_trgm",
        "idx_auth_users_last_name_trgm",
    ):
        assert index in plan, plan

    def matches(i: int) -> bool:
        fields = (f"person-{i:03d}@example.com", f"ada{i}", f"lovelace{i}")
        return all(any(term in field for field in fields) for term in ("lovelace1", "ada12"))

    expected = {f"person-{i:03d}@example.com" for i in range(200) if matches(i)}
    assert expected and {user.email for user in await query} == expected


# Names where upper- and lower-casing do not round-trip: the index's condition must never
# drop a user that the search's own conditions keep.
TRICKY_NAMES = [
    ("\u039f\u0394\u039f\u03a3", "\u03a3\u03af\u03c3\u03c5\u03c6\u03bf\u03c2"),  # final sigma
    ("Ian", "I\u0131\u0130i"),  # dotless and dotted i
    ("Stra\u00dfe", "STRASSE"),
    ("Kelvin", "\u212a"),  # KELVIN SIGN
    ("\u01c5emal", "\u01c6"),  # a title-case digraph
    ("Zo\u00eb", "No\u00ebl"),
]
# Words beyond the characters of the names: the other member of each case pair, and pairs.
EXTRA_WORDS = ["\u03c2", "\u03c3", "\u0131", "i\u0307", "\u00df", "ss", "k", "\u01c6", "77"]
EXTRA_WORDS += ["1a", "zq", "12", "a1", "-0", "@e"]


async def test_short_words_use_the_characters_index_and_lose_no_user(
    migrated: RunningApp,
) -> None:
    await people(200)
    await User.bulk_create(
        [
            User(email=f"tricky-{n}@example.com", hashed_password="x", first_name=a, last_name=b)
            for n, (a, b) in enumerate(TRICKY_NAMES)
        ]
    )
    await connection().execute_script("ANALYZE auth_users")
    users = await User.all().only("email", "first_name", "last_name")
    characters = {c.lower() for u in users for c in f"{u.email}{u.first_name}{u.last_name}"}
    for word in [*sorted(characters), *EXTRA_WORDS]:
        plain = User.filter(user_search(word))
        indexed = with_short_words_indexed(plain, search_words(word))
        assert {u.id for u in await indexed} == {u.id for u in await plain}, word

    # The condition is answered by the index.
    query = with_short_words_indexed(User.filter(user_search("zq")), ["zq"])
    _, sql, params = orm.compiled(query)
    async with in_transaction() as tx:
        await tx.execute_script("SET LOCAL enable_seqscan = off")
        rows = await tx.execute_query_dict(f"EXPLAIN {sql}", list(params))
    plan = "\n".join(row["QUERY PLAN"] for row in rows)
    assert "idx_auth_users_search_chars" in plan, plan
