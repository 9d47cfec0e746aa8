"""One signal-router finalisation for sanic-ext's start-time routes, not one per route.

At ``before_server_start`` sanic-ext adds a HEAD and an OPTIONS route beside every route
(``HTTP_AUTO_HEAD``, ``HTTP_AUTO_OPTIONS``, both on by default). The app has started by then,
so Sanic's ``amend()`` takes each addition as a change to a running app: it resets the signal
router and finalises it again, once per added route. With the extension's 80 routes that was
about 1.4 s of every worker's start. Here the signal router is reset once before sanic-ext's
listeners run and finalised once after them, as ``amend()`` would have left it.
"""

from __future__ import annotations

from typing import Any

from sanic import Sanic
from sanic_ext.config import PRIORITY as SANIC_EXT_PRIORITY


def finalise_signals_once(app: Sanic[Any, Any]) -> None:
    """Bracket sanic-ext's start-time listeners (which run at its priority) with one reset
    and one finalisation of the signal router."""
    reset_by_us = False

    def hold_signal_router(app: Sanic[Any, Any]) -> None:
        nonlocal reset_by_us
        reset_by_us = app.signal_router.finalized
        if reset_by_us:
            app.signal_router.reset()  # type: ignore[no-untyped-call]

    def finalise_signal_router(app: Sanic[Any, Any]) -> None:
        if reset_by_us and not app.signal_router.finalized:
            app.signalize(bool(app.config.TOUCHUP))

    event = "before_server_start"
    app.register_listener(hold_signal_router, event, priority=SANIC_EXT_PRIORITY + 1)
    app.register_listener(finalise_signal_router, event, priority=SANIC_EXT_PRIORITY - 1)
