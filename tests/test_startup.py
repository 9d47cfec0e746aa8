"""A start that cannot succeed ends at once, as one line and a non-zero exit; a schema that is
missing or behind is never served; the log says how to get in as a superuser."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from sanic_auth_sessions import InMemoryMailer, startup
from sanic_auth_sessions.cli import main as cli
from sanic_auth_sessions.db.connection import connection
from sanic_auth_sessions.startup import StartupFailed

from .conftest import (
    STRONG_PASSWORD,
    RunningApp,
    build_app,
    empty_database_url,
    free_port,
    start_app,
    stop_app,
)
from .example_process import ROOT, example_app

EXIT_WITHIN_S = 10


def run_example_app(cwd: Path, **env: str) -> tuple[int, float, str]:
    """``python -m example_app`` until it exits (it must, quickly); status, seconds, output."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "example_app", "--port", str(free_port())],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), "ENVIRONMENT": "development", **env},
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    return done.returncode, time.monotonic() - started, done.stdout + done.stderr


def critical_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if " CRITICAL " in line]


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        (
            {"FIRST_SUPERUSER_EMAIL": "a@example.com", "FIRST_SUPERUSER_PASSWORD": "admin123"},
            "AUTH_FIRST_SUPERUSER_PASSWORD is refused: The password is too short",
        ),
        (
            {"DATABASE_URL": "postgres://postgres@127.0.0.1:{port}/nowhere"},
            "the database is not reachable",
        ),
        ({"SANIC_AUTH_BCRYPT_ROUNDS": "3"}, "AUTH_BCRYPT_ROUNDS must be between 4 and 31"),
    ],
    ids=["weak-first-superuser-password", "unreachable-database", "bad-setting"],
)
def test_a_failed_start_exits_with_one_line(
    tmp_path: Path, env: dict[str, str], reason: str
) -> None:
    env = {key: value.format(port=free_port()) for key, value in env.items()}
    status, seconds, output = run_example_app(tmp_path, **env)
    assert status == 2, output[-2000:]
    assert seconds < EXIT_WITHIN_S, output[-2000:]
    lines = critical_lines(output)
    assert len(lines) == 1, output[-2000:]
    assert f"AUTH: cannot start: {reason}" in lines[0]
    assert "Traceback" not in output


HOST_APP = """
from sanic import Sanic
from tortoise.contrib.sanic import register_tortoise

from sanic_auth_sessions import AuthSessions, tortoise_config

app = Sanic("my_app")
app.config.AUTH_SECRET_KEY = "change-me-to-32-or-more-random-characters"
app.config.AUTH_MFA_ENCRYPTION_KEY = "bW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW0="
app.extend(extensions=[AuthSessions()])
register_tortoise(app, config=tortoise_config("sqlite://my_app.sqlite3"), generate_schemas=True)
"""


def test_a_host_that_sets_up_tortoise_after_the_extension_is_told_the_order(
    tmp_path: Path,
) -> None:
    (tmp_path / "my_app.py").write_text(HOST_APP)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "sanic", "my_app:app", "--port", str(free_port())],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,  # Sanic's manager kills its process group when a worker fails
    )
    assert done.returncode != 0
    assert time.monotonic() - started < 30  # the worker fails; the manager stops it all
    output = done.stdout + done.stderr
    assert "AUTH: cannot start: Tortoise is not set up when the extension starts" in output
    assert "before app.extend(extensions=[AuthSessions()])" in output


def test_the_first_superuser_email_of_an_existing_account_is_reported(tmp_path: Path) -> None:
    """An account with that email that is not a superuser (its creation as the first superuser
    is checked by ``test_example_app``)."""
    url = f"sqlite://{tmp_path / 'example_app.sqlite3'}"
    assert cli(["migrate", "apply", "--database-url", url]) == 0
    email = ["--email", "ops@example.com", "--password", STRONG_PASSWORD]
    assert cli(["create-superuser", *email, "--database-url", url]) == 0
    connection = sqlite3.connect(tmp_path / "example_app.sqlite3")
    with connection:
        assert connection.execute("UPDATE auth_users SET is_superuser = 0").rowcount == 1
    connection.close()
    env = {"FIRST_SUPERUSER_EMAIL": "ops@example.com", "FIRST_SUPERUSER_PASSWORD": STRONG_PASSWORD}
    with example_app(tmp_path, "-m", "example_app", **env):
        pass
    log = next(tmp_path.glob("server-*.log")).read_text()
    assert "AUTH_FIRST_SUPERUSER_EMAIL ops@example.com is an account that is not a superuser" in log
    assert "python -m sanic_auth_sessions create-superuser --email ops@example.com" in log


def test_development_points_the_way_in_when_there_is_no_superuser(tmp_path: Path) -> None:
    with example_app(tmp_path, "-m", "example_app"):
        pass
    log = next(tmp_path.glob("server-*.log")).read_text()
    assert (
        log.count("No superuser yet. Make one: python -m sanic_auth_sessions create-superuser") == 1
    )
    assert "--database-url sqlite://example_app.sqlite3" in log
    assert log.count("AUTH: environment development") == 1  # what the banner's "mode" is not


# --- in process, on SQLite files of their own: the schema checks ------------------------------


@pytest.fixture
async def start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    """``await start(**AUTH settings)`` starts a server on the test's SQLite file."""
    monkeypatch.setattr(startup, "DATABASE_WAIT_S", 0.5)
    url = await empty_database_url("sqlite", tmp_path)
    started: list[tuple[RunningApp, Any]] = []

    async def factory(**config: Any) -> RunningApp:
        mailer = InMemoryMailer()
        database = config.pop("database_url", url)
        running, server = await start_app(build_app(database, mailer=mailer, **config), mailer)
        started.append((running, server))
        return running

    yield factory
    for running, server in reversed(started):
        await stop_app(running, server)


async def test_missing_tables_are_refused_naming_the_command(
    start: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(StartupFailed) as failed:
        await start(generate_schemas=False)
    assert "has no table auth_users" in failed.value.reason
    assert "python -m sanic_auth_sessions migrate apply --database-url <url>" in failed.value.reason
    assert "AUTH_MIGRATE_ON_START=true" in failed.value.reason
    critical = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
    assert critical == [f"AUTH: cannot start: {failed.value.reason}"]


async def test_pending_migrations_are_refused(start: Any) -> None:
    await start(generate_schemas=False, migrate_on_start=True)
    await connection().execute_query('DELETE FROM "aerich" WHERE "version" LIKE ?', ["%guest%"])
    with pytest.raises(StartupFailed) as failed:
        await start(generate_schemas=False)
    assert "is behind this version of sanic_auth_sessions" in failed.value.reason
    assert "guest_role" in failed.value.reason


async def test_an_older_table_is_refused(start: Any) -> None:
    await start(generate_schemas=True)
    await connection().execute_script('ALTER TABLE "auth_sessions" DROP COLUMN "rotated_at"')
    with pytest.raises(StartupFailed) as failed:
        await start(generate_schemas=False)
    assert "no table auth_sessions" in failed.value.reason
    assert "or an older one" in failed.value.reason


async def test_schema_made_by_generate_schemas_passes_the_check(start: Any) -> None:
    running = await start(generate_schemas=True)
    assert await running.app.ctx.auth_manager.has_superuser() is False
