"""Test helpers: a throwaway Redis, a closed port, captured error logs.

``redis_url`` is ``TEST_REDIS_URL`` when set; otherwise a ``redis-server`` from PATH on a free
loopback port, without persistence, for the whole session. Tests needing it are skipped when
neither is available. Tests sharing it use unique keys rather than flushing, so a shared
``TEST_REDIS_URL`` is safe.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from .serving import free_port

REDIS_START_TIMEOUT_S = 5.0


def closed_port_url() -> str:
    """A ``redis://`` URL where nothing listens, so every connection is refused."""
    return f"redis://127.0.0.1:{free_port()}/0"


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class _ThrowawayRedis:
    """One ``redis-server`` per test session, however many test modules import the fixture.

    A session fixture imported into several modules is several fixtures, so they share this
    and the last one to finish stops the server.
    """

    def __init__(self) -> None:
        self.url: str | None = None
        self.failure: str | None = None
        self.users = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None

    def acquire(self) -> str:
        if self.url is None and self.failure is None:
            self._start()
        if self.url is None:
            pytest.skip(self.failure or "redis-server is unavailable")
        self.users += 1
        return self.url

    def release(self) -> None:
        self.users -= 1
        if self.users == 0:
            self._stop()

    def _start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            self.failure = "no TEST_REDIS_URL and no redis-server on PATH"
            return
        port = free_port()
        self._workdir = tempfile.TemporaryDirectory()
        arguments = ["--port", str(port), "--bind", "127.0.0.1", "--dir", self._workdir.name]
        no_persistence = ["--save", "", "--appendonly", "no"]
        self._process = subprocess.Popen(
            [binary, *arguments, *no_persistence],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + REDIS_START_TIMEOUT_S
        while not _answers_ping(port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.failure = "redis-server did not start"
                self._stop()
                return
            time.sleep(0.05)
        self.url = f"redis://127.0.0.1:{port}/0"

    def _stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None
        self.url = None


_redis = _ThrowawayRedis()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if url := os.environ.get("TEST_REDIS_URL"):
        yield url
        return
    url = _redis.acquire()
    try:
        yield url
    finally:
        _redis.release()


@contextmanager
def captured_errors(logger_name: str = "sanic_auth_sessions") -> Iterator[list[logging.LogRecord]]:
    """ERROR records of ``logger_name``; works without pytest's logging plugin (``caplog``)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
