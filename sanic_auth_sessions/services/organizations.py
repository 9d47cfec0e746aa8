"""Organizations and memberships: the service behind ``/organizations`` and the admin's.

No HTTP here: domain errors only, and every role rule is asked of :mod:`.policy`.

Not revealing organizations: a caller who is not a member gets 404 ``NOT_FOUND`` for an
existing organization exactly as for a missing one, on every route (and in the
``require_org_role`` guard), so ids cannot be probed. An inactive organization is likewise
404 for everyone but superusers, and is left out of ``/organizations/me``. A member whose role
is too low gets 403. Superusers pass every check as owners.

Keeping an owner: every change of memberships runs in a transaction that first locks the
organization's row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite transactions are
serialised anyway) and only then reads the caller's role and counts the owners. Two owners
demoting each other at once are therefore applied one after the other: the second finds
itself no longer an owner, or the last one, and is refused.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.functions import Count

from sanic_auth_sessions.core import errors, policy
from sanic_auth_sessions.core.audit import AuditCallback, log_event, new_event
from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.core.emails import normalize_email
from sanic_auth_sessions.core.models import Membership, Organization, OrganizationRole, User
from sanic_auth_sessions.db.connection import transaction
from sanic_auth_sessions.db.pagination import Page, PageQuery, paginate

Role = OrganizationRole

SLUG_MAX_CHARS = 100
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
GENERATED_SLUG_BASE_CHARS = 80  # leaves room for a "-<suffix>" on collision
NUMBERED_SLUG_TRIES = 9
CREATE_ATTEMPTS = 4
MAX_LISTED_ORGANIZATIONS = 1000  # GET /organizations/me is a bare list, not paginated


def slugify(name: str) -> str:
    """``"Ünïcode & Co."`` -> ``"unicode-co"``: lower-case ASCII letters, digits and hyphens."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:GENERATED_SLUG_BASE_CHARS].strip("-") or "org"


@dataclass(frozen=True)
class OrganizationAccess:
    """What the caller may do in an organization."""

    organization: Organization
    membership: Membership | None  # None for a superuser who is not a member
    role: Role  # the role the checks use: ``owner`` for superusers


@dataclass(frozen=True)
class OrganizationView:
    organization: Organization
    member_count: int
    role: Role | None  # the caller's membership role; None when not a member


async def log_only(
    name: str, *, user_id: object = None, session_id: object = None, **data: Any
) -> None:
    log_event(new_event(name, user_id=user_id, session_id=session_id, **data))


