"""The role rules of ``policy.py``, as a table: every action by actor role (by target role)."""

from __future__ import annotations

import pytest

from sanic_auth_sessions.core import errors, policy
from sanic_auth_sessions.core.models import OrganizationRole

OWNER, ADMIN, MEMBER = OrganizationRole.OWNER, OrganizationRole.ADMIN, OrganizationRole.MEMBER
GUEST = OrganizationRole.GUEST
ALLOW, DENY = "allow", "deny"


def outcome(check: object, *args: object, **kwargs: object) -> str:
    try:
        check(*args, **kwargs)  # type: ignore[operator]
    except errors.PermissionDenied:
        return DENY
    return ALLOW


@pytest.mark.parametrize(
    ("actor", "view", "edit", "delete"),
    [
        (OWNER, ALLOW, ALLOW, ALLOW),
        (ADMIN, ALLOW, ALLOW, DENY),
        (MEMBER, ALLOW, DENY, DENY),
        (GUEST, ALLOW, DENY, DENY),  # reads like a member
        (None, DENY, DENY, DENY),
    ],
)
def test_organization_actions(
    actor: OrganizationRole | None, view: str, edit: str, delete: str
) -> None:
    assert outcome(policy.check_view, actor) == view
    assert outcome(policy.check_edit_organization, actor) == edit
    assert outcome(policy.check_delete_organization, actor) == delete


@pytest.mark.parametrize(
    ("actor", "new_role", "expected"),
    [
        (OWNER, OWNER, ALLOW),
        (OWNER, ADMIN, ALLOW),
        (OWNER, MEMBER, ALLOW),
        (ADMIN, OWNER, DENY),
        (ADMIN, ADMIN, ALLOW),
        (ADMIN, MEMBER, ALLOW),
        (MEMBER, MEMBER, DENY),
        (MEMBER, ADMIN, DENY),
        (ADMIN, GUEST, ALLOW),
        (MEMBER, GUEST, DENY),
        (GUEST, GUEST, DENY),
    ],
)
def test_add_member(actor: OrganizationRole, new_role: OrganizationRole, expected: str) -> None:
    assert outcome(policy.check_add_member, actor, new_role) == expected


@pytest.mark.parametrize(
    ("actor", "current", "new", "expected"),
    [
        (OWNER, OWNER, MEMBER, ALLOW),
        (OWNER, MEMBER, OWNER, ALLOW),
        (OWNER, ADMIN, MEMBER, ALLOW),
        (ADMIN, MEMBER, ADMIN, ALLOW),
        (ADMIN, ADMIN, MEMBER, ALLOW),
        (ADMIN, MEMBER, OWNER, DENY),  # promote to owner
        (ADMIN, OWNER, ADMIN, DENY),  # demote an owner
        (ADMIN, OWNER, OWNER, DENY),
        (MEMBER, MEMBER, ADMIN, DENY),
        (MEMBER, ADMIN, MEMBER, DENY),
    ],
)
def test_change_role(
    actor: OrganizationRole, current: OrganizationRole, new: OrganizationRole, expected: str
) -> None:
    assert outcome(policy.check_change_role, actor, current, new) == expected


@pytest.mark.parametrize(
    ("actor", "target", "is_self", "expected"),
    [
        (OWNER, OWNER, False, ALLOW),
        (OWNER, ADMIN, False, ALLOW),
        (ADMIN, ADMIN, False, ALLOW),
        (ADMIN, MEMBER, False, ALLOW),
        (ADMIN, OWNER, False, DENY),
        (MEMBER, MEMBER, False, DENY),
        (MEMBER, MEMBER, True, ALLOW),  # leaving
        (GUEST, GUEST, True, ALLOW),
        (GUEST, MEMBER, False, DENY),
        (ADMIN, GUEST, False, ALLOW),
        (ADMIN, ADMIN, True, ALLOW),
        (OWNER, OWNER, True, ALLOW),  # the owner count is checked separately
    ],
)
def test_remove_member(
    actor: OrganizationRole, target: OrganizationRole, is_self: bool, expected: str
) -> None:
    assert outcome(policy.check_remove_member, actor, target, is_self=is_self) == expected


@pytest.mark.parametrize(
    ("before", "after", "refused"),
    [(1, 0, True), (2, 1, False), (0, 0, False), (3, 2, False)],
)
def test_an_owner_is_always_kept(before: int, after: int, refused: bool) -> None:
    if refused:
        with pytest.raises(errors.LastOwner):
            policy.check_owner_kept(owners_before=before, owners_after=after)
    else:
        policy.check_owner_kept(owners_before=before, owners_after=after)


def test_superusers_act_as_owners_and_non_members_have_no_role() -> None:
    assert policy.effective_role(None, is_superuser=True) is OWNER
    assert policy.effective_role(MEMBER, is_superuser=True) is OWNER
    assert policy.effective_role(ADMIN, is_superuser=False) is ADMIN
    assert policy.effective_role(None, is_superuser=False) is None
    assert not policy.has_role(None, MEMBER)
    assert policy.has_role(OWNER, ADMIN) and not policy.has_role(MEMBER, ADMIN)


def test_guest_is_the_lowest_rank() -> None:
    ranked = sorted(OrganizationRole, key=policy.RANK.__getitem__)
    assert ranked == [GUEST, MEMBER, ADMIN, OWNER]
    assert policy.has_role(GUEST, GUEST) and not policy.has_role(GUEST, MEMBER)
