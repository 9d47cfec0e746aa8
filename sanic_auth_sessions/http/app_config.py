"""The host app's ``app.config`` and the settings read from it."""

from __future__ import annotations

from typing import Any

from sanic import Sanic

from sanic_auth_sessions.core.config import AuthSettings, fallback_config


def add_fallback_config(app: Sanic[Any, Any]) -> None:
    """Add each ``AUTH_*`` default where the host has not set the key: the host always wins."""
    for key, value in fallback_config().items():
        if key not in app.config:
            app.config[key] = value


def settings_from_app(app: Sanic[Any, Any]) -> AuthSettings:
    """The settings of ``app``: its ``AUTH_*`` keys (and the defaults it now shows), checked."""
    add_fallback_config(app)
    return AuthSettings.from_config(app.config)