class OrganizationService:
    def __init__(self, settings: AuthSettings, *, audit: AuditCallback = log_only) -> None:
        """``audit`` records security events; pass ``UserManager.audit`` to reach its hook."""
        self.settings = settings
        self.audit = audit

    # --- access -------------------------------------------------------------------------

    async def access(self, user: User, org_id: UUID, *, lock: bool = False) -> OrganizationAccess:
        """The caller's access, or 404 for non-members (see the module docstring).

        With ``lock``, call inside a transaction: the organization's row stays locked until
        it ends, so the role read here cannot change under the caller.
        """
        query = Organization.filter(id=org_id)
        if lock:
            query = query.select_for_update()
        organization = await query.first()
        membership = None
        if organization is not None:
            membership = await Membership.get_or_none(organization_id=org_id, user_id=user.id)
        role = policy.effective_role(
            membership.role if membership else None, is_superuser=user.is_superuser
        )
        if (
            organization is None
            or role is None
            or (not organization.is_active and not user.is_superuser)
        ):
            raise errors.NotFound("Organization not found.")
        return OrganizationAccess(organization, membership, role)

    # --- organizations ------------------------------------------------------------------

    async def create_for_user(
        self, user: User, *, name: str, slug: str | None, description: str | None
    ) -> OrganizationView:
        """A user creates an organization and becomes its owner."""
        if not self.settings.organization_creation_enabled and not user.is_superuser:
            raise errors.OrganizationCreationClosed()
        organization = await self.create(name=name, slug=slug, description=description, owner=user)
        await self.audit("organization.created", user_id=user.id, organization_id=organization.id)
        return OrganizationView(organization, member_count=1, role=Role.OWNER)

    async def create(
        self,
        *,
        name: str,
        slug: str | None = None,
        description: str | None = None,
        owner: User | None = None,
    ) -> Organization:
        """Create an organization (with ``owner`` as its first owner, when given).

        A given slug that is taken is 409 ``SLUG_TAKEN``; a generated one gets a suffix.
        """
        for attempt in range(CREATE_ATTEMPTS):
            if slug is not None:
                if await Organization.filter(slug=slug).exists():
                    raise errors.SlugTaken(field="slug")
                candidate = slug
            else:
                candidate = await self._free_slug(slugify(name), random_suffix=attempt > 0)
            try:
                async with transaction():
                    organization = await Organization.create(
                        name=name, slug=candidate, description=description
                    )
                    if owner is not None:
                        await Membership.create(
                            user=owner, organization=organization, role=Role.OWNER
                        )
                return organization
            except IntegrityError:  # a concurrent create took the slug
                if slug is not None:
                    raise errors.SlugTaken(field="slug") from None
        raise errors.SlugTaken(field="slug")

    async def _free_slug(self, base: str, *, random_suffix: bool) -> str:
        if not random_suffix:
            candidates = [base] + [f"{base}-{n}" for n in range(2, NUMBERED_SLUG_TRIES + 2)]
            rows = await Organization.filter(slug__in=candidates).values_list("slug", flat=True)
            taken = {str(slug) for slug in rows}
            for candidate in candidates:
                if candidate not in taken:
                    return candidate
        return f"{base}-{secrets.token_hex(3)}"

    async def get(self, user: User, org_id: UUID) -> OrganizationView:
        access = await self.access(user, org_id)
        policy.check_view(access.role)
        return await self._view(access)

    async def update(self, user: User, org_id: UUID, changes: dict[str, Any]) -> OrganizationView:
        """Change ``name``, ``slug``, ``description`` (and ``is_active``, for admin routes)."""
        async with transaction():
            access = await self.access(user, org_id, lock=True)
            policy.check_edit_organization(access.role)
            organization = access.organization
            slug = changes.get("slug")
            if (
                slug is not None
                and slug != organization.slug
                and await Organization.filter(slug=slug).exclude(id=org_id).exists()
            ):
                raise errors.SlugTaken(field="slug")
            if changes:
                for key, value in changes.items():
                    setattr(organization, key, value)
                try:
                    await organization.save(update_fields=[*changes, "updated_at"])
                except IntegrityError:
                    raise errors.SlugTaken(field="slug") from None
        return await self._view(access)

    async def delete(self, user: User, org_id: UUID) -> Organization:
        """Delete the organization and its memberships; the deleted row is returned."""
        async with transaction():
            access = await self.access(user, org_id, lock=True)
            policy.check_delete_organization(access.role)
            await Membership.filter(organization_id=org_id).delete()
            await Organization.filter(id=org_id).delete()
        await self.audit("organization.deleted", user_id=user.id, organization_id=org_id)
        return access.organization

    async def all_for_user(self, user: User) -> list[OrganizationView]:
        """Every active organization of ``user`` (most recently joined first, at most
        ``MAX_LISTED_ORGANIZATIONS``) with the caller's role and the member count."""
        memberships = (
            await Membership.filter(user_id=user.id, organization__is_active=True)
            .order_by("-joined_at", "id")
            .limit(MAX_LISTED_ORGANIZATIONS)
            .select_related("organization")
        )
        counts = await self.member_counts(m.organization_id for m in memberships)
        return [
            OrganizationView(m.organization, counts.get(str(m.organization_id), 0), m.role)
            for m in memberships
        ]

    async def member_counts(self, org_ids: Iterable[UUID | str]) -> dict[str, int]:
        """Members per organization for many organizations, in one grouped query."""
        ids = list({str(org_id) for org_id in org_ids})
        if not ids:
            return {}
        rows = (
            await Membership.filter(organization_id__in=ids)
            .group_by("organization_id")
            .annotate(count=Count("id"))
            .values("organization_id", "count")
        )
        return {str(row["organization_id"]): int(row["count"]) for row in rows}

    async def _view(self, access: OrganizationAccess) -> OrganizationView:
        organization = access.organization
        count = await Membership.filter(organization_id=organization.id).count()
        role = access.membership.role if access.membership else None
        return OrganizationView(organization, member_count=count, role=role)

    # --- members ------------------------------------------------------------------------

    async def list_members(self, user: User, org_id: UUID, params: PageQuery) -> Page[Membership]:
        """Members (with ``user``), first joined first."""
        access = await self.access(user, org_id)
        policy.check_view(access.role)
        return await paginate(
            Membership.filter(organization_id=org_id),
            params,
            order_by=("joined_at", "id"),
            select=lambda q: q.select_related("user"),
        )

    async def add_member(
        self,
        user: User,
        org_id: UUID,
        email: str | None,
        role: Role,
        *,
        user_id: UUID | None = None,
    ) -> Membership:
        """Add the user with ``email`` or, when it is ``None``, the user ``user_id``."""
        field = "email" if email is not None else "user_id"
        async with transaction():
            access = await self.access(user, org_id, lock=True)
            policy.check_add_member(access.role, role)
            if email is not None:
                new_member = await User.get_or_none(email=normalize_email(email))
            else:
                new_member = await User.get_or_none(id=user_id) if user_id else None
            if new_member is None:
                raise errors.NotFound(f"No user has this {field.replace('_', ' ')}.", field=field)
            if await Membership.filter(organization_id=org_id, user_id=new_member.id).exists():
                raise errors.AlreadyMember(field=field)
            membership = await Membership.create(
                user=new_member, organization=access.organization, role=role
            )
        await self.audit(
            "organization.member_added",
            user_id=user.id,
            organization_id=org_id,
            member_id=new_member.id,
            role=role.value,
        )
        return membership

    async def change_role(
        self, user: User, org_id: UUID, member_id: UUID, role: Role
    ) -> Membership:
        async with transaction():
            access = await self.access(user, org_id, lock=True)
            membership = await self._member(org_id, member_id)
            policy.check_change_role(access.role, membership.role, role)
            if membership.role is Role.OWNER and role is not Role.OWNER:
                owners = await self.owner_count(org_id)
                policy.check_owner_kept(owners_before=owners, owners_after=owners - 1)
            previous = membership.role
            if previous is not role:
                membership.role = role
                await membership.save(update_fields=["role"])
        if previous is not role:
            await self.audit(
                "organization.role_changed",
                user_id=user.id,
                organization_id=org_id,
                member_id=member_id,
                old_role=previous.value,
                new_role=role.value,
            )
        return membership

    async def remove_member(
        self, user: User, org_id: UUID, member_id: UUID
    ) -> tuple[Membership, Organization]:
        """Remove a member; members may remove themselves (leave). Returns the removed
        membership (with ``user``) and its organization."""
        async with transaction():
            access = await self.access(user, org_id, lock=True)
            membership = await self._member(org_id, member_id)
            policy.check_remove_member(access.role, membership.role, is_self=member_id == user.id)
            if membership.role is Role.OWNER:
                owners = await self.owner_count(org_id)
                policy.check_owner_kept(owners_before=owners, owners_after=owners - 1)
            await Membership.filter(id=membership.id).delete()
        await self.audit(
            "organization.member_removed",
            user_id=user.id,
            organization_id=org_id,
            member_id=member_id,
            role=membership.role.value,
        )
        return membership, access.organization

    async def _member(self, org_id: UUID, member_id: UUID) -> Membership:
        membership = (
            await Membership.filter(organization_id=org_id, user_id=member_id)
            .select_related("user")
            .first()
        )
        if membership is None:
            raise errors.NotFound("This user is not a member of the organization.")
        return membership

    async def owner_count(self, org_id: UUID | str) -> int:
        return await Membership.filter(organization_id=org_id, role=Role.OWNER).count()

    async def check_user_removable(self, user_id: UUID) -> None:
        """Refuse (409) removing a user who is the last owner of an organization.

        Call inside a transaction: the organizations the user owns stay locked.
        """
        owned = await Membership.filter(user_id=user_id, role=Role.OWNER).values_list(
            "organization_id", flat=True
        )
        if not owned:
            return
        await Organization.filter(id__in=list(owned)).order_by("id").select_for_update()
        counts = (
            await Membership.filter(organization_id__in=list(owned), role=Role.OWNER)
            .group_by("organization_id")
            .annotate(count=Count("id"))
            .values("organization_id", "count")
        )
        if any(int(row["count"]) <= 1 for row in counts):
            raise errors.LastOwner("This user is the last owner of an organization.")
