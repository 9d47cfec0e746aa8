from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from sanic_auth_sessions.cli import main
from sanic_auth_sessions.core.models import (
    EmailToken,
    EmailTokenPurpose,
    MfaChallenge,
    PasswordResetToken,
    SecurityEvent,
    User,
    UserSession,
)
from sanic_auth_sessions.db.cleanup import (
    LOCK_NAME,
    CleanupResult,
    delete_stale_rows,
    next_delay,
    run_periodically,
)
from sanic_auth_sessions.db.connection import close_database, connection, init_database, lock_key
from sanic_auth_sessions.http.runtime import auth_runtime

from ..conftest import POSTGRES_URL, RunningApp, requires_postgres
from ..redis_server import captured_errors

DAY_S = 24 * 3600
ROOT = Path(__file__).resolve().parents[2]


async def make_rows() -> dict[str, UserSession]:
    now = datetime.now(timezone.utc)
    user = await User.create(email="clean@example.com", hashed_password="x")

    async def session(name: str, **fields: object) -> UserSession:
        values: dict[str, object] = {
            "user": user,
            "refresh_token_jti": name,
            "last_used_at": now,
            "expires_at": now + timedelta(days=7),
        }
        values.update(fields)
        return await UserSession.create(**values)

    rows = {
        "active": await session("active"),
        "revoked_recently": await session("revoked_recently", is_active=False),
        "revoked_long_ago": await session("revoked_long_ago", is_active=False),
        "expired_recently": await session("expired_recently", expires_at=now - timedelta(days=1)),
        "expired_long_ago": await session("expired_long_ago", expires_at=now - timedelta(days=40)),
    }
    # auto_now would overwrite updated_at on save: set it with a query.
    await UserSession.filter(id=rows["revoked_long_ago"].id).update(
        updated_at=now - timedelta(days=40)
    )
    await PasswordResetToken.create(
        user=user, token_hash="a" * 64, expires_at=now + timedelta(hours=1)
    )
    await PasswordResetToken.create(
        user=user, token_hash="b" * 64, expires_at=now - timedelta(hours=1)
    )
    await PasswordResetToken.create(
        user=user, token_hash="c" * 64, expires_at=now + timedelta(hours=1), used_at=now
    )
    return rows


async def test_cleanup_keeps_live_rows_and_the_audit_window(api: RunningApp) -> None:
    rows = await make_rows()
    result = await delete_stale_rows(audit_window_s=30 * DAY_S)
    assert result.sessions_deleted == 2
    assert result.reset_tokens_deleted == 2
    kept = {s.refresh_token_jti for s in await UserSession.all()}
    assert kept == {"active", "revoked_recently", "expired_recently"}
    assert [t.token_hash[0] for t in await PasswordResetToken.all()] == ["a"]
    # Idempotent: a second run (another worker, or cron) finds nothing.
    again = await delete_stale_rows(audit_window_s=30 * DAY_S)
    assert (again.sessions_deleted, again.reset_tokens_deleted) == (0, 0)
    assert rows["active"].id in {s.id for s in await UserSession.all()}


def test_cli_cleanup_sessions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite://{tmp_path / 'cli.sqlite3'}"
    EXECUTOR_CACHE.clear()

    async def prepare() -> None:
        await init_database(url, generate_schemas=True)
        await make_rows()
        await close_database()

    asyncio.run(prepare())
    assert main(["cleanup-sessions", "--database-url", url]) == 0
    assert (
        "Deleted 2 sessions, 2 password reset tokens and 0 security events."
        in capsys.readouterr().out
    )


async def old_and_new_events(ages_days: list[int]) -> None:
    now = datetime.now(timezone.utc)
    await SecurityEvent.bulk_create(
        [
            SecurityEvent(type="login.failed", created_at=now - timedelta(days=age), data={})
            for age in ages_days
        ]
    )


async def test_cleanup_deletes_security_events_past_their_retention(api: RunningApp) -> None:
    await old_and_new_events([1, 89, 91, 400])
    result = await delete_stale_rows(30 * DAY_S, audit_retention_s=90 * DAY_S, batch_size=1)
    assert result.security_events_deleted == 2
    now = datetime.now(timezone.utc)
    ages = sorted((now - event.created_at).days for event in await SecurityEvent.all())
    assert ages == [1, 89]
    shorter = await delete_stale_rows(30 * DAY_S, audit_retention_s=2 * DAY_S)
    assert shorter.security_events_deleted == 1
    # The default retention is AUTH_AUDIT_RETENTION_S's: 90 days.
    await old_and_new_events([95])
    assert (await delete_stale_rows(30 * DAY_S)).security_events_deleted == 1
    assert await SecurityEvent.all().count() == 1


