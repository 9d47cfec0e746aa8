"""CORS through sanic-ext: our settings become its ``CORS_*`` keys, where the host set none.

Call ``configure_cors`` before sanic-ext's HTTP extension starts (it freezes the ``CORS_*``
keys into ``app.ctx.cors``): the AuthSessions extension is listed before the built-in ones, so
its ``startup`` runs first.
"""

from __future__ import annotations

import inspect
from typing import Any

from sanic import Sanic
from sanic_ext.config import Config as ExtConfig

from sanic_auth_sessions.core.config import AuthSettings, ConfigurationError

ALLOWED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
ALLOWED_HEADERS = ("Authorization", "Content-Type", "X-Device-Id", "X-Request-ID")
COOKIE_HEADERS = ("X-CSRF-Token", "X-Auth-Transport")  # with AUTH_TRANSPORT cookie or both
EXPOSED_HEADERS = (
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-Request-ID",
)
PREFLIGHT_MAX_AGE_S = 10 * 60  # browsers cap it anyway: Chromium at 2 hours, Firefox at 1 day


def cors_config(settings: AuthSettings) -> dict[str, Any]:
    """sanic-ext's ``CORS_*`` keys for ``settings``; no origins means no CORS headers at all."""
    origins = list(settings.cors_origins)
    headers = ALLOWED_HEADERS + (COOKIE_HEADERS if settings.uses_cookies else ())
    return {
        "CORS_ORIGINS": origins,
        "CORS_METHODS": ",".join(ALLOWED_METHODS),
        "CORS_ALLOW_HEADERS": ",".join(headers),
        "CORS_EXPOSE_HEADERS": ",".join(EXPOSED_HEADERS),
        "CORS_SUPPORTS_CREDENTIALS": bool(origins),
        "CORS_MAX_AGE": PREFLIGHT_MAX_AGE_S,
        # sanic-ext would otherwise answer requests without an Origin with an allow-origin.
        "CORS_ALWAYS_SEND": False,
        "CORS_SEND_WILDCARD": False,
    }


def configure_cors(app: Sanic[Any, Any], settings: AuthSettings) -> None:
    """Set sanic-ext's CORS keys from ``settings`` wherever the host has not set its own.

    ``Extend`` adds its defaults to ``app.config`` before any extension starts, so a key that
    still holds sanic-ext's default counts as not set by the host.
    """
    if any("*" in origin for origin in settings.cors_origins):
        # A wildcard with credentials is refused by browsers, and by sanic-ext at start.
        raise ConfigurationError("AUTH_CORS_ORIGINS must list explicit origins, not '*'.")
    defaults = _ext_defaults()
    ext_config = getattr(getattr(app, "_ext", None), "config", None)
    for key, value in cors_config(settings).items():
        if key in app.config and app.config[key] != defaults.get(key):
            continue
        app.config[key] = value
        if ext_config is not None:
            ext_config[key] = value


def _ext_defaults() -> dict[str, Any]:
    parameters = inspect.signature(ExtConfig.__init__).parameters
    return {
        name.upper(): parameter.default
        for name, parameter in parameters.items()
        if name.startswith("cors_")
    }
