"""Security events and the request they belong to.

A request middleware (``http/middleware/request_context.py``) records the request id
(``X-Request-ID``, or a new one) and the client IP in a context variable, so the services can
attach them to events without knowing HTTP. Events are logged on ``sanic_auth_sessions.audit``
and passed to ``UserManager.on_audit_event``. Tokens, passwords and hashes never go into an event.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

audit_logger = logging.getLogger("sanic_auth_sessions.audit")

# ``audit(name, *, user_id=None, session_id=None, **data)``, e.g. ``UserManager.audit``.
AuditCallback = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    ip_address: str | None


current_request: ContextVar[RequestContext | None] = ContextVar(
    "sanic_auth_sessions_request", default=None
)


@dataclass(frozen=True)
class AuditEvent:
    name: str
    user_id: str | None = None
    session_id: str | None = None
    ip_address: str | None = None
    request_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def as_log_extra(self) -> dict[str, Any]:
        return {
            "event": self.name,
            "user_id": self.user_id,
            "session_id": self.session_id,
            "ip_address": self.ip_address,
            "request_id": self.request_id,
            **{f"data_{key}": value for key, value in self.data.items()},
        }


def new_event(
    name: str, *, user_id: object = None, session_id: object = None, **data: Any
) -> AuditEvent:
    context = current_request.get()
    return AuditEvent(
        name=name,
        user_id=str(user_id) if user_id is not None else None,
        session_id=str(session_id) if session_id is not None else None,
        ip_address=context.ip_address if context else None,
        request_id=context.request_id if context else None,
        data={key: str(value) if isinstance(value, UUID) else value for key, value in data.items()},
    )


def log_event(event: AuditEvent) -> None:
    audit_logger.info("audit %s", event.name, extra=event.as_log_extra())


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every log record made while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            context = current_request.get()
            record.request_id = context.request_id if context else None
        return True