async def test_cleanup_deletes_spent_or_expired_email_tokens_and_second_steps(
    api: RunningApp,
) -> None:
    user = await User.create(email="ann@example.com", hashed_password="x")
    now = datetime.now(timezone.utc)
    hour = timedelta(hours=1)

    async def email_token(name: str, **fields: object) -> None:
        await EmailToken.create(
            user=user,
            purpose=EmailTokenPurpose.VERIFY,
            token_hash=name.ljust(64, "0"),
            email=user.email,
            security_stamp=user.security_stamp,
            **{"expires_at": now + hour, **fields},
        )

    async def second_step(name: str, **fields: object) -> None:
        await MfaChallenge.create(
            user=user,
            token_hash=name.ljust(64, "0"),
            security_stamp=user.security_stamp,
            device_hash="d" * 64,
            **{"expires_at": now + hour, **fields},
        )

    await email_token("live")
    await email_token("used", used_at=now)
    await email_token("expired", expires_at=now - hour)
    await second_step("pending")
    await second_step("spent", spent_at=now)
    await second_step("expired", expires_at=now - hour)
    await delete_stale_rows(30 * DAY_S)
    assert [t.token_hash[:4] for t in await EmailToken.all()] == ["live"]
    assert [c.token_hash[:7] for c in await MfaChallenge.all()] == ["pending"]


