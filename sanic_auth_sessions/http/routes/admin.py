"""``/admin``: users, organizations and sessions of everyone (superusers only).

Anonymous callers get 401 and every other user 403, on every route, before the input is read.
"""

from __future__ import annotations

from datetime import datetime, timezone
from uuid import UUID

from sanic import Blueprint, HTTPResponse, Request, json

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.models import Organization, UserSession
from sanic_auth_sessions.db.pagination import PageQuery
from sanic_auth_sessions.http.guards import (
    current_auth,
    require_superuser,
    step_up,
)
from sanic_auth_sessions.http.openapi import route_docs
from sanic_auth_sessions.http.rate_limits import rate_limit
from sanic_auth_sessions.http.responses import (
    AdminAuditEventPage,
    AdminAuditEventResponse,
    AdminSessionPage,
    AdminSessionResponse,
    AdminStatsResponse,
    BulkActionResult,
    OrganizationMemberPage,
    OrganizationMemberResponse,
    OrganizationPage,
    OrganizationResponse,
    SuccessResponse,
    UserPage,
    UserResponse,
    UserStatusResponse,
)
from sanic_auth_sessions.http.routes import AuthBlueprint
from sanic_auth_sessions.http.routes.inputs import add_member_key, parse_json_with_password
from sanic_auth_sessions.http.runtime import auth_runtime
from sanic_auth_sessions.http.schemas import (
    AddMemberRequest,
    AdminAuditEventQuery,
    AdminOrganizationQuery,
    AdminSessionQuery,
    AdminUserQuery,
    BulkActionBody,
    OrganizationCreate,
    OrganizationUpdate,
    UserCreate,
    UserUpdate,
    changes_of,
    event_types,
    parse_json,
    parse_query,
)
from sanic_auth_sessions.services import security_events
from sanic_auth_sessions.services.admin import AdminService
from sanic_auth_sessions.services.organizations import OrganizationView

doc = route_docs("Admin", auth="superuser")


def admin_of(request: Request) -> AdminService:
    return auth_runtime(request).admin


def organization_view(organization: Organization) -> OrganizationView:
    """A row of the admin list: ``member_count`` was annotated by its query."""
    return OrganizationView(organization, getattr(organization, "member_count", 0), None)


def admin_session(session: UserSession, now: datetime) -> dict[str, object]:
    """A row of ``/admin/sessions``: active means neither revoked nor expired."""
    return AdminSessionResponse.dump(
        session, is_active=session.is_active and session.expires_at > now
    )


# --- the user actions that /users/{user_id} shares (the caller is a superuser) -------------


async def list_users(request: Request) -> HTTPResponse:
    query = parse_query(request, AdminUserQuery)
    page = await admin_of(request).list_users(
        query,
        search=query.search,
        is_active=query.is_active,
        is_superuser=query.is_superuser,
        is_verified=query.is_verified,
        sort_by=query.sort_by,
        sort_order=query.sort_order,
    )
    return json(UserPage.dump(page))


async def get_user(request: Request, user_id: UUID) -> HTTPResponse:
    return json(UserResponse.dump(await admin_of(request).get_user(user_id)))


async def update_user(request: Request, user_id: UUID) -> HTTPResponse:
    body = await parse_json_with_password(
        request,
        UserUpdate,
        password_field="password",
        input_fields=("email", "first_name", "last_name"),
    )
    if body.password is not None or body.email is not None or body.is_superuser is not None:
        await step_up(request)  # the calling superuser's session must be fresh
    user = await admin_of(request).update_user(
        current_auth(request).user, user_id, changes_of(body)
    )
    return json(UserResponse.dump(user))


async def delete_user(request: Request, user_id: UUID) -> HTTPResponse:
    user = await admin_of(request).delete_user(current_auth(request).user, user_id)
    return json(SuccessResponse.dump(success=True, message=f"User {user.email} has been deleted"))


UPDATE_USER_ERRORS = (
    errors.ReauthenticationRequired,
    errors.CannotTargetSelf,
    errors.NotFound,
    errors.EmailTaken,
    errors.WeakPassword,
)
DELETE_USER_ERRORS = (errors.CannotTargetSelf, errors.NotFound, errors.LastOwner)


