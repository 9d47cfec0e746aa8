"""The shipped migrations give exactly the schema the models describe, on both databases."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from sanic_auth_sessions.cli import main
from sanic_auth_sessions.db.connection import close_database, held_lock, init_database, lock_key
from sanic_auth_sessions.db.migrate import (
    LOCK_NAME,
    MigrationError,
    aerich_config,
    all_versions,
    apply,
    dialect_of,
    downgrade,
    generate,
    status,
    version_number,
)

from ..conftest import DATABASES, PGBOUNCER_URL, POSTGRES_URL, requires_postgres
from ..serving import free_port

ROOT = Path(__file__).resolve().parents[2]

AERICH_TABLE = "aerich"
# Only in the PostgreSQL migrations: the models cannot describe a GIN trigram index.
TRIGRAM_INDEX = (
    "index",
    "auth_users",
    "idx_auth_users_email_trgm",
    "CREATE INDEX idx_auth_users_email_trgm ON public.auth_users USING gin (email gin_trgm_ops)",
)
TRIGRAM_INDEXES = {TRIGRAM_INDEX} | {
    (
        "index",
        "auth_users",
        f"idx_auth_users_{name}_trgm",
        f"CREATE INDEX idx_auth_users_{name}_trgm ON public.auth_users "
        f"USING gin (upper(({name})::text) gin_trgm_ops)",
    )
    for name in ("first_name", "last_name")
}
# Also only in the PostgreSQL migrations, without pg_trgm: the characters of the users' text.
CHARACTERS_INDEX = (
    "index",
    "auth_users",
    "idx_auth_users_search_chars",
    "CREATE INDEX idx_auth_users_search_chars ON public.auth_users USING gin "
    "(string_to_array(upper((((((email)::text || ' '::text) || (first_name)::text) || "
    "' '::text) || (last_name)::text)), NULL::text))",
)


def dsn(url: str) -> str:
    """asyncpg's DSN for ``url``; without named statements, so right through PgBouncer too."""
    return url.replace("postgres://", "postgresql://", 1)


async def connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(dsn(url), statement_cache_size=0)


def admin_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1).rsplit("/", 1)[0] + "/postgres"


def run_sql(url: str, *statements: str) -> None:
    async def run() -> None:
        connection = await connect(url)
        try:
            for sql in statements:
                await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run())


@contextmanager
def new_postgres_database() -> Iterator[str]:
    """A brand-new PostgreSQL database on the test server, dropped afterwards."""
    assert POSTGRES_URL
    name = f"mig_{uuid4().hex[:10]}"
    run_sql(admin_url(POSTGRES_URL), f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        run_sql(admin_url(POSTGRES_URL), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def through_pgbouncer(url: str) -> str:
    """``url``'s database through PgBouncer in transaction mode (``TEST_PGBOUNCER_URL``)."""
    assert PGBOUNCER_URL is not None
    return PGBOUNCER_URL.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1]


@pytest.fixture(params=DATABASES + (["pgbouncer"] if PGBOUNCER_URL else []))
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to a brand-new, empty database (its own PostgreSQL database per test), also
    through PgBouncer in transaction mode when ``TEST_PGBOUNCER_URL`` is set."""
    EXECUTOR_CACHE.clear()
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'migrate.sqlite3'}"
        return
    with new_postgres_database() as url:
        yield through_pgbouncer(url) if request.param == "pgbouncer" else url


def schema_of(url: str) -> set[tuple[str, ...]]:
    """Tables, columns (type, nullability) and indexes, without the aerich bookkeeping."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite://"))
        try:
            rows: set[tuple[str, ...]] = set()
            tables = [
                name
                for (name,) in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%'"
                )
                if name != AERICH_TABLE
            ]
            for table in tables:
                for _, column, kind, notnull, default, pk in connection.execute(
                    f'PRAGMA table_info("{table}")'
                ):
                    rows.add(("column", table, column, kind, str(notnull), str(default), str(pk)))
                for _, index, unique, *_ in connection.execute(f'PRAGMA index_list("{table}")'):
                    columns = [c[2] for c in connection.execute(f'PRAGMA index_info("{index}")')]
                    rows.add(("index", table, index, str(unique), ",".join(columns)))
                for fk in connection.execute(f'PRAGMA foreign_key_list("{table}")'):
                    rows.add(("fk", table, str(fk[2]), str(fk[3]), str(fk[4]), str(fk[6])))
            return rows
        finally:
            connection.close()

    async def postgres() -> set[tuple[str, ...]]:
        connection = await connect(url)
        try:
            columns = await connection.fetch(
                "SELECT table_name, column_name, data_type, is_nullable, "
                "coalesce(column_default, '') AS d FROM information_schema.columns "
                "WHERE table_schema = 'public' AND table_name <> $1",
                AERICH_TABLE,
            )
            indexes = await connection.fetch(
                "SELECT tablename, indexname, indexdef FROM pg_indexes "
                "WHERE schemaname = 'public' AND tablename <> $1",
                AERICH_TABLE,
            )
            constraints = await connection.fetch(
                "SELECT conrelid::regclass::text AS t, conname, pg_get_constraintdef(oid) AS d "
                "FROM pg_constraint WHERE connamespace = 'public'::regnamespace "
                "AND conrelid::regclass::text <> $1",
                AERICH_TABLE,
            )
        finally:
            await connection.close()
        return (
            {("column", *map(str, row.values())) for row in columns}
            | {("index", *map(str, row.values())) for row in indexes}
            | {("constraint", *map(str, row.values())) for row in constraints}
        )

    return asyncio.run(postgres())