def test_cli_cleanup_deletes_security_events(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite://{tmp_path / 'events.sqlite3'}"
    EXECUTOR_CACHE.clear()

    async def prepare() -> None:
        await init_database(url, generate_schemas=True)
        await old_and_new_events([1, 5, 100])
        await close_database()

    asyncio.run(prepare())
    assert main(["cleanup-sessions", "--database-url", url]) == 0
    assert "and 1 security events." in capsys.readouterr().out
    assert main(["cleanup-sessions", "--database-url", url, "--audit-retention-s", "259200"]) == 0
    assert "and 1 security events." in capsys.readouterr().out  # the 5-day-old one
    asyncio.run(prepare())
    monkeypatch.setenv("AUTH_AUDIT_RETENTION_S", str(2 * DAY_S))
    assert main(["cleanup-sessions", "--database-url", url]) == 0
    assert "and 2 security events." in capsys.readouterr().out  # the new 5- and 100-day-old


async def test_background_cleanup_uses_the_retention_setting(make_app: object) -> None:
    api: RunningApp = await make_app(cleanup_interval_s=1, audit_retention_s=10 * DAY_S)  # type: ignore[operator]
    await old_and_new_events([1, 11])
    for _ in range(50):
        await asyncio.sleep(0.1)
        if await SecurityEvent.all().count() == 1:
            break
    [kept] = await SecurityEvent.all()
    assert (datetime.now(timezone.utc) - kept.created_at).days == 1
    assert auth_runtime(api.app).cleanup_task is not None


def test_cli_needs_a_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTH_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(SystemExit, match="No database"):
        main(["cleanup-sessions"])


async def test_background_cleanup_runs_in_the_server(make_app: object) -> None:
    api: RunningApp = await make_app(cleanup_interval_s=1, session_audit_window_s=30 * DAY_S)  # type: ignore[operator]
    await make_rows()
    for _ in range(50):
        await asyncio.sleep(0.1)
        if await UserSession.all().count() == 3:
            break
    assert {s.refresh_token_jti for s in await UserSession.all()} == {
        "active",
        "revoked_recently",
        "expired_recently",
    }
    assert auth_runtime(api.app).cleanup_task is not None


async def stale_sessions(count: int) -> None:
    """``count`` sessions that expired long ago, and one live session."""
    now = datetime.now(timezone.utc)
    user = await User.create(email=f"stale-{uuid4().hex[:8]}@example.com", hashed_password="x")
    await UserSession.bulk_create(
        [
            UserSession(
                user=user,
                refresh_token_jti=uuid4().hex,
                last_used_at=now,
                expires_at=now - timedelta(days=40),
            )
            for _ in range(count)
        ]
    )
    await UserSession.create(
        user=user, refresh_token_jti="live", last_used_at=now, expires_at=now + timedelta(days=1)
    )


DELETE_LOG = """
CREATE TABLE cleanup_log (id serial, tx bigint, deleted int);
CREATE FUNCTION log_cleanup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cleanup_log (tx, deleted) SELECT txid_current(), count(*) FROM gone;
    RETURN NULL;
END $$;
CREATE TRIGGER log_cleanup AFTER DELETE ON auth_sessions
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION log_cleanup();
"""
NO_DELETE_LOG = """
DROP TRIGGER IF EXISTS log_cleanup ON auth_sessions;
DROP FUNCTION IF EXISTS log_cleanup();
DROP TABLE IF EXISTS cleanup_log;
"""


async def test_cleanup_deletes_in_batches_of_one_transaction_each(
    api: RunningApp, database_url: str
) -> None:
    await stale_sessions(25)
    db = connection()
    postgres = database_url.startswith("postgres")
    if postgres:  # each DELETE statement records its transaction and row count
        await db.execute_script(DELETE_LOG)
    try:
        result = await delete_stale_rows(30 * DAY_S, batch_size=10)
        assert (result.sessions_deleted, result.skipped) == (25, False)
        if postgres:
            _, rows = await db.execute_query("SELECT tx, deleted FROM cleanup_log ORDER BY id")
            assert [row["deleted"] for row in rows] == [10, 10, 5]
            assert len({row["tx"] for row in rows}) == 3
    finally:
        if postgres:
            await db.execute_script(NO_DELETE_LOG)
    assert [s.refresh_token_jti for s in await UserSession.all()] == ["live"]


@asynccontextmanager
async def cleanup_lock_held_elsewhere() -> AsyncIterator[None]:
    """Another runner (a direct PostgreSQL session) holds the cleanup lock."""
    assert POSTGRES_URL is not None
    other = await asyncpg.connect(POSTGRES_URL.replace("postgres://", "postgresql://", 1))
    await other.execute("SELECT pg_advisory_lock($1)", lock_key(LOCK_NAME))
    try:
        yield
    finally:
        await other.close()


async def test_one_runner_at_a_time_the_others_do_not_wait(
    api: RunningApp, database_url: str
) -> None:
    if not database_url.startswith("postgres"):
        pytest.skip("the lock is PostgreSQL's; on SQLite every runner cleans up")
    await stale_sessions(5)
    async with cleanup_lock_held_elsewhere():
        result = await delete_stale_rows(30 * DAY_S)  # returns at once: no waiting
        assert result == CleanupResult(0, 0, skipped=True)
        assert await UserSession.all().count() == 6
    result = await delete_stale_rows(30 * DAY_S)
    assert result == CleanupResult(5, 0, skipped=False)


async def test_concurrent_rounds_delete_each_row_once(api: RunningApp) -> None:
    """Four workers' rounds at once: every stale row deleted, by one round or another."""
    await stale_sessions(200)
    results = await asyncio.gather(
        *(delete_stale_rows(30 * DAY_S, batch_size=20) for _ in range(4))
    )
    assert sum(result.sessions_deleted for result in results) == 200
    assert any(not result.skipped for result in results)
    assert [s.refresh_token_jti for s in await UserSession.all()] == ["live"]


async def test_the_background_job_skips_rounds_another_runner_holds(
    api: RunningApp, database_url: str
) -> None:
    if not database_url.startswith("postgres"):
        pytest.skip("the lock is PostgreSQL's")
    await stale_sessions(3)
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("sanic_auth_sessions")
    logger.addHandler(handler)
    try:
        async with cleanup_lock_held_elsewhere():
            job = asyncio.create_task(run_periodically(0, 30 * DAY_S, batch_size=2))
            for _ in range(200):
                if any("another worker" in record.getMessage() for record in records):
                    break
                await asyncio.sleep(0.02)
            job.cancel()
            with pytest.raises(asyncio.CancelledError):
                await job
    finally:
        logger.removeHandler(handler)
    assert any("another worker or host" in record.getMessage() for record in records)
    assert await UserSession.all().count() == 4


def test_rounds_are_jittered() -> None:
    delays = [next_delay(3600) for _ in range(200)]
    assert all(3600 * 0.9 <= delay <= 3600 * 1.1 for delay in delays)
    assert len(set(delays)) > 100


def test_cli_batch_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite://{tmp_path / 'batches.sqlite3'}"
    EXECUTOR_CACHE.clear()

    async def prepare() -> None:
        await init_database(url, generate_schemas=True)
        await make_rows()
        await close_database()

    asyncio.run(prepare())
    assert main(["cleanup-sessions", "--database-url", url, "--batch-size", "1"]) == 0
    assert (
        "Deleted 2 sessions, 2 password reset tokens and 0 security events."
        in capsys.readouterr().out
    )
    with pytest.raises(SystemExit):
        main(["cleanup-sessions", "--database-url", url, "--batch-size", "0"])
    assert "at least 1" in capsys.readouterr().err


@requires_postgres("the lock is PostgreSQL's")
async def test_cli_stops_when_another_runner_cleans_up(api: RunningApp, database_url: str) -> None:
    if database_url != POSTGRES_URL:
        pytest.skip("once, on PostgreSQL")
    async with cleanup_lock_held_elsewhere():
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "sanic_auth_sessions", "cleanup-sessions", "--database-url", database_url),
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        out, _ = await process.communicate()
    assert process.returncode == 0
    assert "Stopped: another worker or host is cleaning up." in out.decode()


async def test_a_failed_round_is_logged_and_the_job_goes_on(
    api: RunningApp, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("once, on SQLite (a database file of its own)")
    await connection().execute_script('DROP TABLE "auth_password_reset_tokens"')
    with captured_errors() as records:
        job = asyncio.create_task(run_periodically(0, 30 * DAY_S))
        for _ in range(200):
            if len(records) >= 2:  # a second round after the first failed
                break
            await asyncio.sleep(0.02)
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job
    assert len(records) >= 2
    assert all(record.getMessage().startswith("Session cleanup failed") for record in records)
