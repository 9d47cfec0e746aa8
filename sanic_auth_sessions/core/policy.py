"""Who may do what inside an organization: every role rule, in one place.

The services call these pure functions with the roles involved; each raises a domain error
(403 ``PermissionDenied``, 409 ``LastOwner``) or returns. Roles rank
``guest < member < admin < owner``:

- ``owner`` does everything;
- ``admin`` edits the organization and manages members and admins, but never adds, promotes
  to, demotes or removes an ``owner``;
- ``member`` and ``guest`` read; anyone may leave (remove their own membership);
- an organization that has an owner always keeps at least one.

Superusers act as owners (:func:`effective_role`). Non-members never reach these checks:
the services answer 404 for them before (see ``organizations.py``).
"""

from __future__ import annotations

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.models import OrganizationRole

Role = OrganizationRole

RANK = {Role.GUEST: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


def effective_role(membership_role: Role | None, *, is_superuser: bool) -> Role | None:
    """The role the checks use: superusers pass as owners; ``None`` means not a member."""
    if is_superuser:
        return Role.OWNER
    return membership_role


def has_role(role: Role | None, minimum: Role) -> bool:
    return role is not None and RANK[role] >= RANK[minimum]


def require_role(role: Role | None, minimum: Role) -> None:
    if not has_role(role, minimum):
        raise errors.PermissionDenied(f"This needs the {minimum.value} role in the organization.")


def check_view(actor: Role | None) -> None:
    require_role(actor, Role.GUEST)


def check_edit_organization(actor: Role | None) -> None:
    require_role(actor, Role.ADMIN)


def check_delete_organization(actor: Role | None) -> None:
    require_role(actor, Role.OWNER)


def _check_owner_untouched(actor: Role | None, *roles: Role) -> None:
    if actor is not Role.OWNER and Role.OWNER in roles:
        raise errors.PermissionDenied("Only an owner can add, change or remove an owner.")


def check_add_member(actor: Role | None, new_role: Role) -> None:
    require_role(actor, Role.ADMIN)
    _check_owner_untouched(actor, new_role)


def check_change_role(actor: Role | None, current: Role, new: Role) -> None:
    require_role(actor, Role.ADMIN)
    _check_owner_untouched(actor, current, new)


def check_remove_member(actor: Role | None, target: Role, *, is_self: bool) -> None:
    """Anyone may leave; otherwise an admin removes members and admins, an owner anyone."""
    if is_self:
        return
    require_role(actor, Role.ADMIN)
    _check_owner_untouched(actor, target)


def check_owner_kept(*, owners_before: int, owners_after: int) -> None:
    """Refuse a change that would take an organization from one owner or more to none.

    An organization a superuser created without an owner (``owners_before == 0``) may change
    freely until it has one.
    """
    if owners_before > 0 and owners_after < 1:
        raise errors.LastOwner()
