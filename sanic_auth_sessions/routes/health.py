from __future__ import annotations

import logging
from datetime import datetime, timezone

from sanic import Blueprint, HTTPResponse, Request, json

from .._version import __version__
from ..database import ping
from ..openapi import HealthOut, RouteDocs

logger = logging.getLogger("sanic_auth_sessions")
doc = RouteDocs("Health", auth="public")


def create_health_blueprint(path: str) -> Blueprint:
    bp = Blueprint("auth_sessions_health")

    @bp.get(path)
    @doc(
        "Health check",
        ok=(200, HealthOut),
        responses={503: (HealthOut, "The database does not answer: `status` is unhealthy.")},
    )
    async def health(request: Request) -> HTTPResponse:
        """Liveness and database check: 200 healthy, 503 when the database does not answer."""
        try:
            latency_ms = await ping()
            database = {"status": "healthy", "latency_ms": round(latency_ms, 2)}
        except Exception as exc:  # any failure of the check means unhealthy, never a 500
            logger.error("Health check: database unavailable: %r", exc)
            database = {"status": "unhealthy", "error": "The database did not answer."}
        healthy = database["status"] == "healthy"
        return json(
            {
                "status": "healthy" if healthy else "unhealthy",
                "version": __version__,
                "environment": request.app.ctx.auth_settings.environment,
                "timestamp": datetime.now(timezone.utc).isoformat(),
                "checks": {"database": database},
            },
            status=200 if healthy else 503,
        )

    return bp
