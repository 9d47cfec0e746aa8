"""Token introspection (RFC 7662) for other services: is this token usable right now?

A token is active only when it verifies (signature, ``kid``, issuer, audience, times, type)
*and* its session is active and unexpired (idle and absolute lifetimes too) *and* its user is
active; a refresh token also needs the session's current ``jti`` (or, within
``AUTH_REFRESH_REUSE_GRACE_S``, the one the latest rotation replaced). One query: the session
JOIN user of request authentication. Introspection never refreshes, never triggers reuse
detection and never touches ``last_used_at``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.models import UserSession
from sanic_auth_sessions.core.tokens import TokenType
from sanic_auth_sessions.db.connection import active_session_with_user
from sanic_auth_sessions.services.manager import UserManager, utcnow

TokenTypeHint = Literal["access_token", "refresh_token"]
INACTIVE: dict[str, Any] = {"active": False}
# What a resource server reads: the RFC 7662 members of a JWT, and who it is.
CLAIMS = ("sub", "sid", "jti", "iat", "exp", "iss", "aud")
ACCESS_EXTRA = ("auth_time", "amr")


async def introspect(
    manager: UserManager, token: str, hint: TokenTypeHint | None = None
) -> dict[str, Any]:
    """``{"active": false}`` or the active token's claims (RFC 7662 §2.2)."""
    kinds: list[TokenType] = ["access", "refresh"]
    if hint == "refresh_token":
        kinds.reverse()  # the hint only orders the attempts
    for kind in kinds:
        try:
            payload = manager.codec.verified_payload(token, kind)
        except errors.InvalidToken:
            continue
        return await _state_of(manager, payload, kind)
    return INACTIVE


async def _state_of(
    manager: UserManager, payload: dict[str, Any], kind: TokenType
) -> dict[str, Any]:
    session = await active_session_with_user(payload["sid"], payload["sub"])
    now = utcnow()
    if session is None or manager.is_expired(session, now):
        return INACTIVE
    if kind == "refresh" and not _current_refresh(manager, session, str(payload["jti"]), now):
        return INACTIVE
    answer: dict[str, Any] = {"active": True, "token_type": f"{kind}_token"}
    answer.update((claim, payload[claim]) for claim in CLAIMS)
    answer["username"] = session.user.email
    if kind == "access":
        answer.update((claim, payload[claim]) for claim in ACCESS_EXTRA if claim in payload)
    return answer


def _current_refresh(manager: UserManager, session: UserSession, jti: str, now: Any) -> bool:
    if jti == session.refresh_token_jti:
        return True
    grace = manager.settings.refresh_reuse_grace_s
    return bool(
        grace
        and jti == session.previous_refresh_jti
        and session.rotated_at is not None
        and session.rotated_at >= now - timedelta(seconds=grace)
    )
