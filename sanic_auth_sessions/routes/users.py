from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request, json

from ..guards import current_auth, manager_of, require_auth
from ..openapi import RouteDocs, UserOut
from ..schemas import ChangePasswordBody, UpdateMeBody, parse_json, user_out

doc = RouteDocs("Users")


def create_users_blueprint(url_prefix: str) -> Blueprint:
    bp = Blueprint("auth_sessions_users", url_prefix=f"{url_prefix}/users")

    @bp.get("/me")
    @doc("Get my account", ok=(200, UserOut))
    @require_auth
    async def get_me(request: Request) -> HTTPResponse:
        """The caller's account."""
        return json(user_out(current_auth(request).user))

    @bp.patch("/me")
    @doc(
        "Update my account",
        ok=(200, UserOut),
        body=UpdateMeBody,
        errors=(
            (409, "Another account has this email (EMAIL_TAKEN)."),
            (
                422,
                "Invalid input; `is_superuser`, `is_active` and other fields cannot be set here.",
            ),
        ),
    )
    @require_auth
    async def update_me(request: Request) -> HTTPResponse:
        """Change the caller's name or email."""
        body = parse_json(request, UpdateMeBody)
        changes = body.model_dump(exclude_unset=True, exclude_none=True)
        user = await manager_of(request).update_profile(current_auth(request).user, changes)
        return json(user_out(user))

    @bp.patch("/me/password")
    @doc(
        "Change my password",
        body=ChangePasswordBody,
        errors=(
            (403, "The current password is wrong (AUTH_WRONG_PASSWORD)."),
            (422, "Invalid input, or a weak new password (PASSWORD_TOO_WEAK, ...)."),
        ),
    )
    @require_auth
    async def change_password(request: Request) -> HTTPResponse:
        """Change the password; every other session is revoked, this one is kept."""
        body = parse_json(request, ChangePasswordBody)
        await manager_of(request).change_password(
            current_auth(request), body.current_password, body.new_password
        )
        return json({"success": True, "message": "Password changed."})

    @bp.delete("/me")
    @doc("Deactivate my account")
    @require_auth
    async def delete_me(request: Request) -> HTTPResponse:
        """Deactivate the caller's account and revoke its sessions."""
        await manager_of(request).deactivate(current_auth(request).user)
        return json({"success": True, "message": "Account deactivated."})

    return bp
