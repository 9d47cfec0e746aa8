from __future__ import annotations

from uuid import UUID

from sanic import Blueprint, HTTPResponse, Request, json

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.emails import normalize_email
from sanic_auth_sessions.core.errors import ErrorDetail, ValidationFailed
from sanic_auth_sessions.core.models import User
from sanic_auth_sessions.db.pagination import CursorSigner
from sanic_auth_sessions.http.guards import (
    current_auth,
    manager_of,
    require_auth,
    require_superuser,
    step_up,
)
from sanic_auth_sessions.http.openapi import route_docs
from sanic_auth_sessions.http.rate_limits import rate_limit
from sanic_auth_sessions.http.responses import (
    SecurityEventPage,
    SuccessResponse,
    UserPage,
    UserResponse,
)
from sanic_auth_sessions.http.routes import AuthBlueprint
from sanic_auth_sessions.http.routes import admin as admin_routes
from sanic_auth_sessions.http.routes.inputs import (
    at_most_one_code,
    parse_json_with_password,
    user_key,
)
from sanic_auth_sessions.http.schemas import (
    AdminUserQuery,
    ChangePasswordBody,
    EmailChangeBody,
    SecurityEventQuery,
    StepUpBody,
    UpdateMeBody,
    UserUpdate,
    changes_of,
    event_types,
    in_field_order,
    parse_json,
    parse_optional_json,
    parse_query,
    read_json,
)
from sanic_auth_sessions.http.transport import clear_token_cookies
from sanic_auth_sessions.services import security_events

doc = route_docs("Users")


UPDATE_ME_ERRORS = (errors.RateLimited,)
STEP_UP_ERRORS = (
    errors.ReauthenticationRequired,
    errors.WrongPassword,
    errors.MfaCodeInvalid,
)
EMAIL_CHANGE_ERRORS = (
    *STEP_UP_ERRORS,
    errors.EmailTaken,
    errors.RateLimited,
    errors.AccountLocked,
)
EMAIL_CHANGE_REQUESTED = (
    "Check your new address: the change takes effect once you confirm it with the token "
    "we sent there."
)


@rate_limit(lambda s: s.rate_limit_profile_update, scope="profile_update", key=user_key)
async def update_me(request: Request) -> HTTPResponse:
    body = parse_json(request, UpdateMeBody)
    user = await manager_of(request).update_profile(current_auth(request).user, changes_of(body))
    return json(UserResponse.dump(user))


def parse_email_change(request: Request, user: User) -> EmailChangeBody:
    """The body of ``POST /users/me/email``; the account's own address is 422 on
    ``new_email``, reported with the body's other invalid fields."""
    same = ErrorDetail("VALIDATION_ERROR", "This is already your email address.", "new_email")
    try:
        body = parse_json(request, EmailChangeBody)
    except ValidationFailed as invalid:
        raw = read_json(request).get("new_email")
        listed = any(error.field == "new_email" for error in invalid.errors)
        if isinstance(raw, str) and not listed and normalize_email(raw) == user.email:
            raise ValidationFailed(
                in_field_order(EmailChangeBody, [*invalid.errors, same])
            ) from None
        raise
    if body.new_email == user.email:
        raise ValidationFailed([same])
    at_most_one_code(body.code, body.recovery_code)
    return body


def superuser_or_self(request: Request, user_id: UUID) -> bool:
    """True for the caller's own id; a superuser passes for any id; anyone else gets 403
    without the id being looked up (whether it exists is not revealed)."""
    user = current_auth(request).user
    if user_id == user.id:
        return True
    if not user.is_superuser:
        raise errors.PermissionDenied("You can only see and change your own account.")
    return False


