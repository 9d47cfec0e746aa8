"""``/organizations``: a user's organizations and their members.

Non-members get 404 for an organization, existing or not (see ``organizations.py``).
"""

from __future__ import annotations

from uuid import UUID

from sanic import Blueprint, HTTPResponse, Request, json

from sanic_auth_sessions.db.pagination import PageQuery
from sanic_auth_sessions.http.guards import current_auth, organizations_of, require_auth
from sanic_auth_sessions.http.openapi import (
    MemberOut,
    MemberPage,
    MyOrganizationOut,
    MyOrganizationPage,
    RouteDocs,
)
from sanic_auth_sessions.http.rate_limits import rate_limit
from sanic_auth_sessions.http.routes.inputs import add_member_key
from sanic_auth_sessions.http.schemas import (
    AddMemberBody,
    ChangeRoleBody,
    CreateOrganizationBody,
    UpdateOrganizationBody,
    changes_of,
    member_out,
    organization_out,
    organization_view_out,
    parse_json,
    parse_query,
)

doc = RouteDocs("Organizations")
ORG_404 = (404, "Unknown organization, or the caller is not a member (NOT_FOUND).")
MEMBER_404 = (404, "Unknown organization, caller or user not a member (NOT_FOUND).")
SLUG_409 = (409, "Another organization has this slug (SLUG_TAKEN).")
LAST_OWNER_409 = (409, "The organization would lose its last owner (LAST_OWNER).")


def create_organizations_blueprint(url_prefix: str) -> Blueprint:
    bp = Blueprint("auth_sessions_organizations", url_prefix=f"{url_prefix}/organizations")

    @bp.post("")
    @doc(
        "Create an organization",
        ok=(201, MyOrganizationOut),
        body=CreateOrganizationBody,
        errors=(
            (403, "Creating organizations is disabled (ORGANIZATION_CREATION_DISABLED)."),
            SLUG_409,
        ),
    )
    @require_auth
    async def create_organization(request: Request) -> HTTPResponse:
        """Create an organization; the caller becomes its owner."""
        body = parse_json(request, CreateOrganizationBody)
        view = await organizations_of(request).create_for_user(
            current_auth(request).user, name=body.name, slug=body.slug, description=body.description
        )
        return json(organization_view_out(view), status=201)

    @bp.get("/me")
    @doc("List my organizations", ok=(200, MyOrganizationPage), query=PageQuery)
    @require_auth
    async def my_organizations(request: Request) -> HTTPResponse:
        """The caller's organizations (paginated), with their role and the member count."""
        params = parse_query(request, PageQuery)
        service = organizations_of(request)
        page = await service.list_for_user(current_auth(request).user, params)
        counts = await service.member_counts(m.organization_id for m in page.items)
        return json(
            page.to_dict(
                lambda m: {
                    **organization_out(
                        m.organization, member_count=counts.get(str(m.organization_id), 0)
                    ),
                    "role": m.role.value,
                }
            )
        )

    @bp.get("/<org_id:uuid>")
    @doc("Get an organization", ok=(200, MyOrganizationOut), errors=(ORG_404,))
    @require_auth
    async def get_organization(request: Request, org_id: UUID) -> HTTPResponse:
        """An organization the caller belongs to."""
        view = await organizations_of(request).get(current_auth(request).user, org_id)
        return json(organization_view_out(view))

    @bp.patch("/<org_id:uuid>")
    @doc(
        "Update an organization",
        ok=(200, MyOrganizationOut),
        body=UpdateOrganizationBody,
        errors=((403, "Needs the admin or owner role (PERMISSION_DENIED)."), ORG_404, SLUG_409),
    )
    @require_auth
    async def update_organization(request: Request, org_id: UUID) -> HTTPResponse:
        """Change the name, slug or description (admins and owners)."""
        changes = changes_of(parse_json(request, UpdateOrganizationBody), nullable=("description",))
        view = await organizations_of(request).update(current_auth(request).user, org_id, changes)
        return json(organization_view_out(view))

    @bp.delete("/<org_id:uuid>")
    @doc(
        "Delete an organization",
        errors=((403, "Needs the owner role (PERMISSION_DENIED)."), ORG_404),
    )
    @require_auth
    async def delete_organization(request: Request, org_id: UUID) -> HTTPResponse:
        """Delete the organization and its memberships (owners)."""
        await organizations_of(request).delete(current_auth(request).user, org_id)
        return json({"success": True, "message": "Organization deleted."})

    @bp.get("/<org_id:uuid>/members")
    @doc("List the members", ok=(200, MemberPage), query=PageQuery, errors=(ORG_404,))
    @require_auth
    async def list_members(request: Request, org_id: UUID) -> HTTPResponse:
        """The members (paginated), first joined first."""
        params = parse_query(request, PageQuery)
        page = await organizations_of(request).list_members(
            current_auth(request).user, org_id, params
        )
        return json(page.to_dict(member_out))

    @bp.post("/<org_id:uuid>/members")
    @doc(
        "Add a member",
        ok=(201, MemberOut),
        body=AddMemberBody,
        errors=(
            (403, "Needs the admin role, and the owner role to add an owner (PERMISSION_DENIED)."),
            (404, "Unknown organization or not a member (NOT_FOUND), or no user has this email."),
            (409, "The user is already a member (ALREADY_MEMBER)."),
            429,
        ),
    )
    @require_auth
    @rate_limit(lambda s: s.rate_limit_add_member, scope="add_member", key=add_member_key)
    async def add_member(request: Request, org_id: UUID) -> HTTPResponse:
        """Add an existing user by email (admins add members and admins, owners anyone)."""
        body = parse_json(request, AddMemberBody)
        membership = await organizations_of(request).add_member(
            current_auth(request).user, org_id, body.email, body.role
        )
        return json(member_out(membership), status=201)

    @bp.patch("/<org_id:uuid>/members/<user_id:uuid>")
    @doc(
        "Change a member's role",
        ok=(200, MemberOut),
        body=ChangeRoleBody,
        errors=(
            (403, "Needs the admin role; only owners change the owner role (PERMISSION_DENIED)."),
            MEMBER_404,
            LAST_OWNER_409,
        ),
    )
    @require_auth
    async def change_role(request: Request, org_id: UUID, user_id: UUID) -> HTTPResponse:
        """Change a member's role; only owners touch the owner role; one owner stays."""
        body = parse_json(request, ChangeRoleBody)
        membership = await organizations_of(request).change_role(
            current_auth(request).user, org_id, user_id, body.role
        )
        return json(member_out(membership))

    @bp.delete("/<org_id:uuid>/members/<user_id:uuid>")
    @doc(
        "Remove a member, or leave",
        errors=(
            (403, "Needs the admin role, the owner role to remove an owner (PERMISSION_DENIED)."),
            MEMBER_404,
            LAST_OWNER_409,
        ),
    )
    @require_auth
    async def remove_member(request: Request, org_id: UUID, user_id: UUID) -> HTTPResponse:
        """Remove a member, or leave (your own user id); the last owner cannot go."""
        await organizations_of(request).remove_member(current_auth(request).user, org_id, user_id)
        return json({"success": True, "message": "Member removed."})

    return bp
