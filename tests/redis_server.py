"""Test helpers: a throwaway Redis, a closed port, and a Sanic app served over real HTTP.

``redis_url`` is ``TEST_REDIS_URL`` when set; otherwise a ``redis-server`` from PATH on a free
loopback port, without persistence, for the whole session. Tests needing it are skipped when
neither is available. Tests sharing it use unique keys rather than flushing, so a shared
``TEST_REDIS_URL`` is safe.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sanic import Sanic

REDIS_START_TIMEOUT_S = 5.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if url := os.environ.get("TEST_REDIS_URL"):
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no TEST_REDIS_URL and no redis-server on PATH")
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        arguments = ["--port", str(port), "--bind", "127.0.0.1", "--dir", workdir]
        no_persistence = ["--save", "", "--appendonly", "no"]
        process = subprocess.Popen(
            [binary, *arguments, *no_persistence],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + REDIS_START_TIMEOUT_S
            while not _answers_ping(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.skip("redis-server did not start")
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@asynccontextmanager
async def serve(app: Sanic[Any, Any]) -> AsyncIterator[httpx.AsyncClient]:
    """Run ``app`` in this event loop on a free loopback port, with all its listeners."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # create_server() already listens; requests are only sent once the listeners ran.
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        base_url = f"http://127.0.0.1:{port}"
        # Plain HTTP on loopback: skipping TLS set-up saves ~0.1 s per client.
        async with httpx.AsyncClient(base_url=base_url, verify=False, trust_env=False) as client:
            yield client
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
        sock.close()
