from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from sanic import Blueprint, HTTPResponse, Request, json

from sanic_auth_sessions._version import __version__
from sanic_auth_sessions.db.connection import ping
from sanic_auth_sessions.http.openapi import route_docs
from sanic_auth_sessions.http.responses import HealthResponse
from sanic_auth_sessions.http.routes import AuthBlueprint
from sanic_auth_sessions.http.runtime import auth_runtime
from sanic_auth_sessions.http.server_health import ServerHealth

logger = logging.getLogger("sanic_auth_sessions")
doc = route_docs("Health", auth="public")


def create_health_blueprint(path: str) -> Blueprint:
    bp = AuthBlueprint("auth_sessions_health")

    @bp.get(path)
    @doc(
        "Health check",
        operation_id="health_check",
        ok=(200, HealthResponse),
        responses={
            503: (
                HealthResponse,
                "`status` is unhealthy: the database does not answer, fewer workers are alive "
                "than expected, or the server is shutting down (draining).",
            )
        },
    )
    async def health(request: Request) -> HTTPResponse:
        """Database, workers and readiness: 200 healthy, 503 when any check is unhealthy."""
        try:
            latency_ms = await ping()
            database = {"status": "healthy", "latency_ms": round(latency_ms, 2)}
        except Exception as exc:  # any failure of the check means unhealthy, never a 500
            logger.error("Health check: database unavailable: %r", exc)
            database = {"status": "unhealthy", "error": "The database did not answer."}
        checks: dict[str, dict[str, Any]] = {"database": database}
        server_health: ServerHealth = request.app.ctx.auth_server_health
        checks.update(server_health.checks())
        healthy = all(check["status"] == "healthy" for check in checks.values())
        body = HealthResponse.model_validate(
            {
                "status": "healthy" if healthy else "unhealthy",
                "version": __version__,
                "environment": auth_runtime(request).settings.environment,
                "timestamp": datetime.now(timezone.utc),
                "checks": checks,
            }
        )
        return json(body.body(), status=200 if healthy else 503)

    return bp
