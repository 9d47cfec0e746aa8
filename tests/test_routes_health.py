from __future__ import annotations

from datetime import datetime
from typing import Any

from .conftest import STRONG_PASSWORD, RunningApp, free_port


async def test_health_reports_the_database(api: RunningApp) -> None:
    response = await api.client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["environment"] == "test"
    assert body["version"]
    assert datetime.fromisoformat(body["timestamp"]).tzinfo is not None
    assert body["checks"]["database"]["status"] == "healthy"


async def test_unreachable_database_gives_503_not_500(make_app: Any) -> None:
    # A PostgreSQL URL on a port where nothing listens: every query fails to connect.
    dead_url = f"postgres://postgres@127.0.0.1:{free_port()}/nowhere"
    api: RunningApp = await make_app(database_url=dead_url, generate_schemas=False)
    health = await api.client.get("/health")
    assert health.status_code == 503
    body = health.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["database"]["status"] == "unhealthy"

    login = await api.client.post(
        api.url("/auth/login"), json={"email": "a@example.com", "password": STRONG_PASSWORD}
    )
    assert login.status_code == 503
    assert login.json() == {
        "success": False,
        "errors": [
            {
                "code": "DATABASE_UNAVAILABLE",
                "message": "The database is unreachable. Nothing was changed; try again shortly.",
                "field": None,
            }
        ],
    }
