"""Two costs of every app start that Sanic and sanic-ext repeat, each paid once here.

**One signal-router finalisation for sanic-ext's start-time routes, not one per route.**
At ``before_server_start`` sanic-ext adds a HEAD and an OPTIONS route beside every route
(``HTTP_AUTO_HEAD``, ``HTTP_AUTO_OPTIONS``, both on by default). The app has started by then,
so Sanic's ``amend()`` takes each addition as a change to a running app: it resets the signal
router and finalises it again, once per added route. With the extension's 80 routes that was
about 1.4 s of every worker's start. Here the signal router is reset once before sanic-ext's
listeners run and finalised once after them, as ``amend()`` would have left it. An app that
turns the three automatic routes off gets none, and keeps Sanic's one finalisation.

**The type hints of sanic-ext's OpenAPI definition classes, read once per class.** Each
definition sanic-ext builds (a response, a schema, a parameter: about 240 for the extension's
routes) reads its class's type hints again for each of its fields
(``sanic_ext.extensions.openapi.types._properties``): about half of building an app with its
OpenAPI document. A class's hints do not change; :func:`read_definition_hints_once` keeps them.
``tests/http/test_amendments.py`` fails if sanic-ext no longer reads them that way.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import Any

from sanic import Sanic
from sanic_ext.config import PRIORITY as SANIC_EXT_PRIORITY
from sanic_ext.extensions.openapi import types as openapi_types

#: sanic-ext's settings for its start-time routes (its own defaults are in the app's config).
AUTOMATIC_ROUTES = ("HTTP_AUTO_HEAD", "HTTP_AUTO_OPTIONS", "HTTP_AUTO_TRACE")


def finalise_signals_once(app: Sanic[Any, Any]) -> None:
    """Bracket sanic-ext's start-time listeners (which run at its priority) with one reset
    and one finalisation of the signal router."""
    reset_by_us = False

    def hold_signal_router(app: Sanic[Any, Any]) -> None:
        nonlocal reset_by_us
        adds_routes = any(app.config.get(key) for key in AUTOMATIC_ROUTES)
        reset_by_us = adds_routes and app.signal_router.finalized
        if reset_by_us:
            app.signal_router.reset()  # type: ignore[no-untyped-call]

    def finalise_signal_router(app: Sanic[Any, Any]) -> None:
        if reset_by_us and not app.signal_router.finalized:
            app.signalize(bool(app.config.TOUCHUP))

    event = "before_server_start"
    app.register_listener(hold_signal_router, event, priority=SANIC_EXT_PRIORITY + 1)
    app.register_listener(finalise_signal_router, event, priority=SANIC_EXT_PRIORITY - 1)


def read_definition_hints_once() -> None:
    """sanic-ext's definitions read each class's type hints once (see the module's notes)."""
    read = openapi_types.get_type_hints  # type: ignore[attr-defined]
    if getattr(read, "reads_once", False):
        return
    hints_of: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()

    @functools.wraps(read)
    def get_type_hints(obj: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if args or kwargs:
            return read(obj, *args, **kwargs)
        try:
            hints = hints_of.get(obj)
        except TypeError:  # neither hashable nor weakly referable: not kept
            return read(obj)
        if hints is None:
            hints = read(obj)
            hints_of[obj] = hints
        return dict(hints)  # the caller's own copy: sanic-ext changes what it gets

    reads_once: Callable[..., dict[str, Any]] = get_type_hints
    reads_once.reads_once = True  # type: ignore[attr-defined]
    openapi_types.get_type_hints = reads_once  # type: ignore[attr-defined]
