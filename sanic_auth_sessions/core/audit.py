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
    # The raw headers, cleaned only when an event is stored (never on the hot path).
    user_agent: str | None = None
    device_id: str | None = None


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


# --- stored events (``auth_security_events``) ----------------------------------------------

# Too frequent to store (one per refresh): logged and passed to the hook only.
NOT_STORED = frozenset({"token.refreshed"})

# The types a user sees of their own events (``GET /users/me/security-events``).
USER_VISIBLE_TYPES: tuple[str, ...] = (
    "login.succeeded",
    "login.new_device",
    "login.failed",
    "account.locked",
    "token.reuse_detected",
    "session.revoked",
    "session.logged_out_all",
    "session.revoked_others",
    "session.evicted",
    "password.changed",
    "password.reset",
    "email.change_requested",
    "email.changed",
    "email.verified",
    "mfa.enabled",
    "mfa.disabled",
    "mfa.recovery_codes_regenerated",
    "mfa.recovery_code_used",
    "passkey.added",
    "passkey.removed",
    "passkey.counter_regression",
    "oauth.linked",
    "oauth.unlinked",
)
# Stored, but only superusers see them (``GET /admin/audit-events``).
ADMIN_ONLY_TYPES: tuple[str, ...] = (
    "user.registered",
    "user.deactivated",
    "user.superuser_created",
    "user.superuser_promoted",
    "session.logged_out",
    "session.reauthenticated",
    "token.refresh_grace",
    "password.check_failed",
    "password.change_failed",
    "password.reset_requested",
    "organization.created",
    "organization.deleted",
    "organization.member_added",
    "organization.role_changed",
    "organization.member_removed",
    "admin.user_created",
    "admin.user_updated",
    "admin.user_activated",
    "admin.user_deactivated",
    "admin.user_deleted",
    "admin.bulk_action",
    "admin.organization_created",
    "admin.session_revoked",
    "admin.mfa_reset",
)
STORED_TYPES: tuple[str, ...] = USER_VISIBLE_TYPES + ADMIN_ONLY_TYPES

# Events made by someone who has not proven who they are: no actor.
ANONYMOUS_EVENTS = frozenset(
    {"login.failed", "account.locked", "token.reuse_detected", "password.reset_requested"}
)
# Made from the command line by the operator, who has no account: no actor.
OPERATOR_EVENTS = frozenset({"user.superuser_created", "user.superuser_promoted"})
# Keys of ``data`` naming the account an action was about, when it is not the actor's.
SUBJECT_KEYS = ("target_user_id", "member_id")
# ``data`` keys never stored, whatever an event (or a host app's) puts there.
SECRET_KEY_PARTS = ("password", "token", "secret", "hash", "code")


def subject_and_actor(event: AuditEvent) -> tuple[str | None, str | None]:
    """``(user_id, actor_id)`` of the stored row: the account the event is about, and who
    acted (the user themselves, a superuser or owner acting on another account, or nobody
    for anonymous requests and the command line)."""
    for key in SUBJECT_KEYS:
        subject = event.data.get(key)
        if subject is not None:
            return str(subject), event.user_id
    if event.name in ANONYMOUS_EVENTS or event.name in OPERATOR_EVENTS:
        return event.user_id, None
    if event.name.startswith("admin."):  # about no single account (bulk, organizations)
        return None, event.user_id
    return event.user_id, event.user_id


def stored_data(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without a key that could hold a password, hash, token, code or secret."""
    return {
        key: value
        for key, value in data.items()
        if not any(part in key.lower() for part in SECRET_KEY_PARTS)
    }


def log_event(event: AuditEvent) -> None:
    audit_logger.info("audit %s", event.name, extra=event.as_log_extra())


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every log record made while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            context = current_request.get()
            record.request_id = context.request_id if context else None
        return True
