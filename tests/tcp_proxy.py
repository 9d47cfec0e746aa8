"""A TCP proxy on loopback that a test can cut and restore, to make a server "go away".

``cut()`` closes the listener (new connections are refused) and aborts every open connection
(whatever is in flight is lost, as when a database host dies); ``restore()`` listens again on
the same port. ``hold()`` stops passing what clients send (the server seems to hang) and
sets ``held`` once a client sent something meanwhile; ``release()`` passes it on again. It
runs in the test's event loop, beside an in-process server.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.WriteTransport] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._passing = asyncio.Event()
        self._passing.set()
        self.held = asyncio.Event()

    @property
    def is_cut(self) -> bool:
        return self._server is None

    async def start(self) -> int:
        """Listen (on a free port the first time, the same one after); returns the port."""
        assert self._server is None, "already listening"
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        self._server = await asyncio.start_server(self._handle, sock=sock)
        return self.port

    async def cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for transport in list(self._transports):
            transport.abort()
        self._transports.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    def hold(self) -> None:
        self.held.clear()
        self._passing.clear()

    def release(self) -> None:
        self._passing.set()

    async def restore(self) -> None:
        if self._server is None:
            await self.start()

    async def close(self) -> None:
        await self.cut()

    async def _handle(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                self.target_host, self.target_port
            )
        except OSError:
            client_writer.transport.abort()
            return
        if self._server is None:  # cut while connecting
            client_writer.transport.abort()
            upstream_writer.transport.abort()
            return
        self._transports.update((client_writer.transport, upstream_writer.transport))
        for reader, writer, from_client in (
            (client_reader, upstream_writer, True),
            (upstream_reader, client_writer, False),
        ):
            task = asyncio.create_task(self._pipe(reader, writer, from_client))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, from_client: bool
    ) -> None:
        try:
            while data := await reader.read(65536):
                if from_client and not self._passing.is_set():
                    self.held.set()
                    await self._passing.wait()
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._transports.discard(writer.transport)
            with contextlib.suppress(Exception):
                writer.close()
