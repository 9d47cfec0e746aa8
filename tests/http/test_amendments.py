"""sanic-ext's start-time HEAD and OPTIONS routes cost one signal-router finalisation, not one
per route, and the app still answers HEAD, OPTIONS and the host's own signals."""

from __future__ import annotations

import asyncio
import typing
from typing import Any

import pytest
from sanic import Sanic

from ..conftest import RecordingMailer, build_app, start_app, stop_app

#: Sanic's own finalisation at start, and ours after sanic-ext's listeners.
FINALISATIONS_AT_START = 2
#: Sanic's own, when sanic-ext adds no route at start.
FINALISATIONS_WITHOUT_AUTOMATIC_ROUTES = 1


def with_automatic_routes(app: Sanic[Any, Any]) -> None:
    """The defaults (the test apps turn them off elsewhere)."""
    app.config.HTTP_AUTO_HEAD = True
    app.config.HTTP_AUTO_OPTIONS = True
    app.config.CORS_AUTOMATIC_OPTIONS = True


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (with_automatic_routes, FINALISATIONS_AT_START),
        (None, FINALISATIONS_WITHOUT_AUTOMATIC_ROUTES),
    ],
    ids=["automatic-routes", "none"],
)
async def test_automatic_routes_finalise_the_signal_router_once(
    tmp_path: Any, setup: Any, expected: int
) -> None:
    mailer = RecordingMailer()
    app = build_app(f"sqlite://{tmp_path / 'db.sqlite3'}", mailer=mailer, setup=setup)
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
        assert finalisations == expected
        head = await running.client.head("/health")
        options = await running.client.options(running.url("/users/me"))
        if setup is None:
            assert (head.status_code, options.status_code) == (405, 405)
        else:
            assert head.status_code == 200
            assert options.status_code == 204
            assert "GET" in options.headers["allow"] and "PATCH" in options.headers["allow"]
        await app.dispatch("host.custom.event")
        await asyncio.wait_for(heard.wait(), 5)
    finally:
        await stop_app(running, server)


def test_definitions_read_each_class_hints_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """sanic-ext reads a definition class's type hints through ``types.get_type_hints``, once
    for each field (this test fails when it no longer does); with the amendment, once per class,
    each caller getting its own copy, and the definitions are built as before."""
    from sanic_ext.extensions.openapi import types as openapi_types
    from sanic_ext.extensions.openapi.definitions import Response
    from sanic_ext.extensions.openapi.types import Schema

    from sanic_auth_sessions.http.amendments import read_definition_hints_once

    reads: list[Any] = []

    def counting(obj: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        reads.append(obj)
        return typing.get_type_hints(obj, *args, **kwargs)

    def build() -> list[Any]:
        return [
            Schema(type="string", format="email", nullable=True).serialize(),
            Response.make({"application/json": {"type": "object"}}, "OK.").serialize(),
        ]

    monkeypatch.setattr(openapi_types, "get_type_hints", counting)
    before = build()
    assert reads.count(Schema) > 1  # once per field given, without the amendment
    reads.clear()

    read_definition_hints_once()
    read_definition_hints_once()  # a second app: still one wrapper
    assert build() == before
    assert build() == before
    assert reads.count(Schema) == 1
    assert reads.count(Response) == 1
    hints = openapi_types.get_type_hints(Schema)
    hints.clear()  # a caller's change stays its own
    assert openapi_types.get_type_hints(Schema) == typing.get_type_hints(Schema)
    assert reads.count(Schema) == 1
    # Other calls are passed on: with options, or of what cannot be weakly referred to.
    extras = openapi_types.get_type_hints(Schema, include_extras=True)
    assert extras == typing.get_type_hints(Schema, include_extras=True)
    assert openapi_types.get_type_hints(len) == {}
    assert (reads.count(Schema), reads.count(len)) == (2, 1)
