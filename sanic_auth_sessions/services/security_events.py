"""Stored security events: writing one per audit event, and the two lists that read them.

``UserManager.audit`` stores every event but ``token.refreshed`` (one ``INSERT``, only when an
event happens: nothing on the authenticated path of an ordinary request). The row takes the
request's IP, User-Agent (cleaned as stored headers are) and device name from the request
context, the account and actor from :func:`~sanic_auth_sessions.core.audit.subject_and_actor`,
and ``data`` without any key that could hold a secret.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from tortoise.expressions import Q

from sanic_auth_sessions.core.audit import (
    NOT_STORED,
    USER_VISIBLE_TYPES,
    AuditEvent,
    current_request,
    stored_data,
    subject_and_actor,
)
from sanic_auth_sessions.core.devices import (
    MAX_DEVICE_ID_CHARS,
    MAX_DEVICE_NAME_CHARS,
    MAX_USER_AGENT_CHARS,
    UNKNOWN_DEVICE,
    device_name,
    storable_text,
)
from sanic_auth_sessions.core.models import SecurityEvent, User
from sanic_auth_sessions.db.pagination import (
    CursorSigner,
    Keyset,
    KeysetPageQuery,
    Page,
    paginate_keyset,
)

MY_EVENTS_ORDER = Keyset("me.security_events", ("created_at", "id"), descending=True)
ALL_EVENTS_ORDER = Keyset("admin.audit_events", ("created_at", "id"), descending=True)


def should_store(event: AuditEvent) -> bool:
    return event.name not in NOT_STORED


def row_of(event: AuditEvent) -> SecurityEvent:
    """The (unsaved) row of ``event``."""
    context = current_request.get()
    user_agent = storable_text(context.user_agent, MAX_USER_AGENT_CHARS) if context else None
    device_id = storable_text(context.device_id, MAX_DEVICE_ID_CHARS) if context else None
    name = None
    if context is not None:
        name = storable_text(device_name(user_agent or ""), MAX_DEVICE_NAME_CHARS)
        name = name or UNKNOWN_DEVICE
    user_id, actor_id = subject_and_actor(event)
    return SecurityEvent(
        type=event.name,
        created_at=event.at,
        user_id=user_id,
        actor_id=actor_id,
        ip_address=event.ip_address,
        user_agent=user_agent,
        device_name=name,
        device_id=device_id,
        session_id=event.session_id,
        data=stored_data(event.data),
    )


async def store(event: AuditEvent) -> None:
    await row_of(event).save(force_create=True)


async def list_for_user(
    user_id: UUID, params: KeysetPageQuery, types: Iterable[str] | None, signer: CursorSigner
) -> Page[SecurityEvent]:
    """The user's own events of the user-visible types (or of ``types``), newest first."""
    query = SecurityEvent.filter(user_id=user_id, type__in=list(types or USER_VISIBLE_TYPES))
    return await paginate_keyset(query, params, keyset=MY_EVENTS_ORDER, signer=signer)


async def list_all(
    params: KeysetPageQuery,
    signer: CursorSigner,
    *,
    user_id: UUID | None = None,
    types: Iterable[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page[SecurityEvent]:
    """Every stored event, newest first; ``user_id`` matches the account or the actor."""
    query = SecurityEvent.all()
    if user_id is not None:
        query = query.filter(Q(user_id=user_id) | Q(actor_id=user_id))
    if types:
        query = query.filter(type__in=list(types))
    if since is not None:
        query = query.filter(created_at__gte=since)
    if until is not None:
        query = query.filter(created_at__lt=until)
    return await paginate_keyset(query, params, keyset=ALL_EVENTS_ORDER, signer=signer)


async def emails_of(user_ids: Iterable[UUID | str | None]) -> dict[str, str]:
    """The emails of the accounts that still exist, by id (one query)."""
    ids = {str(user_id) for user_id in user_ids if user_id is not None}
    if not ids:
        return {}
    rows = await User.filter(id__in=list(ids)).values_list("id", "email")
    return {str(user_id): email for user_id, email in rows}
