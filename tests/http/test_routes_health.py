from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

import pytest

from sanic_auth_sessions import startup
from sanic_auth_sessions.startup import StartupFailed

from ..conftest import RunningApp, free_port


async def test_health_reports_the_database(api: RunningApp) -> None:
    response = await api.client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["environment"] == "test"
    assert body["version"]
    assert datetime.fromisoformat(body["timestamp"]).tzinfo is not None
    assert body["checks"]["database"]["status"] == "healthy"


async def test_an_unreachable_database_at_start_ends_the_start_in_one_line(
    make_app: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A PostgreSQL URL on a port where nothing listens: the start waits a moment for it,
    then fails with one line (an outage after the start gives 503s: test_adversarial_faults)."""
    monkeypatch.setattr(startup, "DATABASE_WAIT_S", 1.0)
    dead_url = f"postgres://postgres@127.0.0.1:{free_port()}/nowhere"
    started = time.monotonic()
    with pytest.raises(StartupFailed) as failed:
        await make_app(database_url=dead_url, generate_schemas=False)
    assert time.monotonic() - started < 10
    assert failed.value.code == 2
    assert failed.value.reason.startswith("the database is not reachable")
    assert "AUTH_DATABASE_URL" in failed.value.reason
    lines = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert [r.getMessage() for r in lines] == [f"AUTH: cannot start: {failed.value.reason}"]