def generated_schema(url: str) -> set[tuple[str, ...]]:
    async def create() -> None:
        await init_database(url, generate_schemas=True)
        await close_database()

    asyncio.run(create())
    return schema_of(url)


def test_apply_gives_exactly_the_models_schema(empty_database: str, tmp_path: Path) -> None:
    applied = asyncio.run(apply(empty_database))
    assert applied == all_versions(empty_database)
    migrated = schema_of(empty_database)
    assert any(row[:2] == ("column", "auth_sessions") for row in migrated)

    # The same models through Tortoise's generate_schemas, on another empty database.
    if empty_database.startswith("sqlite"):
        reference_url = f"sqlite://{tmp_path / 'generated.sqlite3'}"
        assert migrated == generated_schema(reference_url)
    else:
        with new_postgres_database() as reference_url:
            assert migrated == generated_schema(reference_url) | TRIGRAM_INDEXES | {
                CHARACTERS_INDEX
            }


def test_downgrade_undoes_newest_first_and_reapplies(empty_database: str) -> None:
    versions = all_versions(empty_database)
    asyncio.run(apply(empty_database))
    before = schema_of(empty_database)

    assert asyncio.run(downgrade(empty_database)) == versions[-1:]
    assert asyncio.run(status(empty_database)).pending == versions[-1:]
    assert asyncio.run(apply(empty_database)) == versions[-1:]
    assert schema_of(empty_database) == before

    # Everything after version 0, newest first; version 0 stays.
    assert asyncio.run(downgrade(empty_database, to_version=0)) == versions[:0:-1]
    assert any(row[1] == "auth_users" for row in schema_of(empty_database))
    assert not (TRIGRAM_INDEXES | {CHARACTERS_INDEX}) & schema_of(empty_database)
    assert asyncio.run(downgrade(empty_database, to_version=0)) == []
    assert asyncio.run(downgrade(empty_database, to_version=-1)) == versions[:1]
    assert not any(row[1] == "auth_users" for row in schema_of(empty_database))

    assert asyncio.run(apply(empty_database)) == versions
    assert schema_of(empty_database) == before
    assert asyncio.run(apply(empty_database)) == []  # idempotent


@requires_postgres("roles and extensions are PostgreSQL's")
def test_migrations_apply_without_the_right_to_create_extensions() -> None:
    """A role that may create tables but not extensions gets every table, no trigram index."""
    role = f"mig_role_{uuid4().hex[:8]}"
    run_sql(admin_url(POSTGRES_URL or ""), f'CREATE ROLE "{role}" LOGIN')
    try:
        with new_postgres_database() as owner_url:
            run_sql(owner_url, f'GRANT CREATE ON SCHEMA public TO "{role}"')
            scheme, rest = owner_url.split("://", 1)
            role_url = f"{scheme}://{role}@{rest.split('@', 1)[1]}"
            assert asyncio.run(apply(role_url)) == all_versions(role_url)
            schema = schema_of(role_url)
            assert not TRIGRAM_INDEXES & schema and CHARACTERS_INDEX in schema
            assert any(row[:2] == ("column", "auth_sessions") for row in schema)
            run_sql(owner_url, f'DROP OWNED BY "{role}"')
    finally:
        run_sql(admin_url(POSTGRES_URL or ""), f'DROP ROLE IF EXISTS "{role}"')


