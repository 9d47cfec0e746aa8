"""Serving a Sanic app in the test's own event loop, over real HTTP on loopback."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sanic import Sanic

from sanic_auth_sessions.http.amendments import finalise_signals_once


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def serve_url(app: Sanic[Any, Any]) -> AsyncIterator[str]:
    """Run ``app`` with all its listeners on a free loopback port; yields its base URL.

    The apps served here are Sanic's own, with sanic-ext's HEAD and OPTIONS routes added at
    start: like the extension's apps, they finalise the signal router once for those routes,
    not once per route (``http/amendments.py``; about 4 ms of CPU each, 300 a run)."""
    finalise_signals_once(app)
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
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
        sock.close()


# Every test server is plain HTTP on loopback. httpx loads the CA bundle for each client it
# makes (a new TLS context: ~33 ms of CPU) and reads proxy settings from the environment;
# these clients do neither.
LOOPBACK: dict[str, Any] = {"verify": False, "trust_env": False}


def loopback_client(base_url: str = "", **options: Any) -> httpx.AsyncClient:
    """An httpx client for a test server on loopback (see ``LOOPBACK``)."""
    return httpx.AsyncClient(base_url=base_url, **LOOPBACK, **options)


def loopback_sync_client(base_url: str = "", **options: Any) -> httpx.Client:
    """The blocking twin of :func:`loopback_client`."""
    return httpx.Client(base_url=base_url, **LOOPBACK, **options)


@asynccontextmanager
async def serve(app: Sanic[Any, Any]) -> AsyncIterator[httpx.AsyncClient]:
    """Like ``serve_url``, yielding a client for the app."""
    async with serve_url(app) as base_url, loopback_client(base_url) as client:
        yield client
