"""The example app as a user runs it: a real process, real HTTP, on the defaults."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import redis

from .conftest import STRONG_PASSWORD, free_port

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 90  # several workers start slowly on a busy 2-core machine


@contextmanager
def example_app(cwd: Path, *command: str, **env: str) -> Iterator[str]:
    """Run ``python <command>`` (the ``sanic`` CLI or ``-m example_app``) until /health is up."""
    port = free_port()
    args = [sys.executable, *command]
    if "sanic" in command:
        args += ["--host", "127.0.0.1", "--port", str(port)]
    log_path = cwd / f"server-{port}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        args,
        cwd=cwd,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "ENVIRONMENT": "development",
            "PORT": str(port),
            **env,
        },
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                output = log_path.read_text(errors="replace")
                pytest.fail(f"example app did not start:\n{output[-3000:]}")
            time.sleep(0.2)
        yield base_url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log_file.close()


def test_python_m_example_app_runs_on_sqlite_with_no_setup(tmp_path: Path) -> None:
    env = {"FIRST_SUPERUSER_EMAIL": "root@example.com", "FIRST_SUPERUSER_PASSWORD": STRONG_PASSWORD}
    with example_app(tmp_path, "-m", "example_app", **env) as base_url:
        client = httpx.Client(base_url=base_url)
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
        assert client.get("/api/v1/hello").status_code == 401
        # Strict CSP and the other headers on API responses.
        assert hello.headers["content-security-policy"].startswith("default-src 'none'")
        assert hello.headers["x-content-type-options"] == "nosniff"
    assert (tmp_path / "example_app.sqlite3").exists()


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
        with httpx.Client(base_url=base_url, headers={"Connection": "close"}) as client:
            response = client.post(
                "/api/v1/auth/login", json={"email": f"w{i}@example.com", "password": "x" * 12}
            )
            statuses.append(response.status_code)
    return statuses


TWO_WORKERS = ("-m", "sanic", "example_app.server:app", "--workers", "2")


def test_login_limit_is_shared_by_two_workers_with_redis(
    tmp_path: Path,
    redis_url: str,
) -> None:
    # With per-worker memory storage each worker counts on its own, so more than 10 pass:
    # this shows the requests really are spread over both workers.
    with example_app(tmp_path, *TWO_WORKERS) as url:
        per_worker = count_logins(url, 30)
    assert per_worker.count(401) > 10

    # A Redis database of its own, emptied, so no earlier count leaks in.
    shared_url = redis_url.rsplit("/", 1)[0] + "/7"
    redis.Redis.from_url(shared_url).flushdb()
    env = {"RATE_LIMIT_STORAGE_URL": shared_url}
    with example_app(tmp_path, *TWO_WORKERS, **env) as url:
        shared = count_logins(url, 25)
    assert shared == [401] * 10 + [429] * 15


def test_python_m_example_app_with_two_workers(tmp_path: Path) -> None:
    with example_app(tmp_path, "-m", "example_app", WORKERS="2") as base_url:
        assert httpx.get(f"{base_url}/health").json()["status"] == "healthy"
    log = next(tmp_path.glob("server-*.log")).read_text()
    assert log.count("Starting worker") == 2