def create_users_blueprint(url_prefix: str) -> Blueprint:
    bp = AuthBlueprint("auth_sessions_users", url_prefix=f"{url_prefix}/users")

    @bp.get("")
    @doc(
        "List users",
        operation_id="list_users",
        ok=(200, UserPage),
        query=AdminUserQuery,
        auth="superuser",
    )
    @require_superuser
    async def list_all_users(request: Request) -> HTTPResponse:
        """Superusers: the same query and answer as ``GET /admin/users``."""
        return await admin_routes.list_users(request)

    @bp.get("/<user_id:uuid>")
    @doc(
        "Get a user",
        operation_id="get_user_by_id",
        ok=(200, UserResponse),
        errors=(errors.PermissionDenied, errors.NotFound),
    )
    @require_auth
    async def get_user_by_id(request: Request, user_id: UUID) -> HTTPResponse:
        """Your own account, or (superusers) anyone's; others 403, whether the id exists."""
        if superuser_or_self(request, user_id):
            return json(UserResponse.dump(current_auth(request).user))
        return await admin_routes.get_user(request, user_id)

    @bp.patch("/<user_id:uuid>")
    @doc(
        "Update a user",
        operation_id="update_user",
        ok=(200, UserResponse),
        body=UserUpdate,
        errors=(errors.PermissionDenied, *UPDATE_ME_ERRORS, *admin_routes.UPDATE_USER_ERRORS),
    )
    @require_auth
    async def update_user(request: Request, user_id: UUID) -> HTTPResponse:
        """Your own id: exactly ``PATCH /users/me`` (its body rules). A superuser on another
        id: exactly ``PATCH /admin/users/{user_id}``. Anyone else 403."""
        if superuser_or_self(request, user_id):
            return await update_me(request)
        return await admin_routes.update_user(request, user_id)

    @bp.delete("/<user_id:uuid>")
    @doc(
        "Delete a user",
        operation_id="delete_user",
        errors=admin_routes.DELETE_USER_ERRORS,
        auth="superuser",
    )
    @require_superuser
    async def delete_user(request: Request, user_id: UUID) -> HTTPResponse:
        """Superusers: exactly ``DELETE /admin/users/{user_id}`` (never yourself)."""
        return await admin_routes.delete_user(request, user_id)

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
        errors=UPDATE_ME_ERRORS,
    )
    @require_auth
    async def patch_me(request: Request) -> HTTPResponse:
        """Change the caller's names (null clears one). The email changes through
        ``POST /users/me/email`` (``email`` here is 422)."""
        return await update_me(request)

    @bp.post("/me/email")
    @doc(
        "Change my email",
        operation_id="request_email_change",
        ok=(202, SuccessResponse),
        body=EmailChangeBody,
        errors=EMAIL_CHANGE_ERRORS,
    )
    @require_auth
    @rate_limit(lambda s: s.rate_limit_email_change, scope="email_change", key=user_key)
    async def request_email_change(request: Request) -> HTTPResponse:
        """Ask to change the caller's email: a token goes to `new_email` and a notice to the
        current address; nothing changes until `POST /auth/email-change/confirm`. Step-up: a
        fresh session, or a proof in the body (`current_password`; `code` or `recovery_code`
        for an account with two-factor authentication), checked and counted by the lockout
        before anything says whether `new_email` is taken. A new request replaces the pending
        one."""
        ctx = current_auth(request)
        body = parse_email_change(request, ctx.user)
        await manager_of(request).request_email_change(
            ctx,
            body.new_email,
            body.current_password,
            code=body.code,
            recovery_code=body.recovery_code,
        )
        return json(SuccessResponse.dump(success=True, message=EMAIL_CHANGE_REQUESTED), status=202)

    @bp.patch("/me/password")
    @doc(
        "Change my password",
        operation_id="change_current_user_password",
        body=ChangePasswordBody,
        errors=(
            *STEP_UP_ERRORS,
            errors.WeakPassword,
            errors.RateLimited,
            errors.AccountLocked,
        ),
    )
    @require_auth
    @rate_limit(lambda s: s.rate_limit_password_change, scope="password_change", key=user_key)
    async def change_password(request: Request) -> HTTPResponse:
        """Change the password; every other session is revoked, this one is kept. Step-up: a
        fresh session, or a proof in the body (`current_password`; `code` or `recovery_code`
        for an account with two-factor authentication); a proof sent is always checked."""
        user = current_auth(request).user
        body = await parse_json_with_password(
            request,
            ChangePasswordBody,
            password_field="new_password",
            user_inputs=(user.email, user.first_name, user.last_name),
        )
        at_most_one_code(body.code, body.recovery_code)
        await manager_of(request).change_password(
            current_auth(request),
            body.current_password,
            body.new_password,
            code=body.code,
            recovery_code=body.recovery_code,
        )
        return json(SuccessResponse.dump(success=True, message="Password changed successfully"))

    @bp.get("/me/security-events")
    @doc(
        "List my security events",
        operation_id="list_my_security_events",
        ok=(200, SecurityEventPage),
        query=SecurityEventQuery,
        errors=(errors.RateLimited,),
    )
    @require_auth
    @rate_limit(lambda s: s.rate_limit_security_events, scope="security_events", key=user_key)
    async def list_my_security_events(request: Request) -> HTTPResponse:
        """The caller's own security events of the user-visible types, newest first
        (keyset-paginated); ``type`` narrows them (comma-separated names)."""
        query = parse_query(request, SecurityEventQuery)
        manager = manager_of(request)
        page = await security_events.list_for_user(
            current_auth(request).user.id,
            query,
            event_types(query.type),
            CursorSigner.from_secret(manager.settings.secret_key),
        )
        return json(SecurityEventPage.dump(page))

    @bp.delete("/me")
    @doc(
        "Deactivate my account",
        operation_id="delete_current_user",
        body=StepUpBody,
        body_required=False,
        errors=(*STEP_UP_ERRORS, errors.AccountLocked, errors.LastSuperuser),
    )
    @require_auth
    async def delete_me(request: Request) -> HTTPResponse:
        """Deactivate the caller's account and revoke its sessions. Step-up: a fresh session,
        or a proof in the (optional) body."""
        body = parse_optional_json(request, StepUpBody)
        at_most_one_code(body.code, body.recovery_code)
        await step_up(
            request,
            current_password=body.current_password,
            code=body.code,
            recovery_code=body.recovery_code,
        )
        await manager_of(request).deactivate_own_account(current_auth(request))
        response = json(SuccessResponse.dump(success=True, message="Account deactivated."))
        clear_token_cookies(request, response)
        return response

    return bp