def test_check_fails_on_a_database_that_is_behind(
    empty_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate", "--database-url", empty_database, "check"]) == 1
    assert "behind" in capsys.readouterr().out
    assert main(["migrate", "--database-url", empty_database, "list"]) == 0
    assert "[ ]" in capsys.readouterr().out
    assert main(["migrate", "--database-url", empty_database, "apply"]) == 0
    assert main(["migrate", "--database-url", empty_database, "check"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["migrate", "--database-url", empty_database, "current"]) == 0
    assert capsys.readouterr().out.strip() == all_versions(empty_database)[-1]
    state = asyncio.run(status(empty_database))
    assert state.up_to_date and state.applied == all_versions(empty_database)


def test_models_and_migrations_agree(empty_database: str, tmp_path: Path) -> None:
    """A model change without a migration would make ``generate`` write one."""
    asyncio.run(apply(empty_database))
    assert asyncio.run(generate(empty_database, "nothing")) is None


def test_errors_are_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(MigrationError):
        dialect_of("mysql://x/y")
    fresh = f"sqlite://{tmp_path / 'fresh.sqlite3'}"
    assert main(["migrate", "--database-url", fresh, "downgrade"]) == 2
    assert "Nothing to downgrade" in capsys.readouterr().err
    assert main(["migrate", "--database-url", "mysql://x/y", "check"]) == 2


def insert_users(url: str, emails: list[str]) -> None:
    """Rows as an older version stored them (before the security stamp)."""
    rows = [(str(uuid4()), email) for email in emails]
    columns = '"id", "email", "hashed_password", "first_name", "last_name", "is_active", '
    columns += '"is_superuser", "created_at", "updated_at"'
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite://"))
        with connection:
            connection.executemany(
                f'INSERT INTO "auth_users" ({columns}) VALUES '
                "(?, ?, 'x', '', '', 1, 0, datetime('now'), datetime('now'))",
                rows,
            )
        connection.close()
        return
    values = ", ".join(
        f"('{uid}', '{email}', 'x', '', '', true, false, now(), now())" for uid, email in rows
    )
    run_sql(url, f'INSERT INTO "auth_users" ({columns}) VALUES {values}')


def stored_users(url: str) -> list[tuple[str, str]]:
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite://"))
        try:
            return sorted(connection.execute('SELECT "email", "security_stamp" FROM "auth_users"'))
        finally:
            connection.close()

    async def fetch() -> list[tuple[str, str]]:
        connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
        try:
            rows = await connection.fetch('SELECT "email", "security_stamp" FROM "auth_users"')
        finally:
            await connection.close()
        return sorted((row["email"], row["security_stamp"]) for row in rows)

    return asyncio.run(fetch())


def before_normalization(url: str) -> list[str]:
    """Migrate ``url`` to just before the email normalization; the versions from there."""
    versions = all_versions(url)
    first = next(v for v in versions if "security_stamp_and_emails" in v)
    asyncio.run(apply(url))
    asyncio.run(downgrade(url, to_version=version_number(first) - 1))
    return versions[versions.index(first) :]


def test_stored_emails_are_normalized_and_stamped(empty_database: str) -> None:
    pending = before_normalization(empty_database)
    insert_users(empty_database, [" Ada@Example.COM", "\uff42\uff4f\uff42@example.com", "c@d.io"])
    assert asyncio.run(apply(empty_database)) == pending
    users = stored_users(empty_database)
    assert [email for email, _ in users] == ["ada@example.com", "bob@example.com", "c@d.io"]
    stamps = [stamp for _, stamp in users]
    assert all(len(stamp) == 32 for stamp in stamps) and len(set(stamps)) == 3


def test_existing_sessions_count_from_their_creation_as_password_logins(
    empty_database: str,
) -> None:
    """The step-up migration gives every session that existed ``auth_time = created_at`` and
    ``amr = "pwd"``."""
    url = empty_database
    versions = all_versions(url)
    first = next(v for v in versions if "stepup" in v)
    asyncio.run(apply(url))
    asyncio.run(downgrade(url, to_version=version_number(first) - 1))
    user_id, session_id = str(uuid4()), str(uuid4())
    insert_users(url, ["old@example.com"])
    created = "2026-01-02 03:04:05+00:00"
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite://"))
        with connection:
            user_id = connection.execute('SELECT "id" FROM "auth_users"').fetchone()[0]
            connection.execute(
                'INSERT INTO "auth_sessions" ("id", "user_id", "refresh_token_jti", '
                '"device_name", "last_used_at", "expires_at", "is_active", "created_at", '
                '"updated_at") VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)',
                (session_id, user_id, "jti", "Old", created, created, created, created),
            )
        connection.close()
    else:
        run_sql(
            url,
            'INSERT INTO "auth_sessions" ("id", "user_id", "refresh_token_jti", "device_name", '
            '"last_used_at", "expires_at", "is_active", "created_at", "updated_at") '
            f"SELECT '{session_id}', \"id\", 'jti', 'Old', '{created}', '{created}', true, "
            f"'{created}', '{created}' FROM \"auth_users\"",
        )
    assert asyncio.run(apply(url)) == versions[versions.index(first) :]
    query = 'SELECT "auth_time", "created_at", "amr" FROM "auth_sessions"'
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite://"))
        try:
            rows = list(connection.execute(query))
        finally:
            connection.close()
    else:

        async def fetch() -> list[tuple[Any, ...]]:
            connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
            try:
                return [tuple(row) for row in await connection.fetch(query)]
            finally:
                await connection.close()

        rows = asyncio.run(fetch())
    assert len(rows) == 1
    auth_time, created_at, amr = rows[0]
    assert auth_time == created_at and auth_time is not None
    assert amr == "pwd"


def test_colliding_emails_stop_the_migration_and_are_named(
    empty_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pending = before_normalization(empty_database)
    insert_users(empty_database, ["eve@example.com", "EVE@example.com ", "solo@example.com"])
    assert main(["migrate", "--database-url", empty_database, "apply"]) == 2
    error = capsys.readouterr().err
    assert "'EVE@example.com ' and 'eve@example.com'" in error
    assert asyncio.run(status(empty_database)).pending == pending
    rows = sqlite_or_postgres_emails(empty_database)
    assert rows == ["EVE@example.com ", "eve@example.com", "solo@example.com"]  # untouched


def sqlite_or_postgres_emails(url: str) -> list[str]:
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite://"))
        try:
            return sorted(
                email for (email,) in connection.execute('SELECT email FROM "auth_users"')
            )
        finally:
            connection.close()

    async def fetch() -> list[str]:
        connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
        try:
            return sorted(
                row["email"] for row in await connection.fetch("SELECT email FROM auth_users")
            )
        finally:
            await connection.close()

    return asyncio.run(fetch())


def direct(url: str) -> str:
    """``url``'s database on the PostgreSQL server itself, not through PgBouncer."""
    assert POSTGRES_URL is not None
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1]


async def waiting_for_locks(url: str) -> int:
    """How many sessions wait for an advisory lock in ``url``'s database."""
    connection = await connect(direct(url))
    try:
        waiting: int = await connection.fetchval(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = $1",
            url.rsplit("/", 1)[1],
        )
        return waiting
    finally:
        await connection.close()


async def until(condition: Any, timeout_s: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def recorded(url: str) -> dict[str, int]:
    connection = await connect(direct(url))
    try:
        rows = await connection.fetch(
            "SELECT version, count(*) AS n FROM aerich WHERE app = 'auth' GROUP BY version"
        )
        return {row["version"]: row["n"] for row in rows}
    finally:
        await connection.close()


def test_concurrent_applies_record_each_migration_once(empty_database: str) -> None:
    """Three hosts run ``migrate apply`` at once on an empty database: one applies, the
    others wait for the lock, then find nothing to do. The test holds the lock until all
    three processes wait for it, so they truly run at the same time."""
    if empty_database.startswith("sqlite"):
        pytest.skip("the lock is PostgreSQL's (SQLite has one writer at a time anyway)")

    async def run() -> list[tuple[int, str, str]]:
        holder = await connect(direct(empty_database))
        await holder.execute("SELECT pg_advisory_lock($1)", lock_key(LOCK_NAME))
        processes = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                *("-m", "sanic_auth_sessions", "migrate", "--database-url", empty_database),
                "apply",
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            for _ in range(3)
        ]
        try:
            await until(lambda: _all_waiting(empty_database, 3))
        finally:
            await holder.execute("SELECT pg_advisory_unlock($1)", lock_key(LOCK_NAME))
            await holder.close()
        results = []
        for process in processes:
            out, err = await process.communicate()
            results.append((process.returncode or 0, out.decode(), err.decode()))
        return results

    results = asyncio.run(run())
    assert [code for code, _, _ in results] == [0, 0, 0], results
    outputs = sorted(out.strip() for _, out, _ in results)
    versions = all_versions(empty_database)
    assert outputs == sorted(
        [f"Applied {', '.join(versions)}.", "Already up to date.", "Already up to date."]
    )
    assert asyncio.run(recorded(empty_database)) == dict.fromkeys(versions, 1)


async def _all_waiting(url: str, count: int) -> bool:
    return await waiting_for_locks(url) >= count


def test_apply_waiting_for_the_lock_can_be_cancelled(empty_database: str) -> None:
    if empty_database.startswith("sqlite"):
        pytest.skip("the lock is PostgreSQL's")

    async def run() -> None:
        holder = await connect(direct(empty_database))
        await holder.execute("SELECT pg_advisory_lock($1)", lock_key(LOCK_NAME))
        try:
            waiting = asyncio.create_task(apply(empty_database))
            await until(lambda: _all_waiting(empty_database, 1))
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            # It stopped waiting on the server too.
            await until(lambda: _no_one_waiting(empty_database))
        finally:
            await holder.close()
        EXECUTOR_CACHE.clear()
        assert not (await status(empty_database)).applied
        assert await apply(empty_database) == all_versions(empty_database)

    asyncio.run(run())


async def _no_one_waiting(url: str) -> bool:
    return await waiting_for_locks(url) == 0


@requires_postgres("roles are PostgreSQL's")
def test_an_unreadable_aerich_table_is_an_error_not_a_fresh_database(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Only a missing table means "nothing applied": any other error is reported (exit 2),
    never answered with "No migration applied" or a second run of every migration."""
    role = f"mig_reader_{uuid4().hex[:8]}"
    run_sql(admin_url(POSTGRES_URL or ""), f'CREATE ROLE "{role}" LOGIN')
    try:
        with new_postgres_database() as owner_url:
            versions = all_versions(owner_url)
            assert asyncio.run(apply(owner_url)) == versions
            scheme, rest = owner_url.split("://", 1)
            role_url = f"{scheme}://{role}@{rest.split('@', 1)[1]}"  # may not read aerich
            for action in ("current", "check", "list", "apply"):
                EXECUTOR_CACHE.clear()
                assert main(["migrate", "--database-url", role_url, action]) == 2, action
                captured = capsys.readouterr()
                assert "permission denied" in captured.err, (action, captured)
                assert "No migration applied" not in captured.out
            assert asyncio.run(recorded(owner_url)) == dict.fromkeys(versions, 1)
            run_sql(owner_url, f'DROP OWNED BY "{role}"')
    finally:
        run_sql(admin_url(POSTGRES_URL or ""), f'DROP ROLE IF EXISTS "{role}"')


@requires_postgres("the lock is PostgreSQL's")
async def test_a_lock_on_an_unreachable_database_raises() -> None:
    EXECUTOR_CACHE.clear()
    await init_database(f"postgres://postgres@127.0.0.1:{free_port()}/x", generate_schemas=False)
    try:
        with pytest.raises(OSError):
            async with held_lock(LOCK_NAME):
                pass  # pragma: no cover
    finally:
        await close_database()


def test_the_migrations_url_is_used_for_schema_work(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``AUTH_MIGRATIONS_DATABASE_URL`` before ``AUTH_DATABASE_URL`` for migrate commands."""
    direct_url = f"sqlite://{tmp_path / 'direct.sqlite3'}"
    monkeypatch.setenv("AUTH_DATABASE_URL", f"sqlite://{tmp_path / 'missing' / 'x.sqlite3'}")
    monkeypatch.setenv("AUTH_MIGRATIONS_DATABASE_URL", direct_url)
    assert main(["migrate", "apply"]) == 0
    assert "Applied" in capsys.readouterr().out
    assert asyncio.run(status(direct_url)).up_to_date


def test_migration_commands_run_without_named_statements() -> None:
    """Right through a pooler in transaction mode; and with a second connection for the
    lock's transaction, whatever pool size the URL asks for."""
    url = "postgres://app@db.example/auth?maxsize=1&statement_cache_size=100"
    credentials = aerich_config(url)["connections"]["default"]["credentials"]
    assert (credentials["statement_cache_size"], credentials["maxsize"]) == (0, 2)
    sqlite_url = "sqlite:///tmp/x.sqlite3"
    assert aerich_config(sqlite_url)["connections"]["default"] == sqlite_url
