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

from .serving import LOOPBACK, free_port

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 90  # several workers start slowly on a busy 2-core machine
# Sanic's worker manager checks every 0.1 s whether all workers have acknowledged their start.
MANAGER_POLL_S = 0.1


def all_workers_acknowledged(base_url: str) -> bool:
    """Whether ``/health`` answers 200 with every server worker acknowledged (ACKED) in the
    states Sanic's manager shares (a process without the manager reports no workers)."""
    try:
        response = httpx.get(f"{base_url}/health", timeout=1, **LOOPBACK)
    except httpx.HTTPError:
        return False
    if response.status_code != 200:
        return False
    workers = response.json()["checks"].get("workers")
    return workers is None or workers["workers_alive"] == workers["workers_expected"]


def let_the_manager_see_the_acknowledgements() -> None:
    """A signal must not reach Sanic's manager before it has seen every worker's ACK: one that
    does (stopping a worker before the manager's wait for acknowledgements has ended) leaves the
    manager spinning in that wait instead of shutting down. Three of its 0.1 s polls."""
    time.sleep(3 * MANAGER_POLL_S)


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
                if all_workers_acknowledged(base_url):
                    break
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                output = log_path.read_text(errors="replace")
                pytest.fail(f"example app did not start:\n{output[-3000:]}")
            time.sleep(0.05)
        let_the_manager_see_the_acknowledgements()
        yield base_url
    finally:
        if process.poll() is None:
            stop(process)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log_file.close()


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT to the server's main process alone, which stops its workers. Sent to the whole
    process group (Ctrl-C in a terminal), it reaches each worker twice, from the terminal and
    from the manager; a second signal during the worker's clean-up can end it with "Event loop
    stopped before Future completed", and the manager then waits 10 s for it."""
    os.kill(process.pid, signal.SIGINT)


# Sanic's CLI with two workers (``python -m example_app`` takes WORKERS too).
TWO_WORKERS = ("-m", "sanic", "example_app.server:app", "--workers", "2")
