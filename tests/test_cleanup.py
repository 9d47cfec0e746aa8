from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from sanic_auth_sessions.cleanup import delete_stale_rows
from sanic_auth_sessions.cli import main
from sanic_auth_sessions.database import close_database, init_database
from sanic_auth_sessions.models import PasswordResetToken, User, UserSession

from .conftest import RunningApp

DAY_S = 24 * 3600


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
    assert "Deleted 2 sessions and 2 password reset tokens." in capsys.readouterr().out


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
    assert api.app.ctx.auth_cleanup_task is not None
