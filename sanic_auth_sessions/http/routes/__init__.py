"""Thin blueprints: validate the request, call the manager, shape the response."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint
from sanic.mixins.routes import RouteWrapper


class AuthBlueprint(Blueprint):
    """A blueprint whose routes declare the error format they answer in: JSON.

    Without ``error_format``, Sanic reads each handler's source and parses it to guess the
    format (about 3 ms a route, a quarter of a second for each app built). The extension's
    errors are JSON whatever the guess: its error handler answers every error on its paths.
    """

    def route(self, *args: Any, error_format: str | None = None, **kwargs: Any) -> RouteWrapper:
        wrapper: RouteWrapper = super().route(*args, error_format=error_format or "json", **kwargs)
        return wrapper
