"""The example app as a user runs it: a separate process on a free port, until /health is up."""

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

from .serving import free_port

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


# Sanic's CLI with two workers (``python -m example_app`` takes WORKERS too).
TWO_WORKERS = ("-m", "sanic", "example_app.server:app", "--workers", "2")
