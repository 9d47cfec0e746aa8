from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request, json

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.errors import ErrorDetail, ValidationFailed
from sanic_auth_sessions.http.guards import current_auth, manager_of, require_auth
from sanic_auth_sessions.http.openapi import route_docs
from sanic_auth_sessions.http.rate_limits import rate_limit
from sanic_auth_sessions.http.responses import SuccessResponse, UserResponse
from sanic_auth_sessions.http.routes.inputs import parse_json_with_password, user_key
from sanic_auth_sessions.http.schemas import ChangePasswordBody, UpdateMeBody, parse_json

doc = route_docs("Users")


def create_users_blueprint(url_prefix: str) -> Blueprint:
    bp = Blueprint("auth_sessions_users", url_prefix=f"{url_prefix}/users")

    @bp.get("/me")
    @doc("Get my account", operation_id="get_current_user_profile", ok=(200, UserResponse))
    @require_auth
    async def get_me(request: Request) -> HTTPResponse:
        """The caller's account."""
        return json(UserResponse.dump(current_auth(request).user))

    @bp.patch("/me")
    @doc(
        "Update my account",
        operation_id="update_current_user",
        ok=(200, UserResponse),
        body=UpdateMeBody,
        errors=(errors.WrongPassword, errors.EmailTaken, errors.RateLimited),
    )
    @require_auth
    @rate_limit(lambda s: s.rate_limit_profile_update, scope="profile_update", key=user_key)
    async def update_me(request: Request) -> HTTPResponse:
        """Change the caller's name, or email (with the current password)."""
        body = parse_json(request, UpdateMeBody)
        changes = body.model_dump(exclude_unset=True, exclude_none=True)
        current_password = changes.pop("current_password", None)
        user = current_auth(request).user
        if "email" in changes and changes["email"] != user.email and current_password is None:
            message = "Your current password is required to change the email."
            raise ValidationFailed([ErrorDetail("VALIDATION_ERROR", message, "current_password")])
        user = await manager_of(request).update_profile(
            user, changes, current_password=current_password or ""
        )
        return json(UserResponse.dump(user))

    @bp.patch("/me/password")
    @doc(
        "Change my password",
        operation_id="change_current_user_password",
        body=ChangePasswordBody,
        errors=(
            errors.WrongPassword,
            errors.WeakPassword,
            errors.RateLimited,
            errors.AccountLocked,
        ),
    )
    @require_auth
    @rate_limit(lambda s: s.rate_limit_password_change, scope="password_change", key=user_key)
    async def change_password(request: Request) -> HTTPResponse:
        """Change the password; every other session is revoked, this one is kept."""
        user = current_auth(request).user
        body = await parse_json_with_password(
            request,
            ChangePasswordBody,
            password_field="new_password",
            user_inputs=(user.email, user.first_name, user.last_name),
        )
        await manager_of(request).change_password(
            current_auth(request), body.current_password, body.new_password
        )
        return json(SuccessResponse.dump(success=True, message="Password changed."))

    @bp.delete("/me")
    @doc(
        "Deactivate my account",
        operation_id="delete_current_user",
        errors=(errors.LastSuperuser,),
    )
    @require_auth
    async def delete_me(request: Request) -> HTTPResponse:
        """Deactivate the caller's account and revoke its sessions."""
        await manager_of(request).deactivate_own_account(current_auth(request))
        return json(SuccessResponse.dump(success=True, message="Account deactivated."))

    return bp
