"""``/organizations``: a user's organizations and their members.

Non-members get 404 for an organization, existing or not (see ``organizations.py``).
"""

from __future__ import annotations

from uuid import UUID

from sanic import Blueprint, HTTPResponse, Request, json

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.db.pagination import PageQuery
from sanic_auth_sessions.http.guards import current_auth, organizations_of, require_auth
from sanic_auth_sessions.http.openapi import route_docs
from sanic_auth_sessions.http.rate_limits import rate_limit
from sanic_auth_sessions.http.responses import (
    MyOrganizationList,
    MyOrganizationResponse,
    OrganizationMemberPage,
    OrganizationMemberResponse,
    SuccessResponse,
)
from sanic_auth_sessions.http.routes import AuthBlueprint
from sanic_auth_sessions.http.routes.inputs import add_member_key
from sanic_auth_sessions.http.schemas import (
    AddMemberRequest,
    ChangeRoleBody,
    CreateOrganizationBody,
    UpdateOrganizationBody,
    changes_of,
    parse_json,
    parse_query,
)

doc = route_docs("Organizations")


def create_organizations_blueprint(url_prefix: str) -> Blueprint:
    bp = AuthBlueprint("auth_sessions_organizations", url_prefix=f"{url_prefix}/organizations")

    @bp.post("")
    @doc(
        "Create an organization",
        operation_id="create_organization",
        ok=(201, MyOrganizationResponse),
        body=CreateOrganizationBody,
        errors=(errors.OrganizationCreationClosed, errors.SlugTaken),
    )
    @require_auth
    async def create_organization(request: Request) -> HTTPResponse:
        """Create an organization; the caller becomes its owner."""
        body = parse_json(request, CreateOrganizationBody)
        view = await organizations_of(request).create_for_user(
            current_auth(request).user, name=body.name, slug=body.slug, description=body.description
        )
        return json(MyOrganizationResponse.dump(view), status=201)

    @bp.get("/me")
    @doc(
        "List my organizations",
        operation_id="get_my_organizations",
        ok=(200, MyOrganizationList),
    )
    @require_auth
    async def my_organizations(request: Request) -> HTTPResponse:
        """Every active organization of the caller, most recently joined first, with their
        role and the member count: a bare list (the query is ignored)."""
        views = await organizations_of(request).all_for_user(current_auth(request).user)
        return json([MyOrganizationResponse.dump(view) for view in views])

    @bp.get("/<organization_id:uuid>")
    @doc(
        "Get an organization",
        operation_id="get_organization",
        ok=(200, MyOrganizationResponse),
        errors=(errors.NotFound,),
    )
    @require_auth
    async def get_organization(request: Request, organization_id: UUID) -> HTTPResponse:
        """An organization the caller belongs to."""
        view = await organizations_of(request).get(current_auth(request).user, organization_id)
        return json(MyOrganizationResponse.dump(view))

    async def update_organization(request: Request, organization_id: UUID) -> HTTPResponse:
        changes = changes_of(parse_json(request, UpdateOrganizationBody))
        view = await organizations_of(request).update(
            current_auth(request).user, organization_id, changes
        )
        return json(MyOrganizationResponse.dump(view))

    update_errors = (errors.PermissionDenied, errors.NotFound, errors.SlugTaken)

    @bp.put("/<organization_id:uuid>")
    @doc(
        "Update an organization",
        operation_id="update_organization",
        ok=(200, MyOrganizationResponse),
        body=UpdateOrganizationBody,
        errors=update_errors,
    )
    @require_auth
    async def put_organization(request: Request, organization_id: UUID) -> HTTPResponse:
        """Exactly PATCH: absent fields stay as they are (the original project's method)."""
        return await update_organization(request, organization_id)

    @bp.patch("/<organization_id:uuid>")
    @doc(
        "Update an organization",
        operation_id="patch_organization",
        ok=(200, MyOrganizationResponse),
        body=UpdateOrganizationBody,
        errors=update_errors,
    )
    @require_auth
    async def patch_organization(request: Request, organization_id: UUID) -> HTTPResponse:
        """Change the name, slug or description (null clears it); admins and owners."""
        return await update_organization(request, organization_id)

    @bp.delete("/<organization_id:uuid>")
    @doc(
        "Delete an organization",
        operation_id="delete_organization",
        errors=(errors.PermissionDenied, errors.NotFound),
    )
    @require_auth
    async def delete_organization(request: Request, organization_id: UUID) -> HTTPResponse:
        """Delete the organization and its memberships (owners)."""
        organization = await organizations_of(request).delete(
            current_auth(request).user, organization_id
        )
        message = f"Organization {organization.name} has been deleted"
        return json(SuccessResponse.dump(success=True, message=message))

    @bp.get("/<organization_id:uuid>/members")
    @doc(
        "List the members",
        operation_id="get_organization_members",
        ok=(200, OrganizationMemberPage),
        query=PageQuery,
        errors=(errors.NotFound,),
    )
    @require_auth
    async def list_members(request: Request, organization_id: UUID) -> HTTPResponse:
        """The members (paginated), first joined first."""
        params = parse_query(request, PageQuery)
        page = await organizations_of(request).list_members(
            current_auth(request).user, organization_id, params
        )
        return json(OrganizationMemberPage.dump(page))

    @bp.post("/<organization_id:uuid>/members")
    @doc(
        "Add a member",
        operation_id="add_organization_member",
        ok=(201, OrganizationMemberResponse),
        body=AddMemberRequest,
        errors=(
            errors.PermissionDenied,
            errors.NotFound,
            errors.AlreadyMember,
            errors.RateLimited,
        ),
    )
    @require_auth
    @rate_limit(lambda s: s.rate_limit_add_member, scope="add_member", key=add_member_key)
    async def add_member(request: Request, organization_id: UUID) -> HTTPResponse:
        """Add an existing user, by email or user_id (admins add guests, members and admins,
        owners anyone)."""
        body = parse_json(request, AddMemberRequest)
        membership = await organizations_of(request).add_member(
            current_auth(request).user, organization_id, body.email, body.role, user_id=body.user_id
        )
        return json(OrganizationMemberResponse.dump(membership), status=201)

    @bp.patch("/<organization_id:uuid>/members/<user_id:uuid>")
    @doc(
        "Change a member's role",
        operation_id="update_organization_member_role",
        ok=(200, OrganizationMemberResponse),
        body=ChangeRoleBody,
        errors=(errors.PermissionDenied, errors.NotFound, errors.LastOwner),
    )
    @require_auth
    async def change_role(request: Request, organization_id: UUID, user_id: UUID) -> HTTPResponse:
        """Change a member's role; only owners touch the owner role; one owner stays."""
        body = parse_json(request, ChangeRoleBody)
        membership = await organizations_of(request).change_role(
            current_auth(request).user, organization_id, user_id, body.role
        )
        return json(OrganizationMemberResponse.dump(membership))

    @bp.delete("/<organization_id:uuid>/members/<user_id:uuid>")
    @doc(
        "Remove a member, or leave",
        operation_id="remove_organization_member",
        errors=(errors.PermissionDenied, errors.NotFound, errors.LastOwner),
    )
    @require_auth
    async def remove_member(request: Request, organization_id: UUID, user_id: UUID) -> HTTPResponse:
        """Remove a member, or leave (your own user id); the last owner cannot go."""
        membership, organization = await organizations_of(request).remove_member(
            current_auth(request).user, organization_id, user_id
        )
        message = f"User {membership.user.email} removed from organization {organization.name}"
        return json(SuccessResponse.dump(success=True, message=message))

    return bp