def create_admin_blueprint(url_prefix: str) -> Blueprint:
    bp = AuthBlueprint("auth_sessions_admin", url_prefix=f"{url_prefix}/admin")

    @bp.get("/stats")
    @doc("Dashboard statistics", operation_id="admin_get_stats", ok=(200, AdminStatsResponse))
    @require_superuser
    async def get_stats(request: Request) -> HTTPResponse:
        """User growth (30 days), the largest organizations, registrations (14 days) and
        active/inactive users, for the admin dashboard's charts."""
        return json(AdminStatsResponse.dump(await admin_of(request).stats()))

    # --- users ------------------------------------------------------------------------

    @bp.get("/users")
    @doc("List users", operation_id="admin_list_users", ok=(200, UserPage), query=AdminUserQuery)
    @require_superuser
    async def admin_list_users(request: Request) -> HTTPResponse:
        """Users (keyset-paginated), filtered by search, is_active, is_superuser, is_verified;
        sortable."""
        return await list_users(request)

    @bp.post("/users")
    @doc(
        "Create a user",
        operation_id="admin_create_user",
        ok=(201, UserResponse),
        body=UserCreate,
        errors=(errors.ReauthenticationRequired, errors.EmailTaken, errors.WeakPassword),
    )
    @require_superuser
    async def create_user(request: Request) -> HTTPResponse:
        """Create a user (the password policy applies). Step-up: the caller's session must
        be fresh (it sets a password and an email)."""
        body = await parse_json_with_password(
            request,
            UserCreate,
            password_field="password",
            input_fields=("email", "first_name", "last_name"),
        )
        await step_up(request)
        user = await admin_of(request).create_user(current_auth(request).user, **body.model_dump())
        return json(UserResponse.dump(user), status=201)

    @bp.post("/users/bulk-action")
    @doc(
        "Act on many users",
        operation_id="admin_bulk_user_action",
        ok=(200, BulkActionResult),
        body=BulkActionBody,
    )
    @require_superuser
    async def bulk_action(request: Request) -> HTTPResponse:
        """Activate, deactivate or delete up to 100 users (never the caller)."""
        body = parse_json(request, BulkActionBody)
        result = await admin_of(request).bulk_action(
            current_auth(request).user, body.action, body.user_ids
        )
        return json(
            BulkActionResult.dump(
                success=True,
                message=(
                    f"Bulk {body.action}: {len(result.affected)} users affected, "
                    f"{len(result.failed)} skipped"
                ),
                affected_count=len(result.affected),
                failed_count=len(result.failed),
                failed_ids=result.failed,
            )
        )

    @bp.get("/users/<user_id:uuid>")
    @doc(
        "Get a user",
        operation_id="admin_get_user",
        ok=(200, UserResponse),
        errors=(errors.NotFound,),
    )
    @require_superuser
    async def admin_get_user(request: Request, user_id: UUID) -> HTTPResponse:
        """One user."""
        return await get_user(request, user_id)

    @bp.put("/users/<user_id:uuid>")
    @doc(
        "Update a user",
        operation_id="admin_update_user",
        ok=(200, UserResponse),
        body=UserUpdate,
        errors=UPDATE_USER_ERRORS,
    )
    @require_superuser
    async def put_user(request: Request, user_id: UUID) -> HTTPResponse:
        """Exactly PATCH: absent fields stay as they are (the original project's method)."""
        return await update_user(request, user_id)

    @bp.patch("/users/<user_id:uuid>")
    @doc(
        "Update a user",
        operation_id="admin_patch_user",
        ok=(200, UserResponse),
        body=UserUpdate,
        errors=UPDATE_USER_ERRORS,
    )
    @require_superuser
    async def patch_user(request: Request, user_id: UUID) -> HTTPResponse:
        """Change a user; a new password or deactivation revokes their sessions at once;
        ``null`` clears first_name or last_name."""
        return await update_user(request, user_id)

    @bp.delete("/users/<user_id:uuid>")
    @doc(
        "Delete a user",
        operation_id="admin_delete_user",
        errors=DELETE_USER_ERRORS,
    )
    @require_superuser
    async def admin_delete_user(request: Request, user_id: UUID) -> HTTPResponse:
        """Delete a user with their sessions and memberships (409 if last owner)."""
        return await delete_user(request, user_id)

    @bp.post("/users/<user_id:uuid>/activate")
    @doc(
        "Activate a user",
        operation_id="admin_activate_user",
        ok=(200, UserStatusResponse),
        errors=(errors.CannotTargetSelf, errors.NotFound),
    )
    @require_superuser
    async def activate_user(request: Request, user_id: UUID) -> HTTPResponse:
        """Activate a user (never yourself)."""
        user = await admin_of(request).set_active(current_auth(request).user, user_id, True)
        message = f"User {user.email} has been activated"
        return json(UserStatusResponse.dump(success=True, message=message, user=user))

    @bp.post("/users/<user_id:uuid>/deactivate")
    @doc(
        "Deactivate a user",
        operation_id="admin_deactivate_user",
        ok=(200, UserStatusResponse),
        errors=(errors.CannotTargetSelf, errors.NotFound),
    )
    @require_superuser
    async def deactivate_user(request: Request, user_id: UUID) -> HTTPResponse:
        """Deactivate a user and revoke their sessions (never yourself)."""
        user = await admin_of(request).set_active(current_auth(request).user, user_id, False)
        message = f"User {user.email} has been deactivated"
        return json(UserStatusResponse.dump(success=True, message=message, user=user))

    # --- organizations ----------------------------------------------------------------

    @bp.get("/organizations")
    @doc(
        "List organizations",
        operation_id="admin_list_organizations",
        ok=(200, OrganizationPage),
        query=AdminOrganizationQuery,
    )
    @require_superuser
    async def list_organizations(request: Request) -> HTTPResponse:
        """Organizations (paginated) with their member count, filtered by search, is_active."""
        query = parse_query(request, AdminOrganizationQuery)
        page = await admin_of(request).list_organizations(
            query, search=query.search, is_active=query.is_active
        )
        views = [organization_view(organization) for organization in page.items]
        return json(OrganizationPage.dump(page, data=views))

    @bp.post("/organizations")
    @doc(
        "Create an organization",
        operation_id="admin_create_organization",
        ok=(201, OrganizationResponse),
        body=OrganizationCreate,
        errors=(errors.NotFound, errors.SlugTaken),
    )
    @require_superuser
    async def create_organization(request: Request) -> HTTPResponse:
        """Create an organization, owned by ``owner_email`` when given."""
        body = parse_json(request, OrganizationCreate)
        view = await admin_of(request).create_organization(
            current_auth(request).user, **body.model_dump()
        )
        return json(OrganizationResponse.dump(view), 201)

    @bp.get("/organizations/<org_id:uuid>")
    @doc(
        "Get an organization",
        operation_id="admin_get_organization",
        ok=(200, OrganizationResponse),
        errors=(errors.NotFound,),
    )
    @require_superuser
    async def get_organization(request: Request, org_id: UUID) -> HTTPResponse:
        """One organization, active or not."""
        view = await admin_of(request).organizations.get(current_auth(request).user, org_id)
        return json(OrganizationResponse.dump(view))

    async def update_organization(request: Request, org_id: UUID) -> HTTPResponse:
        changes = changes_of(parse_json(request, OrganizationUpdate))
        view = await admin_of(request).organizations.update(
            current_auth(request).user, org_id, changes
        )
        return json(OrganizationResponse.dump(view))

    @bp.put("/organizations/<org_id:uuid>")
    @doc(
        "Update an organization",
        operation_id="admin_update_organization",
        ok=(200, OrganizationResponse),
        body=OrganizationUpdate,
        errors=(errors.NotFound, errors.SlugTaken),
    )
    @require_superuser
    async def put_organization(request: Request, org_id: UUID) -> HTTPResponse:
        """Exactly PATCH: absent fields stay as they are (the original project's method)."""
        return await update_organization(request, org_id)

    @bp.patch("/organizations/<org_id:uuid>")
    @doc(
        "Update an organization",
        operation_id="admin_patch_organization",
        ok=(200, OrganizationResponse),
        body=OrganizationUpdate,
        errors=(errors.NotFound, errors.SlugTaken),
    )
    @require_superuser
    async def patch_organization(request: Request, org_id: UUID) -> HTTPResponse:
        """Change name, slug, description (null clears it) or is_active."""
        return await update_organization(request, org_id)

    @bp.delete("/organizations/<org_id:uuid>")
    @doc(
        "Delete an organization",
        operation_id="admin_delete_organization",
        errors=(errors.NotFound,),
    )
    @require_superuser
    async def delete_organization(request: Request, org_id: UUID) -> HTTPResponse:
        """Delete an organization and its memberships."""
        organization = await admin_of(request).organizations.delete(
            current_auth(request).user, org_id
        )
        message = f"Organization {organization.name} has been deleted"
        return json(SuccessResponse.dump(success=True, message=message))

    @bp.get("/organizations/<org_id:uuid>/members")
    @doc(
        "List an organization's members",
        operation_id="admin_list_organization_members",
        ok=(200, OrganizationMemberPage),
        query=PageQuery,
        errors=(errors.NotFound,),
    )
    @require_superuser
    async def list_members(request: Request, org_id: UUID) -> HTTPResponse:
        """Members of any organization (paginated)."""
        params = parse_query(request, PageQuery)
        page = await admin_of(request).organizations.list_members(
            current_auth(request).user, org_id, params
        )
        return json(OrganizationMemberPage.dump(page))

    @bp.post("/organizations/<org_id:uuid>/members")
    @doc(
        "Add a member to an organization",
        operation_id="admin_add_organization_member",
        ok=(201, OrganizationMemberResponse),
        body=AddMemberRequest,
        errors=(errors.NotFound, errors.AlreadyMember, errors.RateLimited),
    )
    @require_superuser
    @rate_limit(lambda s: s.rate_limit_add_member, scope="add_member", key=add_member_key)
    async def add_member(request: Request, org_id: UUID) -> HTTPResponse:
        """Add a user, by email or user_id, with a role (owner included)."""
        body = parse_json(request, AddMemberRequest)
        membership = await admin_of(request).organizations.add_member(
            current_auth(request).user, org_id, body.email, body.role, user_id=body.user_id
        )
        return json(OrganizationMemberResponse.dump(membership), status=201)

    @bp.delete("/organizations/<org_id:uuid>/members/<user_id:uuid>")
    @doc(
        "Remove a member from an organization",
        operation_id="admin_remove_organization_member",
        errors=(errors.NotFound, errors.LastOwner),
    )
    @require_superuser
    async def remove_member(request: Request, org_id: UUID, user_id: UUID) -> HTTPResponse:
        """Remove a member (409 for the last owner)."""
        membership, organization = await admin_of(request).organizations.remove_member(
            current_auth(request).user, org_id, user_id
        )
        message = f"User {membership.user.email} removed from organization {organization.name}"
        return json(SuccessResponse.dump(success=True, message=message))

    # --- sessions ---------------------------------------------------------------------

    @bp.get("/sessions")
    @doc(
        "List sessions",
        operation_id="admin_list_sessions",
        ok=(200, AdminSessionPage),
        query=AdminSessionQuery,
    )
    @require_superuser
    async def list_sessions(request: Request) -> HTTPResponse:
        """Sessions of all users (keyset-paginated), most recently used first."""
        query = parse_query(request, AdminSessionQuery)
        page = await admin_of(request).list_sessions(
            query, is_active=query.is_active, user_id=query.user_id, search=query.search
        )
        now = datetime.now(timezone.utc)
        rows = [admin_session(session, now) for session in page.items]
        return json(AdminSessionPage.dump(page, data=rows))

    @bp.delete("/sessions/<session_id:uuid>")
    @doc(
        "Revoke any session",
        operation_id="admin_revoke_session",
        errors=(errors.NotFound,),
    )
    @require_superuser
    async def revoke_session(request: Request, session_id: UUID) -> HTTPResponse:
        """Revoke any user's session; its access token stops working at once."""
        await admin_of(request).revoke_session(session_id, admin=current_auth(request).user)
        return json(SuccessResponse.dump(success=True, message="Session revoked."))

    # --- security events --------------------------------------------------------------

    @bp.get("/audit-events")
    @doc(
        "List stored security events",
        operation_id="admin_list_audit_events",
        ok=(200, AdminAuditEventPage),
        query=AdminAuditEventQuery,
    )
    @require_superuser
    async def list_audit_events(request: Request) -> HTTPResponse:
        """Every stored security event, newest first (keyset-paginated); ``user_id`` matches
        the event's account or its actor; ``since`` inclusive, ``until`` exclusive."""
        query = parse_query(request, AdminAuditEventQuery)
        query.check_period()
        page = await security_events.list_all(
            query,
            admin_of(request).cursor_signer,
            user_id=query.user_id,
            types=event_types(query.type),
            since=query.since,
            until=query.until,
        )
        emails = await security_events.emails_of(event.user_id for event in page.items)
        rows = [
            AdminAuditEventResponse.dump(
                event,
                user_email=emails.get(str(event.user_id)) if event.user_id else None,
            )
            for event in page.items
        ]
        return json(AdminAuditEventPage.dump(page, data=rows))

    return bp
