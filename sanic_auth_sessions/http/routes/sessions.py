from __future__ import annotations

from uuid import UUID

from sanic import Blueprint, HTTPResponse, Request, json

from sanic_auth_sessions.http.guards import current_auth, manager_of, require_auth
from sanic_auth_sessions.http.openapi import DeletedOut, RouteDocs, SessionListOut
from sanic_auth_sessions.http.rate_limits import rate_limit
from sanic_auth_sessions.http.schemas import session_out

doc = RouteDocs("Sessions")


def create_sessions_blueprint(url_prefix: str) -> Blueprint:
    bp = Blueprint("auth_sessions_sessions", url_prefix=f"{url_prefix}/sessions")

    @bp.get("/me")
    @doc("List my sessions", ok=(200, SessionListOut), errors=(429,))
    @rate_limit(lambda s: s.rate_limit_session_list, scope="session_list")
    @require_auth
    async def list_my_sessions(request: Request) -> HTTPResponse:
        """The caller's active sessions, most recently used first."""
        auth = current_auth(request)
        sessions = await manager_of(request).list_sessions(auth.user.id)
        return json(
            {
                "sessions": [session_out(s, auth.session.id) for s in sessions],
                "total": len(sessions),
            }
        )

    @bp.delete("/me/expired")
    @doc("Delete my expired sessions", ok=(200, DeletedOut))
    @require_auth
    async def delete_expired(request: Request) -> HTTPResponse:
        """Delete the caller's revoked and expired sessions (never the current one)."""
        deleted = await manager_of(request).delete_expired_sessions(current_auth(request))
        return json({"success": True, "message": "Expired sessions deleted.", "deleted": deleted})

    @bp.delete("/<session_id:uuid>")
    @doc(
        "Revoke one of my sessions",
        errors=(
            (403, "The session belongs to another user (PERMISSION_DENIED)."),
            (404, "Unknown session (NOT_FOUND)."),
            429,
        ),
    )
    @rate_limit(lambda s: s.rate_limit_session_revoke, scope="session_revoke")
    @require_auth
    async def revoke(request: Request, session_id: UUID) -> HTTPResponse:
        """Revoke one of the caller's sessions."""
        await manager_of(request).revoke_session(current_auth(request), session_id)
        return json({"success": True, "message": "Session revoked."})

    return bp
