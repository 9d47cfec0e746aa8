"""``/admin``: users, organizations and sessions of everyone (superusers only).

Anonymous callers get 401 and every other user 403, on every route, before the input is read.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sanic import Blueprint, HTTPResponse, Request, json

from sanic_auth_sessions.core.models import Organization
from sanic_auth_sessions.db.pagination import PageQuery
from sanic_auth_sessions.http.guards import current_auth, require_superuser
from sanic_auth_sessions.http.openapi import (
    AdminSessionPage,
    BulkActionOut,
    MemberOut,
    MemberPage,
    OrganizationOut,
    OrganizationPage,
    RouteDocs,
    UserOut,
    UserPage,
    UserStatusOut,
)
from sanic_auth_sessions.http.rate_limits import rate_limit
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
    admin_session_out,
    changes_of,
    member_out,
    organization_out,
    parse_json,
    parse_query,
    user_out,
)
from sanic_auth_sessions.services.admin import AdminService

doc = RouteDocs("Admin", auth="superuser")
USER_404 = (404, "Unknown user (NOT_FOUND).")
ORG_404 = (404, "Unknown organization (NOT_FOUND).")
SELF_403 = (403, "Not a superuser, or the target is yourself (CANNOT_TARGET_SELF).")
EMAIL_409 = (409, "Another account has this email (EMAIL_TAKEN).")
SLUG_409 = (409, "Another organization has this slug (SLUG_TAKEN).")


def admin_of(request: Request) -> AdminService:
    return auth_runtime(request).admin


def admin_organization_out(organization: Organization) -> dict[str, Any]:
    count: int = getattr(organization, "member_count", 0)
    return organization_out(organization, member_count=count)


def create_admin_blueprint(url_prefix: str) -> Blueprint:
    bp = Blueprint("auth_sessions_admin", url_prefix=f"{url_prefix}/admin")

    # --- users ------------------------------------------------------------------------

    @bp.get("/users")
    @doc("List users", ok=(200, UserPage), query=AdminUserQuery)
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
        return json(page.to_dict(user_out))

    @bp.post("/users")
    @doc(
        "Create a user",
        ok=(201, UserOut),
        body=AdminCreateUserBody,
        errors=(EMAIL_409, (422, "Invalid input, or a weak password (PASSWORD_TOO_WEAK, ...).")),
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
        return json(user_out(user), status=201)

    @bp.post("/users/bulk-action")
    @doc("Act on many users", ok=(200, BulkActionOut), body=BulkActionBody)
    @require_superuser
    async def bulk_action(request: Request) -> HTTPResponse:
        """Activate, deactivate or delete up to 100 users (never the caller)."""
        body = parse_json(request, BulkActionBody)
        result = await admin_of(request).bulk_action(
            current_auth(request).user, body.action, body.user_ids
        )
        return json(
            {
                "success": True,
                "message": f"{body.action}: done.",
                "affected_count": len(result.affected),
                "failed_count": len(result.failed),
                "failed_ids": [str(uid) for uid in result.failed],
            }
        )

    @bp.get("/users/<user_id:uuid>")
    @doc("Get a user", ok=(200, UserOut), errors=(USER_404,))
    @require_superuser
    async def get_user(request: Request, user_id: UUID) -> HTTPResponse:
        """One user."""
        return json(user_out(await admin_of(request).get_user(user_id)))

    @bp.patch("/users/<user_id:uuid>")
    @doc(
        "Update a user",
        ok=(200, UserOut),
        body=AdminUpdateUserBody,
        errors=(
            (403, "Not a superuser, or deactivating or demoting yourself (CANNOT_TARGET_SELF)."),
            USER_404,
            EMAIL_409,
            (422, "Invalid input, or a weak password (PASSWORD_TOO_WEAK, ...)."),
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
        return json(user_out(user))

    @bp.delete("/users/<user_id:uuid>")
    @doc(
        "Delete a user",
        errors=(
            (403, "Not a superuser, or deleting yourself (CANNOT_TARGET_SELF)."),
            USER_404,
            (409, "The user is the last owner of an organization (LAST_OWNER)."),
        ),
    )
    @require_superuser
    async def delete_user(request: Request, user_id: UUID) -> HTTPResponse:
        """Delete a user with their sessions and memberships (409 if last owner)."""
        await admin_of(request).delete_user(current_auth(request).user, user_id)
        return json({"success": True, "message": "User deleted."})

    @bp.post("/users/<user_id:uuid>/activate")
    @doc("Activate a user", ok=(200, UserStatusOut), errors=(SELF_403, USER_404))
    @require_superuser
    async def activate_user(request: Request, user_id: UUID) -> HTTPResponse:
        """Activate a user (never yourself)."""
        user = await admin_of(request).set_active(current_auth(request).user, user_id, True)
        return json({"success": True, "message": "User activated.", "user": user_out(user)})

    @bp.post("/users/<user_id:uuid>/deactivate")
    @doc("Deactivate a user", ok=(200, UserStatusOut), errors=(SELF_403, USER_404))
    @require_superuser
    async def deactivate_user(request: Request, user_id: UUID) -> HTTPResponse:
        """Deactivate a user and revoke their sessions (never yourself)."""
        user = await admin_of(request).set_active(current_auth(request).user, user_id, False)
        return json({"success": True, "message": "User deactivated.", "user": user_out(user)})

    # --- organizations ----------------------------------------------------------------

    @bp.get("/organizations")
    @doc("List organizations", ok=(200, OrganizationPage), query=AdminOrganizationQuery)
    @require_superuser
    async def list_organizations(request: Request) -> HTTPResponse:
        """Organizations (paginated) with their member count, filtered by search, is_active."""
        query = parse_query(request, AdminOrganizationQuery)
        page = await admin_of(request).list_organizations(
            query, search=query.search, is_active=query.is_active
        )
        return json(page.to_dict(admin_organization_out))

    @bp.post("/organizations")
    @doc(
        "Create an organization",
        ok=(201, OrganizationOut),
        body=AdminCreateOrganizationBody,
        errors=((404, "No user has the `owner_email` (NOT_FOUND)."), SLUG_409),
    )
    @require_superuser
    async def create_organization(request: Request) -> HTTPResponse:
        """Create an organization, owned by ``owner_email`` when given."""
        body = parse_json(request, AdminCreateOrganizationBody)
        view = await admin_of(request).create_organization(
            current_auth(request).user, **body.model_dump()
        )
        return json(organization_out(view.organization, member_count=view.member_count), 201)

    @bp.get("/organizations/<org_id:uuid>")
    @doc("Get an organization", ok=(200, OrganizationOut), errors=(ORG_404,))
    @require_superuser
    async def get_organization(request: Request, org_id: UUID) -> HTTPResponse:
        """One organization, active or not."""
        view = await admin_of(request).organizations.get(current_auth(request).user, org_id)
        return json(organization_out(view.organization, member_count=view.member_count))

    @bp.patch("/organizations/<org_id:uuid>")
    @doc(
        "Update an organization",
        ok=(200, OrganizationOut),
        body=AdminUpdateOrganizationBody,
        errors=(ORG_404, SLUG_409),
    )
    @require_superuser
    async def update_organization(request: Request, org_id: UUID) -> HTTPResponse:
        """Change name, slug, description or is_active."""
        body = parse_json(request, AdminUpdateOrganizationBody)
        changes = changes_of(body, nullable=("description",))
        view = await admin_of(request).organizations.update(
            current_auth(request).user, org_id, changes
        )
        return json(organization_out(view.organization, member_count=view.member_count))

    @bp.delete("/organizations/<org_id:uuid>")
    @doc("Delete an organization", errors=(ORG_404,))
    @require_superuser
    async def delete_organization(request: Request, org_id: UUID) -> HTTPResponse:
        """Delete an organization and its memberships."""
        await admin_of(request).organizations.delete(current_auth(request).user, org_id)
        return json({"success": True, "message": "Organization deleted."})

    @bp.get("/organizations/<org_id:uuid>/members")
    @doc("List an organization's members", ok=(200, MemberPage), query=PageQuery, errors=(ORG_404,))
    @require_superuser
    async def list_members(request: Request, org_id: UUID) -> HTTPResponse:
        """Members of any organization (paginated)."""
        params = parse_query(request, PageQuery)
        page = await admin_of(request).organizations.list_members(
            current_auth(request).user, org_id, params
        )
        return json(page.to_dict(member_out))

    @bp.post("/organizations/<org_id:uuid>/members")
    @doc(
        "Add a member to an organization",
        ok=(201, MemberOut),
        body=AddMemberBody,
        errors=(
            (404, "Unknown organization, or no user has this email (NOT_FOUND)."),
            (409, "The user is already a member (ALREADY_MEMBER)."),
            429,
        ),
    )
    @require_superuser
    @rate_limit(lambda s: s.rate_limit_add_member, scope="add_member", key=add_member_key)
    async def add_member(request: Request, org_id: UUID) -> HTTPResponse:
        """Add a user by email with a role (owner included)."""
        body = parse_json(request, AddMemberBody)
        membership = await admin_of(request).organizations.add_member(
            current_auth(request).user, org_id, body.email, body.role
        )
        return json(member_out(membership), status=201)

    @bp.delete("/organizations/<org_id:uuid>/members/<user_id:uuid>")
    @doc(
        "Remove a member from an organization",
        errors=(
            (404, "Unknown organization, or the user is not a member (NOT_FOUND)."),
            (409, "The organization would lose its last owner (LAST_OWNER)."),
        ),
    )
    @require_superuser
    async def remove_member(request: Request, org_id: UUID, user_id: UUID) -> HTTPResponse:
        """Remove a member (409 for the last owner)."""
        await admin_of(request).organizations.remove_member(
            current_auth(request).user, org_id, user_id
        )
        return json({"success": True, "message": "Member removed."})

    # --- sessions ---------------------------------------------------------------------

    @bp.get("/sessions")
    @doc("List sessions", ok=(200, AdminSessionPage), query=AdminSessionQuery)
    @require_superuser
    async def list_sessions(request: Request) -> HTTPResponse:
        """Sessions of all users (keyset-paginated), most recently used first."""
        query = parse_query(request, AdminSessionQuery)
        page = await admin_of(request).list_sessions(
            query, is_active=query.is_active, user_id=query.user_id, search=query.search
        )
        return json(page.to_dict(admin_session_out))

    @bp.delete("/sessions/<session_id:uuid>")
    @doc("Revoke any session", errors=((404, "Unknown session (NOT_FOUND)."),))
    @require_superuser
    async def revoke_session(request: Request, session_id: UUID) -> HTTPResponse:
        """Revoke any user's session; its access token stops working at once."""
        await admin_of(request).revoke_session(session_id, admin=current_auth(request).user)
        return json({"success": True, "message": "Session revoked."})

    return bp
