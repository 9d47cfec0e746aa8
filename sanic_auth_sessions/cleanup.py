"""Deleting what no one needs any more: old sessions and spent reset tokens.

Deletes are idempotent, so several workers (or a cron job and the workers) may run the job at
the same time: whatever one deletes, the others simply do not find.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from tortoise.expressions import Q

from .models import PasswordResetToken, UserSession

logger = logging.getLogger("sanic_auth_sessions")


@dataclass(frozen=True)
class CleanupResult:
    sessions_deleted: int
    reset_tokens_deleted: int


async def delete_stale_rows(audit_window_s: int, *, now: datetime | None = None) -> CleanupResult:
    """Delete sessions revoked or expired more than ``audit_window_s`` ago, and reset tokens
    that are used or expired. Active, unexpired sessions are never touched."""
    now = now or datetime.now(timezone.utc)
    horizon = now - timedelta(seconds=audit_window_s)
    sessions = await UserSession.filter(
        Q(expires_at__lt=horizon) | Q(is_active=False, updated_at__lt=horizon)
    ).delete()
    tokens = await PasswordResetToken.filter(
        Q(expires_at__lt=now) | Q(used_at__isnull=False)
    ).delete()
    return CleanupResult(sessions_deleted=sessions, reset_tokens_deleted=tokens)


async def run_periodically(interval_s: int, audit_window_s: int) -> None:
    """The background job: clean up every ``interval_s`` seconds until cancelled."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            result = await delete_stale_rows(audit_window_s)
        except Exception as exc:  # a failed round must not end the job; the next one retries
            logger.error("Session cleanup failed: %r", exc)
            continue
        if result.sessions_deleted or result.reset_tokens_deleted:
            logger.info(
                "Cleanup deleted %d sessions and %d reset tokens",
                result.sessions_deleted,
                result.reset_tokens_deleted,
            )
