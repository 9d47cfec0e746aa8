from __future__ import annotations

from uuid import UUID

from sanic import Blueprint, HTTPResponse, Request, json

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.http.guards import current_auth, manager_of, require_auth
from sanic_auth_sessions.http.openapi import route_docs
from sanic_auth_sessions.http.rate_limits import rate_limit
from sanic_auth_sessions.http.responses import (
    DeletedSessionsResponse,
    RevokedOthersResponse,
    SessionListResponse,
    SessionResponse,
    SuccessResponse,
)
from sanic_auth_sessions.http.routes import AuthBlueprint

doc = route_docs("Sessions")


def create_sessions_blueprint(url_prefix: str) -> Blueprint:
    bp = AuthBlueprint("auth_sessions_sessions", url_prefix=f"{url_prefix}/sessions")

    @bp.get("/me")
    @doc(
        "List my sessions",
        operation_id="list_my_sessions",
        ok=(200, SessionListResponse),
        errors=(errors.RateLimited,),
    )
    @rate_limit(lambda s: s.rate_limit_session_list, scope="session_list")
    @require_auth
    async def list_my_sessions(request: Request) -> HTTPResponse:
        """The caller's active sessions: the calling one first, then the most recently used."""
        auth = current_auth(request)
        sessions = await manager_of(request).list_sessions(auth.user.id, auth.session.id)
        current = auth.session.id
        return json(
            SessionListResponse.dump(
                sessions=[SessionResponse.dump(s, is_current=s.id == current) for s in sessions],
                total=len(sessions),
            )
        )

    @bp.delete("/me/expired")
    @doc(
        "Delete my expired sessions",
        operation_id="cleanup_expired_sessions",
        ok=(200, DeletedSessionsResponse),
    )
    @require_auth
    async def delete_expired(request: Request) -> HTTPResponse:
        """Delete the caller's revoked and expired sessions (never the current one)."""
        deleted = await manager_of(request).delete_expired_sessions(current_auth(request))
        return json(
            DeletedSessionsResponse.dump(
                success=True, message=f"Cleaned up {deleted} expired sessions", deleted=deleted
            )
        )

    @bp.post("/revoke-others")
    @doc(
        "Sign out my other devices",
        operation_id="revoke_other_sessions",
        ok=(200, RevokedOthersResponse),
        errors=(errors.RateLimited,),
    )
    @rate_limit(lambda s: s.rate_limit_revoke_others, scope="revoke_others")
    @require_auth
    async def revoke_others(request: Request) -> HTTPResponse:
        """Revoke every other active session of the caller; this one stays. Their tokens stop
        working on their next request."""
        revoked = await manager_of(request).revoke_other_sessions(current_auth(request))
        return json(
            RevokedOthersResponse.dump(
                success=True,
                message=f"Signed out of {revoked} other sessions",
                sessions_revoked=revoked,
            )
        )

    @bp.delete("/<session_id:uuid>")
    @doc(
        "Revoke one of my sessions",
        operation_id="revoke_session",
        errors=(errors.PermissionDenied, errors.NotFound, errors.RateLimited),
    )
    @rate_limit(lambda s: s.rate_limit_session_revoke, scope="session_revoke")
    @require_auth
    async def revoke(request: Request, session_id: UUID) -> HTTPResponse:
        """Revoke one of the caller's sessions."""
        session = await manager_of(request).revoke_session(current_auth(request), session_id)
        message = f"Session revoked: {session.device_name or 'Unknown device'}"
        return json(SuccessResponse.dump(success=True, message=message))

    return bp
