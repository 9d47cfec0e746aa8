"""The example app as a user runs it: a real process, real HTTP, on the defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from .conftest import STRONG_PASSWORD
from .example_process import ROOT, TWO_WORKERS, example_app
from .serving import LOOPBACK, loopback_sync_client


def test_python_m_example_app_runs_on_sqlite_with_no_setup(tmp_path: Path) -> None:
    env = {"FIRST_SUPERUSER_EMAIL": "root@example.com", "FIRST_SUPERUSER_PASSWORD": STRONG_PASSWORD}
    # The client is closed before the server stops: an idle keep-alive connection at Ctrl-C
    # costs Sanic's manager a 10 s wait for the worker.
    with (
        example_app(tmp_path, "-m", "example_app", **env) as base_url,
        loopback_sync_client(base_url) as client,
    ):
        health = client.get("/health").json()
        assert health["status"] == "healthy" and health["environment"] == "development"
        login = client.post(
            "/api/v1/auth/login", json={"email": "root@example.com", "password": STRONG_PASSWORD}
        )
        assert login.status_code == 200, login.text
        assert login.json()["user"]["is_superuser"] is True
        token = login.json()["access_token"]
        hello = client.get("/api/v1/hello", headers={"Authorization": f"Bearer {token}"})
        assert hello.status_code == 200
        assert hello.json() == {"message": "Hello, root@example.com!"}
        assert client.get("/api/v1/hello").status_code == 401
        # The example's own routes are documented like the extension's, from their models.
        document = client.get("/docs/openapi.json").json()
        operation = document["paths"]["/api/v1/hello"]["get"]
        assert (operation["operationId"], operation["tags"]) == ("hello", ["Example"])
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Hello"}
        report = document["paths"]["/api/v1/organizations/{organization_id}/report"]["get"]
        assert {"200", "401", "403", "404"} <= set(report["responses"])
        # The original project's root page, and its document under the prefix.
        root = client.get("/")
        assert root.status_code == 200
        assert root.headers["content-type"] == "text/html; charset=utf-8"
        assert "Welcome" in root.text and 'href="/docs"' in root.text
        assert client.get("/docs").status_code == 200  # the link works
        page = document["paths"]["/"]["get"]
        assert page["operationId"] == "root__get"
        assert "text/html" in page["responses"]["200"]["content"]
        assert client.get("/api/v1/openapi.json").json() == document
        # Strict CSP and the other headers on API responses.
        assert hello.headers["content-security-policy"].startswith("default-src 'none'")
        assert hello.headers["x-content-type-options"] == "nosniff"
    assert (tmp_path / "example_app.sqlite3").exists()
    log = next(tmp_path.glob("server-*.log")).read_text()
    assert log.count("Created the first superuser root@example.com.") == 1


def test_example_app_refuses_production_without_a_secret(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import example_app.server"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "ENVIRONMENT": "production"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "AUTH_SECRET_KEY" in result.stderr


def count_logins(base_url: str, attempts: int) -> list[int]:
    statuses = []
    for i in range(attempts):
        # A new connection each time, so the kernel spreads them over the workers.
        with loopback_sync_client(base_url, headers={"Connection": "close"}) as client:
            response = client.post(
                "/api/v1/auth/login", json={"email": f"w{i}@example.com", "password": "x" * 12}
            )
            statuses.append(response.status_code)
    return statuses


LOGIN_LIMIT = {
    "SANIC_AUTH_RATE_LIMIT_LOGIN": "10/minute",  # development relaxes it to 100
    # Each refused login checks a dummy hash: at the default cost (12) the 55 logins of the
    # limit test would be 20 s of CPU that a test of the limit does not need.
    "SANIC_AUTH_BCRYPT_ROUNDS": "4",
}


PRODUCTION = {
    "ENVIRONMENT": "production",
    "AUTH_SECRET_KEY": "s" * 40,
    "AUTH_MFA_ENCRYPTION_KEY": "bW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW0=",
}


@pytest.fixture(scope="module")
def two_workers_in_memory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``python -m example_app`` in production with two workers and the login limit of the
    limit test (each worker counting in its own memory); its URL and its directory. A
    two-worker start is seconds of CPU: the two tests below share it."""
    cwd = tmp_path_factory.mktemp("two-workers")
    env = {**PRODUCTION, "WORKERS": "2", **LOGIN_LIMIT}
    with example_app(cwd, "-m", "example_app", **env) as base_url:
        yield base_url, cwd


def test_login_limit_is_shared_by_two_workers_with_redis(
    tmp_path: Path,
    redis_url: str,
    two_workers_in_memory: tuple[str, Path],
) -> None:
    # With per-worker memory storage each worker counts on its own, so more than 10 pass:
    # this shows the requests really are spread over both workers.
    url, _ = two_workers_in_memory
    per_worker = count_logins(url, 30)
    assert per_worker.count(401) > 10

    # A Redis database of its own, emptied, so no earlier count leaks in.
    shared_url = redis_url.rsplit("/", 1)[0] + "/7"
    redis.Redis.from_url(shared_url).flushdb()
    env = {"RATE_LIMIT_STORAGE_URL": shared_url, **LOGIN_LIMIT}
    with example_app(tmp_path, *TWO_WORKERS, **env) as url:
        shared = count_logins(url, 25)
    assert shared == [401] * 10 + [429] * 15


def test_python_m_example_app_with_two_workers(two_workers_in_memory: tuple[str, Path]) -> None:
    base_url, cwd = two_workers_in_memory
    health = httpx.get(f"{base_url}/health", **LOOPBACK).json()
    assert health["status"] == "healthy" and health["environment"] == "production"
    log = next(cwd.glob("server-*.log")).read_text()
    assert log.count("Starting worker") == 2
    # What an operator should know is said once per start, not once per process.
    assert log.count("password-reset mails go to standard output") == 1
    assert log.count("AUTH: environment production") == 1
