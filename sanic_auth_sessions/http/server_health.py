"""What ``/health`` knows about the server itself: readiness while draining, and the workers.

- **Draining.** As soon as a worker starts shutting down (``before_server_stop``), ``/health``
  answers 503 with ``checks.server.state == "draining"``. The worker keeps its listener open
  and serves requests while any are in flight, for at most ``GRACEFUL_SHUTDOWN_TIMEOUT``, so a
  load balancer sees the 503 and moves traffic away before the listener closes. Sanic then
  finishes what is left within what remains of ``GRACEFUL_SHUTDOWN_TIMEOUT``: the whole
  shutdown stays within it.
- **Workers.** Under Sanic's worker manager (``--workers N``), the states the manager shares
  with the workers tell how many server workers are alive (started and acknowledged) of how
  many there should be; ``/health`` answers 503 when fewer are alive. Single-process servers
  report no ``workers`` check.
- **Replacement.** Sanic does not replace a worker that died (a ``kill -9``, the OOM killer).
  Every ``WATCH_INTERVAL_S`` the first live worker (by name) asks the manager to restart a dead
  one, through the multiplexer (``app.m.restart``), at most once per ``RESTART_BACKOFF_S`` for
  each worker name, and logs it at ERROR.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from typing import Any

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

logger = logging.getLogger("sanic_auth_sessions")

ALIVE_STATE = "ACKED"  # Sanic's worker states; a live worker has started and acknowledged
DEAD_STATES = ("FAILED", "COMPLETED")  # exited on its own: killed, crashed, or stopped alone
WATCH_INTERVAL_S = 1.0
RESTART_BACKOFF_S = 10.0
DRAIN_POLL_S = 0.05
# Shutdown listeners run in reverse order, the lowest priority first: drain before the rest.
FIRST_AT_SHUTDOWN = -1000
MANAGER_ERRORS = (OSError, EOFError)  # the manager's shared state went away
STATE_READS = 3  # attempts at reading the workers' states while the manager changes them

Check = dict[str, Any]


class ServerHealth:
    """Readiness and worker liveness of one worker; ``install_server_health`` builds it."""

    def __init__(self, app: Sanic[Any, Any]) -> None:
        self.app = app
        self.draining = False
        # Weak: a request that ends without a response (its client gone) is not kept alive.
        self._in_flight: weakref.WeakSet[Request] = weakref.WeakSet()
        self._restart_asked_at: dict[str, float] = {}
        self._watcher: asyncio.Task[None] | None = None

    def checks(self) -> dict[str, Check]:
        """The ``server`` check and, under Sanic's worker manager, the ``workers`` check."""
        server = (
            {"status": "unhealthy", "state": "draining"}
            if self.draining
            else {"status": "healthy", "state": "serving"}
        )
        checks: dict[str, Check] = {"server": server}
        states = self._worker_states()
        if states is not None:
            checks["workers"] = _workers_check(states)
        return checks

    def replace_dead_workers(self) -> list[str]:
        """Ask the manager to restart dead workers, if this worker is the first live one."""
        states = self._worker_states()
        if not states:  # single process, or the manager is gone
            return []
        servers = sorted(name for name, state in states.items() if state.get("server"))
        alive = [name for name in servers if states[name].get("state") == ALIVE_STATE]
        if not alive or alive[0] != self.app.m.name:
            return []
        now = time.monotonic()
        asked = []
        for name in servers:
            state = states[name]
            if state.get("state") not in DEAD_STATES:
                continue
            if now - self._restart_asked_at.get(name, -RESTART_BACKOFF_S) < RESTART_BACKOFF_S:
                continue
            self._restart_asked_at[name] = now
            logger.error(
                "Worker %s (pid %s) is dead (%s); asking Sanic's worker manager to replace it.",
                name,
                state.get("pid"),
                state.get("state"),
            )
            self.app.m.restart(name)
            asked.append(name)
        return asked

    async def start_watching(self, app: Sanic[Any, Any]) -> None:
        """``after_server_start``: watch the other workers, under Sanic's worker manager."""
        if getattr(app, "multiplexer", None) is not None:
            self._watcher = asyncio.create_task(self.watch_workers())

    async def watch_workers(self) -> None:
        while True:
            await asyncio.sleep(WATCH_INTERVAL_S)
            try:
                self.replace_dead_workers()
            except MANAGER_ERRORS as exc:  # the main process is gone: nobody to ask
                logger.error("Sanic's worker manager did not answer: %r", exc)
                return

    async def request_started(self, request: Request) -> None:
        self._in_flight.add(request)

    async def request_finished(self, request: Request, response: BaseHTTPResponse) -> None:
        self._in_flight.discard(request)

    async def drain(self, app: Sanic[Any, Any]) -> None:
        """``before_server_stop``: answer 503 on ``/health``, wait for the requests in flight."""
        self.draining = True
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        config = app.config
        graceful_s = float(config.GRACEFUL_SHUTDOWN_TIMEOUT)
        started = time.monotonic()
        while time.monotonic() - started < graceful_s:
            if not self._busy():
                break
            await asyncio.sleep(DRAIN_POLL_S)
        config.GRACEFUL_SHUTDOWN_TIMEOUT = max(0.0, graceful_s - (time.monotonic() - started))

    def _busy(self) -> bool:
        # A request whose connection is closing is over, whether or not it was answered.
        return any(
            request.stream is not None and not request.transport.is_closing()
            for request in list(self._in_flight)
        )

    def _worker_states(self) -> dict[str, Check] | None:
        """Sanic's shared worker states, ``{}`` when the manager does not answer, else None."""
        multiplexer = getattr(self.app, "multiplexer", None)
        if multiplexer is None:
            return None
        for _ in range(STATE_READS):
            try:
                return {name: dict(state) for name, state in multiplexer.workers.items()}
            except KeyError:
                # A worker's entry went between the listing of the names and its reading (the
                # manager stopping or replacing that worker meanwhile): read them again.
                continue
            except MANAGER_ERRORS as exc:
                logger.error("Sanic's worker manager did not answer: %r", exc)
                return {}
        logger.error("Sanic's worker states kept changing while being read")
        return {}


def _workers_check(states: dict[str, Check]) -> Check:
    servers = [state for state in states.values() if state.get("server")]
    alive = sum(1 for state in servers if state.get("state") == ALIVE_STATE)
    healthy = bool(servers) and alive == len(servers)
    return {
        "status": "healthy" if healthy else "unhealthy",
        "workers_alive": alive,
        "workers_expected": len(servers),
    }


def install_server_health(app: Sanic[Any, Any]) -> ServerHealth:
    """Create ``app.ctx.auth_server_health`` and the middleware and listeners it needs."""
    health = ServerHealth(app)
    app.ctx.auth_server_health = health
    app.register_middleware(health.request_started, "request")
    app.register_middleware(health.request_finished, "response")
    app.register_listener(health.start_watching, "after_server_start")
    app.register_listener(health.drain, "before_server_stop", priority=FIRST_AT_SHUTDOWN)
    return health
