"""Ceilings: bare Sanic + Tortoise handlers, no auth, on the example app's tables.

``GET /users/<id>`` (one primary-key read) is the ceiling of ``GET /users/me``;
``POST /sessions/<id>/touch`` (one primary-key UPDATE) that of ``POST /auth/refresh``.

It reads the same ``auth_users`` row from the same database with the same Tortoise set-up and
the same logging as the example app, and answers with the same fields, so the difference is
what the extension adds per request (JWT decode, session check, middleware).
Run: ``DATABASE_URL=... PORT=... python -m bench.ceiling_app``.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from sanic import Request, Sanic, json
from sanic.response import HTTPResponse
from tortoise import Tortoise, fields
from tortoise.models import Model

from sanic_auth_sessions import logging_config


class CeilingUser(Model):
    id = fields.UUIDField(primary_key=True)
    email = fields.CharField(max_length=254)
    first_name = fields.CharField(max_length=100)
    last_name = fields.CharField(max_length=100)
    is_active = fields.BooleanField()
    is_superuser = fields.BooleanField()
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "auth_users"
        app = "ceiling"


class CeilingSession(Model):
    id = fields.UUIDField(primary_key=True)
    last_used_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "auth_sessions"
        app = "ceiling"


def create_app() -> Sanic[Any, Any]:
    environment = os.environ.get("ENVIRONMENT", "development")
    app = Sanic("bench_ceiling", log_config=logging_config(json_lines=environment == "production"))
    database_url = os.environ["DATABASE_URL"]

    @app.before_server_start
    async def connect(app: Sanic[Any, Any]) -> None:
        await Tortoise.init(
            config={
                "connections": {"default": database_url},
                "apps": {"ceiling": {"models": [__name__], "default_connection": "default"}},
                "use_tz": True,
            },
            _enable_global_fallback=True,
        )

    @app.after_server_stop
    async def disconnect(app: Sanic[Any, Any]) -> None:
        await Tortoise.close_connections()

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        return json({"status": "healthy"})

    @app.get("/users/<user_id:uuid>")
    async def read_user(request: Request, user_id: UUID) -> HTTPResponse:
        user = await CeilingUser.get(id=user_id)
        return json(
            {
                "id": str(user.id),
                "email": user.email,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "is_active": user.is_active,
                "is_superuser": user.is_superuser,
                "created_at": user.created_at.isoformat(),
                "updated_at": user.updated_at.isoformat(),
            }
        )

    @app.post("/sessions/<session_id:uuid>/touch")
    async def touch_session(request: Request, session_id: UUID) -> HTTPResponse:
        """The refresh ceiling: one primary-key UPDATE of a session row (a commit)."""
        now = datetime.now(timezone.utc)
        found = await CeilingSession.filter(id=session_id).update(last_used_at=now, updated_at=now)
        return json({"updated": found}, status=200 if found else 404)

    return app


app = create_app() if os.environ.get("DATABASE_URL") else None

if __name__ == "__main__":
    assert app is not None, "set DATABASE_URL"
    workers = int(os.environ.get("WORKERS", "1"))
    app.run(
        host="127.0.0.1",
        port=int(os.environ.get("PORT", "8001")),
        single_process=workers == 1,
        workers=workers,
    )
