"""``/organizations``: roles, the last-owner rule, 404 for non-members, slugs, counts.

One server per database serves the whole module (starting one costs more than most tests);
each test starts from empty tables but for the first superuser.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest
import pytest_asyncio

from sanic_auth_sessions import (
    Membership,
    Organization,
)
from sanic_auth_sessions.http.runtime import auth_runtime

from ..conftest import (
    DATABASES,
    RunningApp,
    bearer,
)
from ..helpers import ROOT_EMAIL, assert_error
from ..shared_server import create_org, empty_tables, join, owners_of, shared_server, team

pytestmark = pytest.mark.asyncio(loop_scope="module")

ORG_FIELDS = {
    "id",
    "name",
    "slug",
    "description",
    "is_active",
    "member_count",
    "created_at",
    "updated_at",
    "role",
}
MEMBER_FIELDS = {"user_id", "email", "first_name", "last_name", "role", "joined_at"}


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=DATABASES)
async def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningApp]:
    async with shared_server(request.param, tmp_path_factory.mktemp("orgs")) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def api(server: RunningApp) -> RunningApp:
    await empty_tables()
    return server


@pytest_asyncio.fixture(loop_scope="module")
async def root(api: RunningApp) -> dict[str, Any]:
    return await api.login(ROOT_EMAIL)


# --- creating -----------------------------------------------------------------------------


async def test_create_generates_unique_slugs_and_makes_the_creator_owner(api: RunningApp) -> None:
    ann = await api.user_with_tokens("ann@example.com")
    first = await create_org(api, ann, name="  Ünïcode & Co. ", description="We make things")
    assert set(first) == ORG_FIELDS
    assert (first["name"], first["slug"]) == ("Ünïcode & Co.", "unicode-co")
    assert (first["role"], first["member_count"], first["is_active"]) == ("owner", 1, True)
    second = await create_org(api, ann, name="Unicode Co")
    assert second["slug"] == "unicode-co-2"
    assert (await create_org(api, ann, name="!!!"))["slug"] == "org"
    given = await create_org(api, ann, name="Anything", slug="my-team")
    assert given["slug"] == "my-team"

    taken = await api.client.post(
        api.url("/organizations"), json={"name": "X", "slug": "my-team"}, headers=bearer(ann)
    )
    assert_error(taken, 409, "SLUG_TAKEN")
    for body, field in [
        ({"name": "X", "slug": "Bad Slug"}, "slug"),
        ({"name": "X", "slug": "-x"}, "slug"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "X", "description": "d" * 5000}, "description"),
        ({}, "name"),
    ]:
        response = await api.client.post(api.url("/organizations"), json=body, headers=bearer(ann))
        assert assert_error(response, 422)["errors"][0]["field"] == field
    assert await Organization.all().count() == 4


async def test_creation_can_be_disabled_except_for_superusers(
    api: RunningApp, root: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    organizations = auth_runtime(api.app).organizations
    closed = organizations.settings.model_copy(update={"organization_creation_enabled": False})
    monkeypatch.setattr(organizations, "settings", closed)
    ann = await api.user_with_tokens("ann@example.com")
    response = await api.client.post(
        api.url("/organizations"), json={"name": "Acme"}, headers=bearer(ann)
    )
    assert_error(response, 403, "ORGANIZATION_CREATION_DISABLED")
    assert (await create_org(api, root))["role"] == "owner"
    anonymous = await api.client.post(api.url("/organizations"), json={"name": "Acme"})
    assert_error(anonymous, 401)


# --- reading ------------------------------------------------------------------------------


async def test_my_organizations_have_my_role_and_the_member_count(api: RunningApp) -> None:
    org, people = await team(api)
    other = await create_org(api, people["outsider"], name="Other")
    await join(other, people["member"], "admin")
    hidden = await create_org(api, people["outsider"], name="Hidden")
    await join(hidden, people["member"], "member")
    await Organization.filter(id=hidden["id"]).update(is_active=False)

    response = await api.client.get(api.url("/organizations/me"), headers=bearer(people["member"]))
    assert response.status_code == 200
    body = response.json()  # a bare list, as the original project answers
    assert [row["slug"] for row in body] == ["other", "acme"]  # most recently joined first
    rows = {row["slug"]: row for row in body}
    assert all(set(row) == ORG_FIELDS for row in body)
    assert (rows["acme"]["role"], rows["acme"]["member_count"]) == ("member", 3)
    assert (rows["other"]["role"], rows["other"]["member_count"]) == ("admin", 2)
    # Paging and the original's membership filter are ignored: always the whole list.
    paged = await api.client.get(
        api.url("/organizations/me"),
        params={"page": 2, "limit": 1, "is_active": "false"},
        headers=bearer(people["member"]),
    )
    assert paged.status_code == 200 and paged.json() == body

    single = await api.client.get(
        api.url(f"/organizations/{org['id']}"), headers=bearer(people["admin"])
    )
    assert (single.json()["role"], single.json()["member_count"]) == ("admin", 3)


async def test_non_members_get_the_same_404_for_existing_and_missing_organizations(
    api: RunningApp,
) -> None:
    org, people = await team(api)
    outsider = bearer(people["outsider"])
    member_id = people["member"]["user"]["id"]
    for org_id in (org["id"], str(uuid4())):
        answers = [
            await api.client.get(api.url(f"/organizations/{org_id}"), headers=outsider),
            await api.client.patch(
                api.url(f"/organizations/{org_id}"), json={"name": "X"}, headers=outsider
            ),
            await api.client.delete(api.url(f"/organizations/{org_id}"), headers=outsider),
            await api.client.get(api.url(f"/organizations/{org_id}/members"), headers=outsider),
            await api.client.post(
                api.url(f"/organizations/{org_id}/members"),
                json={"email": "outsider@example.com", "role": "member"},
                headers=outsider,
            ),
            await api.client.patch(
                api.url(f"/organizations/{org_id}/members/{member_id}"),
                json={"role": "admin"},
                headers=outsider,
            ),
            await api.client.delete(
                api.url(f"/organizations/{org_id}/members/{member_id}"), headers=outsider
            ),
        ]
        for response in answers:
            body = assert_error(response, 404, "NOT_FOUND")
            assert body["errors"][0]["message"] == "Organization not found."
    assert await Membership.filter(organization_id=org["id"]).count() == 3
    bad_id = await api.client.get(api.url("/organizations/not-a-uuid"), headers=outsider)
    assert_error(bad_id, 404, "NOT_FOUND")


async def test_inactive_organizations_are_hidden_from_members_not_superusers(
    api: RunningApp, root: dict[str, Any]
) -> None:
    org, people = await team(api)
    await Organization.filter(id=org["id"]).update(is_active=False)
    response = await api.client.get(
        api.url(f"/organizations/{org['id']}"), headers=bearer(people["owner"])
    )
    assert_error(response, 404)
    mine = await api.client.get(api.url("/organizations/me"), headers=bearer(people["owner"]))
    assert mine.json() == []
    seen = await api.client.get(api.url(f"/organizations/{org['id']}"), headers=bearer(root))
    assert seen.status_code == 200 and seen.json()["is_active"] is False


async def test_member_list_is_paginated(api: RunningApp) -> None:
    org, people = await team(api)
    url = api.url(f"/organizations/{org['id']}/members")
    headers = bearer(people["member"])
    first = (await api.client.get(url, params={"limit": 2}, headers=headers)).json()
    assert [m["email"] for m in first["data"]] == ["owner@example.com", "admin@example.com"]
    assert all(set(m) == MEMBER_FIELDS for m in first["data"])
    assert [m["role"] for m in first["data"]] == ["owner", "admin"]
    assert first["pagination"] == {
        "total": 3,
        "page": 1,
        "page_size": 2,
        "total_pages": 2,
        "has_next": True,
        "has_prev": False,
    }
    second = (await api.client.get(url, params={"limit": 2, "page": 2}, headers=headers)).json()
    assert [m["email"] for m in second["data"]] == ["member@example.com"]
    assert (second["pagination"]["has_next"], second["pagination"]["has_prev"]) == (False, True)
    past = (await api.client.get(url, params={"limit": 2, "page": 9}, headers=headers)).json()
    assert past["data"] == []
    assert (past["pagination"]["total"], past["pagination"]["total_pages"]) == (3, 2)
    for params in ({"limit": 0}, {"limit": 101}, {"page": 0}, {"page": "abc"}):
        response = await api.client.get(url, params=params, headers=headers)
        assert assert_error(response, 422)["errors"][0]["field"] in params


# --- roles ---------------------------------------------------------------------------------


async def test_members_read_but_cannot_change_anything(api: RunningApp) -> None:
    org, people = await team(api)
    headers = bearer(people["member"])
    base = api.url(f"/organizations/{org['id']}")
    admin_id = people["admin"]["user"]["id"]
    assert (await api.client.get(base, headers=headers)).status_code == 200
    for response in [
        await api.client.patch(base, json={"name": "Mine"}, headers=headers),
        await api.client.delete(base, headers=headers),
        await api.client.post(
            f"{base}/members", json={"email": "outsider@example.com"}, headers=headers
        ),
        await api.client.patch(
            f"{base}/members/{admin_id}", json={"role": "member"}, headers=headers
        ),
        await api.client.delete(f"{base}/members/{admin_id}", headers=headers),
    ]:
        assert_error(response, 403, "PERMISSION_DENIED")
    assert (await Organization.get(id=org["id"])).name == "Acme"


async def test_admins_manage_members_and_admins_but_never_owners(api: RunningApp) -> None:
    org, people = await team(api)
    headers = bearer(people["admin"])
    base = api.url(f"/organizations/{org['id']}")
    owner_id = people["owner"]["user"]["id"]
    member_id = people["member"]["user"]["id"]
    outsider_id = people["outsider"]["user"]["id"]

    edited = await api.client.patch(base, json={"description": "Edited"}, headers=headers)
    assert edited.status_code == 200 and edited.json()["description"] == "Edited"
    assert_error(await api.client.delete(base, headers=headers), 403)
    add_owner = await api.client.post(
        f"{base}/members", json={"email": "outsider@example.com", "role": "owner"}, headers=headers
    )
    assert_error(add_owner, 403)
    added = await api.client.post(
        f"{base}/members", json={"email": "OUTSIDER@example.com", "role": "admin"}, headers=headers
    )
    assert added.status_code == 201 and added.json()["role"] == "admin"
    for user_id, role in [(member_id, "admin"), (member_id, "member"), (outsider_id, "member")]:
        response = await api.client.patch(
            f"{base}/members/{user_id}", json={"role": role}, headers=headers
        )
        assert response.status_code == 200 and response.json()["role"] == role
    for response in [
        await api.client.patch(
            f"{base}/members/{member_id}", json={"role": "owner"}, headers=headers
        ),
        await api.client.patch(
            f"{base}/members/{owner_id}", json={"role": "admin"}, headers=headers
        ),
        await api.client.delete(f"{base}/members/{owner_id}", headers=headers),
    ]:
        assert_error(response, 403)
    removed = await api.client.delete(f"{base}/members/{outsider_id}", headers=headers)
    assert removed.status_code == 200
    assert await owners_of(org["id"]) == 1
    assert await Membership.filter(organization_id=org["id"]).count() == 3


async def test_owners_manage_owners_and_delete_the_organization(api: RunningApp) -> None:
    org, people = await team(api)
    headers = bearer(people["owner"])
    base = api.url(f"/organizations/{org['id']}")
    admin_id = people["admin"]["user"]["id"]
    promoted = await api.client.patch(
        f"{base}/members/{admin_id}", json={"role": "owner"}, headers=headers
    )
    assert promoted.json()["role"] == "owner"
    added = await api.client.post(
        f"{base}/members", json={"email": "outsider@example.com", "role": "owner"}, headers=headers
    )
    assert added.status_code == 201
    demoted = await api.client.patch(
        f"{base}/members/{admin_id}", json={"role": "member"}, headers=headers
    )
    assert demoted.json()["role"] == "member"
    assert await owners_of(org["id"]) == 2

    assert (await api.client.delete(base, headers=headers)).status_code == 200
    assert_error(await api.client.get(base, headers=headers), 404)
    assert await Membership.filter(organization_id=org["id"]).count() == 0


async def test_the_last_owner_cannot_be_demoted_removed_or_leave(api: RunningApp) -> None:
    org, people = await team(api)
    headers = bearer(people["owner"])
    base = api.url(f"/organizations/{org['id']}")
    owner_id = people["owner"]["user"]["id"]
    for response in [
        await api.client.patch(
            f"{base}/members/{owner_id}", json={"role": "admin"}, headers=headers
        ),
        await api.client.delete(f"{base}/members/{owner_id}", headers=headers),
    ]:
        assert_error(response, 409, "LAST_OWNER")
    assert await owners_of(org["id"]) == 1

    await api.client.patch(
        f"{base}/members/{people['admin']['user']['id']}", json={"role": "owner"}, headers=headers
    )
    left = await api.client.delete(f"{base}/members/{owner_id}", headers=headers)
    assert left.status_code == 200
    assert_error(await api.client.get(base, headers=headers), 404)
    assert await owners_of(org["id"]) == 1


async def test_members_and_admins_may_leave(api: RunningApp) -> None:
    org, people = await team(api)
    base = api.url(f"/organizations/{org['id']}")
    for name in ("member", "admin"):
        headers = bearer(people[name])
        response = await api.client.delete(
            f"{base}/members/{people[name]['user']['id']}", headers=headers
        )
        assert response.status_code == 200
        assert_error(await api.client.get(base, headers=headers), 404)
    assert await Membership.filter(organization_id=org["id"]).count() == 1


async def test_membership_input_errors(api: RunningApp) -> None:
    org, people = await team(api)
    headers = bearer(people["owner"])
    base = api.url(f"/organizations/{org['id']}")
    unknown = await api.client.post(
        f"{base}/members", json={"email": "nobody@example.com"}, headers=headers
    )
    assert assert_error(unknown, 404)["errors"][0]["field"] == "email"
    again = await api.client.post(
        f"{base}/members", json={"email": "member@example.com"}, headers=headers
    )
    assert_error(again, 409, "ALREADY_MEMBER")
    bad_role = await api.client.post(
        f"{base}/members", json={"email": "outsider@example.com", "role": "king"}, headers=headers
    )
    assert assert_error(bad_role, 422)["errors"][0]["field"] == "role"
    outsider_id = people["outsider"]["user"]["id"]
    not_member = await api.client.patch(
        f"{base}/members/{outsider_id}", json={"role": "admin"}, headers=headers
    )
    assert_error(not_member, 404)
    assert_error(await api.client.delete(f"{base}/members/{outsider_id}", headers=headers), 404)
    for body in ({"role": "OWNER"}, {}, {"role": None}):
        response = await api.client.patch(
            f"{base}/members/{people['member']['user']['id']}", json=body, headers=headers
        )
        assert_error(response, 422)
    for body, field in [
        ({"name": None}, "name"),
        ({"slug": "Not Valid"}, "slug"),
        ({"is_active": False}, "is_active"),
    ]:
        response = await api.client.patch(base, json=body, headers=headers)
        assert assert_error(response, 422)["errors"][0]["field"] == field
    other = await create_org(api, people["outsider"], name="Other")
    taken = await api.client.patch(base, json={"slug": other["slug"]}, headers=headers)
    assert_error(taken, 409, "SLUG_TAKEN")
    cleared = await api.client.patch(
        base, json={"description": None, "slug": "acme-renamed"}, headers=headers
    )
    assert cleared.status_code == 200
    assert (cleared.json()["description"], cleared.json()["slug"]) == (None, "acme-renamed")


async def test_superusers_pass_as_owners_but_the_last_owner_stays(
    api: RunningApp, root: dict[str, Any]
) -> None:
    org, people = await team(api)
    headers = bearer(root)
    base = api.url(f"/organizations/{org['id']}")
    seen = await api.client.get(base, headers=headers)
    assert seen.status_code == 200 and seen.json()["role"] is None  # not a member
    assert (
        await api.client.patch(base, json={"name": "Root's"}, headers=headers)
    ).status_code == 200
    added = await api.client.post(
        f"{base}/members", json={"email": "outsider@example.com", "role": "owner"}, headers=headers
    )
    assert added.status_code == 201
    owner_id = people["owner"]["user"]["id"]
    assert (
        await api.client.delete(f"{base}/members/{owner_id}", headers=headers)
    ).status_code == 200
    last = await api.client.patch(
        f"{base}/members/{people['outsider']['user']['id']}",
        json={"role": "member"},
        headers=headers,
    )
    assert_error(last, 409, "LAST_OWNER")
    assert (await api.client.delete(base, headers=headers)).status_code == 200


async def test_two_owners_demoting_each_other_at_once_leave_one_owner(api: RunningApp) -> None:
    ann = await api.user_with_tokens("ann@example.com")
    bob = await api.user_with_tokens("bob@example.com")
    for round_ in range(3):
        org = await create_org(api, ann, name=f"Race {round_}")
        await join(org, bob, "owner")
        base = api.url(f"/organizations/{org['id']}/members")
        results = await asyncio.gather(
            api.client.patch(
                f"{base}/{bob['user']['id']}", json={"role": "member"}, headers=bearer(ann)
            ),
            api.client.patch(
                f"{base}/{ann['user']['id']}", json={"role": "member"}, headers=bearer(bob)
            ),
        )
        statuses = sorted(response.status_code for response in results)
        assert statuses[0] == 200 and statuses[1] in (403, 409), statuses
        assert await owners_of(org["id"]) == 1


async def test_two_owners_leaving_at_once_leave_one_owner(api: RunningApp) -> None:
    ann = await api.user_with_tokens("ann@example.com")
    bob = await api.user_with_tokens("bob@example.com")
    org = await create_org(api, ann)
    await join(org, bob, "owner")
    base = api.url(f"/organizations/{org['id']}/members")
    results = await asyncio.gather(
        api.client.delete(f"{base}/{ann['user']['id']}", headers=bearer(ann)),
        api.client.delete(f"{base}/{bob['user']['id']}", headers=bearer(bob)),
    )
    assert sorted(response.status_code for response in results) == [200, 409]
    assert await owners_of(org["id"]) == 1


# --- the guard for host routes ------------------------------------------------------------


async def test_require_org_role_guards_host_routes(api: RunningApp, root: dict[str, Any]) -> None:
    org, people = await team(api)
    url = f"/host/orgs/{org['id']}/report"
    admin = await api.client.get(url, headers=bearer(people["admin"]))
    assert admin.json() == {"organization": "Acme", "role": "admin"}
    assert (await api.client.get(url, headers=bearer(root))).json()["role"] is None
    assert_error(await api.client.get(url, headers=bearer(people["member"])), 403)
    assert_error(await api.client.get(url, headers=bearer(people["outsider"])), 404)
    missing = await api.client.get(f"/host/orgs/{uuid4()}/report", headers=bearer(people["admin"]))
    assert_error(missing, 404)
    assert_error(await api.client.get(url), 401)
