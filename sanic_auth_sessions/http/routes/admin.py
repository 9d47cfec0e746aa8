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
)
from sanic_auth_sessions.http.openapi import route_docs
from sanic_auth_sessions.http.rate_limits import rate_limit
from sanic_auth_sessions.http.responses import (
    AdminSessionPage,
    AdminSessionResponse,
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
from sanic_auth_sessions.http.routes.inputs import add_member_key, parse_json_with_password
from sanic_auth_sessions.http.runtime import auth_runtime
from sanic_auth_sessions.http.schemas import (
    AddMemberBody,
    AdminCreateOrganizationBody,
    AdminCreateUserBody,
    AdminOrganizationQuery,
    AdminSessionQuery,
    AdminUpdateOrganizationBody,
    AdminUpdateUserBody,
    AdminUserQuery,
    BulkActionBody,
    changes_of,
    parse_json,
    parse_query,
)
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


def create_admin_blueprint(url_prefix: str) -> Blueprint:
    bp = Blueprint("auth_sessions_admin", url_prefix=f"{url_prefix}/admin")

    # --- users ------------------------------------------------------------------------

    @bp.get("/users")
    @doc("List users", operation_id="admin_list_users", ok=(200, UserPage), query=AdminUserQuery)
    @require_superuser
    async def list_users(request: Request) -> HTTPResponse:
        """Users (keyset-paginated), filtered by search, is_active, is_superuser; sortable."""
        query = parse_query(request, AdminUserQuery)
        page = await admin_of(request).list_users(
            query,
            search=query.search,
            is_active=query.is_active,
            is_superuser=query.is_superuser,
            sort_by=query.sort_by,
            sort_order=query.sort_order,
        )
        return json(UserPage.dump(page))

    @bp.post("/users")
    @doc(
        "Create a user",
        operation_id="admin_create_user",
        ok=(201, UserResponse),
        body=AdminCreateUserBody,
        errors=(errors.EmailTaken, errors.WeakPassword),
    )
    @require_superuser
    async def create_user(request: Request) -> HTTPResponse:
        """Create a user (the password policy applies)."""
        body = await parse_json_with_password(
            request,
            AdminCreateUserBody,
            password_field="password",
            input_fields=("email", "first_name", "last_name"),
        )
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
                message=f"{body.action}: done.",
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
    async def get_user(request: Request, user_id: UUID) -> HTTPResponse:
        """One user."""
        return json(UserResponse.dump(await admin_of(request).get_user(user_id)))

    @bp.patch("/users/<user_id:uuid>")
    @doc(
        "Update a user",
        operation_id="admin_patch_user",
        ok=(200, UserResponse),
        body=AdminUpdateUserBody,
        errors=(
            errors.CannotTargetSelf,
            errors.NotFound,
            errors.EmailTaken,
            errors.WeakPassword,
        ),
    )
    @require_superuser
    async def update_user(request: Request, user_id: UUID) -> HTTPResponse:
        """Change a user; a new password or deactivation revokes their sessions at once."""
        body = await parse_json_with_password(
            request,
            AdminUpdateUserBody,
            password_field="password",
            input_fields=("email", "first_name", "last_name"),
        )
        changes = changes_of(body)
        user = await admin_of(request).update_user(current_auth(request).user, user_id, changes)
        return json(UserResponse.dump(user))

    @bp.delete("/users/<user_id:uuid>")
    @doc(
        "Delete a user",
        operation_id="admin_delete_user",
        errors=(errors.CannotTargetSelf, errors.NotFound, errors.LastOwner),
    )
    @require_superuser
    async def delete_user(request: Request, user_id: UUID) -> HTTPResponse:
        """Delete a user with their sessions and memberships (409 if last owner)."""
        await admin_of(request).delete_user(current_auth(request).user, user_id)
        return json(SuccessResponse.dump(success=True, message="User deleted."))

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
        return json(UserStatusResponse.dump(success=True, message="User activated.", user=user))

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
        return json(UserStatusResponse.dump(success=True, message="User deactivated.", user=user))

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
        body=AdminCreateOrganizationBody,
        errors=(errors.NotFound, errors.SlugTaken),
    )
    @require_superuser
    async def create_organization(request: Request) -> HTTPResponse:
        """Create an organization, owned by ``owner_email`` when given."""
        body = parse_json(request, AdminCreateOrganizationBody)
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

    @bp.patch("/organizations/<org_id:uuid>")
    @doc(
        "Update an organization",
        operation_id="admin_patch_organization",
        ok=(200, OrganizationResponse),
        body=AdminUpdateOrganizationBody,
        errors=(errors.NotFound, errors.SlugTaken),
    )
    @require_superuser
    async def update_organization(request: Request, org_id: UUID) -> HTTPResponse:
        """Change name, slug, description or is_active."""
        body = parse_json(request, AdminUpdateOrganizationBody)
        changes = changes_of(body, nullable=("description",))
        view = await admin_of(request).organizations.update(
            current_auth(request).user, org_id, changes
        )
        return json(OrganizationResponse.dump(view))

    @bp.delete("/organizations/<org_id:uuid>")
    @doc(
        "Delete an organization",
        operation_id="admin_delete_organization",
        errors=(errors.NotFound,),
    )
    @require_superuser
    async def delete_organization(request: Request, org_id: UUID) -> HTTPResponse:
        """Delete an organization and its memberships."""
        await admin_of(request).organizations.delete(current_auth(request).user, org_id)
        return json(SuccessResponse.dump(success=True, message="Organization deleted."))

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
        body=AddMemberBody,
        errors=(errors.NotFound, errors.AlreadyMember, errors.RateLimited),
    )
    @require_superuser
    @rate_limit(lambda s: s.rate_limit_add_member, scope="add_member", key=add_member_key)
    async def add_member(request: Request, org_id: UUID) -> HTTPResponse:
        """Add a user by email with a role (owner included)."""
        body = parse_json(request, AddMemberBody)
        membership = await admin_of(request).organizations.add_member(
            current_auth(request).user, org_id, body.email, body.role
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
        await admin_of(request).organizations.remove_member(
            current_auth(request).user, org_id, user_id
        )
        return json(SuccessResponse.dump(success=True, message="Member removed."))

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

    return bp
