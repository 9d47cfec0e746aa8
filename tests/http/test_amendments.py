"""sanic-ext's start-time HEAD and OPTIONS routes cost one signal-router finalisation, not one
per route, and the app still answers HEAD, OPTIONS and the host's own signals."""

from __future__ import annotations

import asyncio
from typing import Any

from sanic import Sanic

from ..conftest import RecordingMailer, build_app, start_app, stop_app

#: Sanic's own finalisation at start, and ours after sanic-ext's listeners.
FINALISATIONS_AT_START = 2


def with_automatic_routes(app: Sanic[Any, Any]) -> None:
    """The defaults (the test apps turn them off elsewhere)."""
    app.config.HTTP_AUTO_HEAD = True
    app.config.HTTP_AUTO_OPTIONS = True
    app.config.CORS_AUTOMATIC_OPTIONS = True


async def test_automatic_routes_finalise_the_signal_router_once(tmp_path: Any) -> None:
    mailer = RecordingMailer()
    app = build_app(
        f"sqlite://{tmp_path / 'db.sqlite3'}", mailer=mailer, setup=with_automatic_routes
    )
    heard = asyncio.Event()

    @app.signal("host.custom.event")
    async def on_custom_event() -> None:
        heard.set()

    finalisations = 0
    finalise = app.signal_router.finalize

    def counting_finalise(*args: Any, **kwargs: Any) -> Any:
        nonlocal finalisations
        finalisations += 1
        return finalise(*args, **kwargs)

    app.signal_router.finalize = counting_finalise  # type: ignore[method-assign]
    app.state.is_started = True  # as under Sanic's server runner: additions are amendments
    running, server = await start_app(app, mailer)
    try:
        assert finalisations == FINALISATIONS_AT_START
        head = await running.client.head("/health")
        assert head.status_code == 200
        options = await running.client.options(running.url("/users/me"))
        assert options.status_code == 204
        assert "GET" in options.headers["allow"] and "PATCH" in options.headers["allow"]
        await app.dispatch("host.custom.event")
        await asyncio.wait_for(heard.wait(), 5)
    finally:
        await stop_app(running, server)
