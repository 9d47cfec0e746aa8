"""Deleting what no one needs any more: old sessions, spent reset tokens and security events
older than ``AUTH_AUDIT_RETENTION_S``.

Every worker of every host runs the job, but only one cleans up at a time: each batch is a
transaction that first takes a PostgreSQL advisory lock with ``pg_try_advisory_xact_lock``,
and a runner that finds it taken ends its round at once, leaving the work to the runner that
holds it. Nobody waits for a lock, and no transaction deletes more than ``batch_size`` rows,
so requests touching the same tables never queue behind a long delete. The lock is taken per
transaction, never per session, which keeps it right behind a pooler in transaction mode. On
SQLite there is no lock: one process writes at a time anyway.

Rounds are spread out in time with jitter, so the workers of many hosts started together do
not all wake at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from tortoise.expressions import Q, Subquery
from tortoise.models import Model
from tortoise.queryset import QuerySet

from sanic_auth_sessions.core.config import DEFAULTS
from sanic_auth_sessions.core.models import (
    EmailToken,
    MfaChallenge,
    OAuthState,
    PasswordResetToken,
    SecurityEvent,
    UserSession,
    WebAuthnChallenge,
)
from sanic_auth_sessions.db.connection import transaction, try_transaction_lock

logger = logging.getLogger("sanic_auth_sessions")

LOCK_NAME = "cleanup"
DEFAULT_BATCH_SIZE = 5000
JITTER = 0.1  # each wait is the interval ± 10 %
DEFAULT_AUDIT_RETENTION_S: int = DEFAULTS["AUDIT_RETENTION_S"]

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class CleanupResult:
    sessions_deleted: int
    reset_tokens_deleted: int
    security_events_deleted: int = 0
    # True when another runner held the lock: this one stopped (after what it counts).
    skipped: bool = False


async def _delete_batch(model: type[M], stale: QuerySet[M], batch_size: int) -> int | None:
    """Delete up to ``batch_size`` rows of ``stale`` in one transaction, under the cleanup lock;
    None (nothing deleted) when another runner holds the lock."""
    async with transaction() as db:
        if not await try_transaction_lock(db, LOCK_NAME):
            return None
        batch = Subquery(stale.limit(batch_size).values("id"))
        deleted: int = await model.filter(id__in=batch).using_db(db).delete()
        return deleted


async def _delete_all(model: type[M], stale: QuerySet[M], batch_size: int) -> tuple[int, bool]:
    """Batches until one comes back short; returns (rows deleted, whether the lock was lost)."""
    total = 0
    while True:
        deleted = await _delete_batch(model, stale, batch_size)
        if deleted is None:
            return total, True
        total += deleted
        if deleted < batch_size:
            return total, False


async def delete_stale_rows(
    audit_window_s: int,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    now: datetime | None = None,
    audit_retention_s: int = DEFAULT_AUDIT_RETENTION_S,
) -> CleanupResult:
    """One round: delete sessions revoked or expired more than ``audit_window_s`` ago, then
    reset tokens that are used or expired, then security events older than
    ``audit_retention_s``, ``batch_size`` rows per transaction. Active, unexpired sessions are
    never touched. ``skipped`` when another runner is cleaning up."""
    now = now or datetime.now(timezone.utc)
    horizon = now - timedelta(seconds=audit_window_s)
    sessions = UserSession.filter(
        Q(expires_at__lt=horizon) | Q(is_active=False, updated_at__lt=horizon)
    )
    sessions_deleted, skipped = await _delete_all(UserSession, sessions, batch_size)
    if skipped:
        return CleanupResult(sessions_deleted, 0, skipped=True)
    tokens = PasswordResetToken.filter(Q(expires_at__lt=now) | Q(used_at__isnull=False))
    tokens_deleted, skipped = await _delete_all(PasswordResetToken, tokens, batch_size)
    if skipped:
        return CleanupResult(sessions_deleted, tokens_deleted, skipped=True)
    # Spent or expired email tokens, pending second login steps and passkey challenges go the
    # same way (not counted above).
    spent: tuple[tuple[type[Model], QuerySet[Any]], ...] = (
        (EmailToken, EmailToken.filter(Q(expires_at__lt=now) | Q(used_at__isnull=False))),
        (MfaChallenge, MfaChallenge.filter(Q(expires_at__lt=now) | Q(spent_at__isnull=False))),
        (OAuthState, OAuthState.filter(Q(expires_at__lt=now) | Q(used_at__isnull=False))),
        (
            WebAuthnChallenge,
            WebAuthnChallenge.filter(Q(expires_at__lt=now) | Q(used_at__isnull=False)),
        ),
    )
    for model, stale in spent:
        _, skipped = await _delete_all(model, stale, batch_size)
        if skipped:
            return CleanupResult(sessions_deleted, tokens_deleted, skipped=True)
    events = SecurityEvent.filter(created_at__lt=now - timedelta(seconds=audit_retention_s))
    events_deleted, skipped = await _delete_all(SecurityEvent, events, batch_size)
    return CleanupResult(sessions_deleted, tokens_deleted, events_deleted, skipped=skipped)


def next_delay(interval_s: float) -> float:
    """The wait before the next round: ``interval_s`` give or take ``JITTER``."""
    return interval_s * random.uniform(1 - JITTER, 1 + JITTER)


async def run_periodically(
    interval_s: int,
    audit_window_s: int,
    batch_size: int = DEFAULT_BATCH_SIZE,
    audit_retention_s: int = DEFAULT_AUDIT_RETENTION_S,
) -> None:
    """The background job: a round every ``interval_s`` seconds (with jitter) until cancelled."""
    while True:
        await asyncio.sleep(next_delay(interval_s))
        try:
            result = await delete_stale_rows(
                audit_window_s, batch_size=batch_size, audit_retention_s=audit_retention_s
            )
        except Exception as exc:  # a failed round must not end the job; the next one retries
            logger.error("Session cleanup failed: %r", exc)
            continue
        if result.sessions_deleted or result.reset_tokens_deleted or result.security_events_deleted:
            logger.info(
                "Cleanup deleted %d sessions, %d reset tokens and %d security events",
                result.sessions_deleted,
                result.reset_tokens_deleted,
                result.security_events_deleted,
            )
        if result.skipped:
            logger.debug("Cleanup: another worker or host is cleaning up; this round stops")
