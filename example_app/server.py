"""Run with ``sanic example_app.server:app`` or ``python -m example_app``."""

from __future__ import annotations

import os

from sanic import Request, Sanic, json
from sanic.response import HTTPResponse

from sanic_auth_sessions import AuthSessions, current_auth, require_auth


def create_app() -> Sanic:
    app = Sanic("example_app")
    env = os.environ
    app.config.update(
        AUTH_ENVIRONMENT=env.get("ENVIRONMENT", "development"),
        AUTH_SECRET_KEY=env.get("AUTH_SECRET_KEY"),
        AUTH_DATABASE_URL=env.get("DATABASE_URL", "sqlite://example_app.sqlite3"),
        AUTH_GENERATE_SCHEMAS=True,
        AUTH_FIRST_SUPERUSER_EMAIL=env.get("FIRST_SUPERUSER_EMAIL"),
        AUTH_FIRST_SUPERUSER_PASSWORD=env.get("FIRST_SUPERUSER_PASSWORD"),
        AUTH_RATE_LIMIT_ENABLED=env.get("RATE_LIMIT_ENABLED", "true"),
        AUTH_RATE_LIMIT_STORAGE_URL=env.get("RATE_LIMIT_STORAGE_URL", "memory://"),
        AUTH_CSP_MODE=env.get("CSP_MODE", "strict"),
        AUTH_CORS_ORIGINS=env.get("BACKEND_CORS_ORIGINS", "[]"),
    )
    app.extend(extensions=[AuthSessions()])

    @app.get("/api/v1/hello")
    @require_auth
    async def hello(request: Request) -> HTTPResponse:
        """A host route protected by the extension's guard."""
        user = current_auth(request).user
        return json({"message": f"Hello, {user.first_name or user.email}!"})

    return app


app = create_app()
