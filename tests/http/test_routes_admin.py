"""``/admin``: users, organizations and sessions of everyone, for superusers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
import pytest_asyncio

from sanic_auth_sessions import Membership, Organization, OrganizationRole, User, UserSession
from sanic_auth_sessions.services.manager import utcnow

from ..conftest import DATABASES, OTHER_STRONG_PASSWORD, STRONG_PASSWORD, RunningApp, bearer
from ..helpers import ROOT_EMAIL, SESSION_FIELDS, USER_FIELDS, assert_error, session_id
from ..shared_server import create_org, empty_tables, join, owners_of, shared_server, team

pytestmark = pytest.mark.asyncio(loop_scope="module")

ADMIN_SESSION_FIELDS = (SESSION_FIELDS - {"is_current"}) | {
    "is_active",
    "user_id",
    "user_email",
    "user_full_name",
}


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=DATABASES)
async def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningApp]:
    async with shared_server(request.param, tmp_path_factory.mktemp("admin")) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def api(server: RunningApp) -> RunningApp:
    await empty_tables()
    return server


@pytest_asyncio.fixture(loop_scope="module")
async def root(api: RunningApp) -> dict[str, Any]:
    return await api.login(ROOT_EMAIL)


async def people(api: RunningApp) -> dict[str, dict[str, Any]]:
    """Three users with names, one inactive; returns their login bodies."""
    made = {}
    for email, first, last in [
        ("ada@example.com", "Ada", "Lovelace"),
        ("grace@example.com", "Grace", "Hopper"),
        ("alan@sample.org", "Alan", "Turing"),
    ]:
        await api.register(email, first_name=first, last_name=last)
        made[first.lower()] = await api.login(email)
    await User.filter(email="alan@sample.org").update(is_active=False)
    return made


def emails(body: dict[str, Any]) -> list[str]:
    return [row["email"] for row in body["data"]]


# --- users ---------------------------------------------------------------------------------


async def test_user_list_filters_searches_and_sorts(api: RunningApp, root: dict[str, Any]) -> None:
    await people(api)
    url, headers = api.url("/admin/users"), bearer(root)

    async def listed(**params: Any) -> dict[str, Any]:
        response = await api.client.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    everyone = await listed(sort_by="email", sort_order="asc")
    assert emails(everyone) == [
        "ada@example.com",
        "alan@sample.org",
        "grace@example.com",
        ROOT_EMAIL,
    ]
    assert all(set(row) == USER_FIELDS for row in everyone["data"])
    assert everyone["pagination"] == {
        "total": 4,
        "page": 1,
        "page_size": 20,
        "total_pages": 1,
        "has_next": False,
        "has_prev": False,
        "next_cursor": None,
        "total_is_estimate": False,
    }
    assert emails(await listed(sort_by="email", sort_order="desc"))[0] == ROOT_EMAIL
    assert emails(await listed(sort_by="last_name", sort_order="asc"))[1:] == [
        "grace@example.com",
        "ada@example.com",
        "alan@sample.org",
    ]
    assert emails(await listed(search="LOVE")) == ["ada@example.com"]
    assert emails(await listed(search="SAMPLE.org")) == ["alan@sample.org"]
    assert emails(await listed(search="grace hop")) == ["grace@example.com"]
    assert emails(await listed(search="%")) == []  # LIKE wildcards match literally
    assert emails(await listed(is_active="false")) == ["alan@sample.org"]
    assert emails(await listed(is_superuser="true")) == [ROOT_EMAIL]
    assert set(emails(await listed(is_active="true", is_superuser="false"))) == {
        "ada@example.com",
        "grace@example.com",
    }
    for params, field in [
        ({"sort_by": "hashed_password"}, "sort_by"),
        ({"sort_order": "up"}, "sort_order"),
        ({"is_active": "maybe"}, "is_active"),
        ({"page": "abc"}, "page"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"search": "x" * 500}, "search"),
        ({"search": "a\u0000b"}, "search"),  # PostgreSQL text cannot hold NUL
        ({"cursor": "not a cursor"}, "cursor"),
    ]:
        response = await api.client.get(url, params=params, headers=headers)
        assert assert_error(response, 422)["errors"][0]["field"] == field


async def test_user_list_keyset_cursor_walks_every_user_once(
    api: RunningApp, root: dict[str, Any]
) -> None:
    await people(api)
    url, headers = api.url("/admin/users"), bearer(root)
    for sort_by, sort_order in [("created_at", "desc"), ("first_name", "asc")]:
        params: dict[str, Any] = {"limit": 3, "sort_by": sort_by, "sort_order": sort_order}
        whole = (await api.client.get(url, params={**params, "limit": 100}, headers=headers)).json()
        seen: list[str] = []
        pages = []
        cursor = None
        while True:
            page_params = {**params, **({"cursor": cursor} if cursor else {})}
            body = (await api.client.get(url, params=page_params, headers=headers)).json()
            seen += emails(body)
            pages.append(body["pagination"])
            cursor = body["pagination"]["next_cursor"]
            if cursor is None:
                break
        assert seen == emails(whole)
        assert [p["page"] for p in pages] == [1, 2]
        assert [p["has_next"] for p in pages] == [True, False]
        assert [p["has_prev"] for p in pages] == [False, True]
        assert all(p["total"] == 4 and p["total_pages"] == 2 for p in pages)
    # A cursor of one ordering is refused by another.
    first = (
        await api.client.get(url, params={"limit": 1, "sort_by": "email"}, headers=headers)
    ).json()
    other = await api.client.get(
        url,
        params={"sort_by": "created_at", "cursor": first["pagination"]["next_cursor"]},
        headers=headers,
    )
    assert_error(other, 422, "INVALID_CURSOR")


async def test_create_read_update_users(api: RunningApp, root: dict[str, Any]) -> None:
    headers = bearer(root)
    created = await api.client.post(
        api.url("/admin/users"),
        json={"email": "New@Example.com", "password": STRONG_PASSWORD, "first_name": "New"},
        headers=headers,
    )
    assert created.status_code == 201
    user = created.json()
    assert set(user) == USER_FIELDS and user["email"] == "new@example.com"
    await api.login("new@example.com")
    taken = await api.client.post(
        api.url("/admin/users"),
        json={"email": "NEW@example.com", "password": STRONG_PASSWORD},
        headers=headers,
    )
    assert_error(taken, 409, "EMAIL_TAKEN")
    weak = await api.client.post(
        api.url("/admin/users"),
        json={"email": "w@example.com", "password": "short"},
        headers=headers,
    )
    assert_error(weak, 422, "PASSWORD_TOO_SHORT")

    url = api.url(f"/admin/users/{user['id']}")
    assert (await api.client.get(url, headers=headers)).json() == user
    patched = await api.client.patch(
        url,
        json={"email": "renamed@example.com", "last_name": "Person", "is_superuser": True},
        headers=headers,
    )
    assert patched.status_code == 200
    assert (patched.json()["email"], patched.json()["last_name"]) == (
        "renamed@example.com",
        "Person",
    )
    assert patched.json()["is_superuser"] is True
    for body, status, field in [
        ({"email": ROOT_EMAIL}, 409, "email"),
        ({"email": None}, 422, "email"),
        ({"hashed_password": "x"}, 422, "hashed_password"),
        ({"password": "short"}, 422, "password"),
        ({"is_active": "perhaps"}, 422, "is_active"),
    ]:
        response = await api.client.patch(url, json=body, headers=headers)
        assert assert_error(response, status)["errors"][0]["field"] == field
    assert_error(await api.client.get(api.url(f"/admin/users/{uuid4()}"), headers=headers), 404)
    assert_error(await api.client.get(api.url("/admin/users/12345"), headers=headers), 404)


async def test_password_change_and_deactivation_by_patch_kill_tokens_at_once(
    api: RunningApp, root: dict[str, Any]
) -> None:
    ada = await api.user_with_tokens("ada@example.com")
    grace = await api.user_with_tokens("grace@example.com")
    me = api.url("/users/me")
    new_password = await api.client.patch(
        api.url(f"/admin/users/{ada['user']['id']}"),
        json={"password": OTHER_STRONG_PASSWORD},
        headers=bearer(root),
    )
    assert new_password.status_code == 200
    assert_error(await api.client.get(me, headers=bearer(ada)), 401)
    await api.login("ada@example.com", OTHER_STRONG_PASSWORD)

    deactivated = await api.client.patch(
        api.url(f"/admin/users/{grace['user']['id']}"),
        json={"is_active": False},
        headers=bearer(root),
    )
    assert deactivated.json()["is_active"] is False
    assert_error(await api.client.get(me, headers=bearer(grace)), 401)
    assert await UserSession.filter(user_id=grace["user"]["id"], is_active=True).count() == 0


async def test_activate_and_deactivate(api: RunningApp, root: dict[str, Any]) -> None:
    ada = await api.user_with_tokens("ada@example.com")
    base = api.url(f"/admin/users/{ada['user']['id']}")
    off = await api.client.post(f"{base}/deactivate", headers=bearer(root))
    assert off.status_code == 200 and off.json()["user"]["is_active"] is False
    assert_error(await api.client.get(api.url("/users/me"), headers=bearer(ada)), 401)
    refused = await api.client.post(
        api.url("/auth/login"), json={"email": "ada@example.com", "password": STRONG_PASSWORD}
    )
    assert_error(refused, 403, "ACCOUNT_INACTIVE")
    on = await api.client.post(f"{base}/activate", headers=bearer(root))
    assert on.json()["user"]["is_active"] is True
    await api.login("ada@example.com")
    missing = await api.client.post(
        api.url(f"/admin/users/{uuid4()}/deactivate"), headers=bearer(root)
    )
    assert_error(missing, 404)


async def test_never_yourself(api: RunningApp, root: dict[str, Any]) -> None:
    headers = bearer(root)
    mine = api.url(f"/admin/users/{root['user']['id']}")
    for response in [
        await api.client.post(f"{mine}/deactivate", headers=headers),
        await api.client.post(f"{mine}/activate", headers=headers),
        await api.client.patch(mine, json={"is_active": False}, headers=headers),
        await api.client.patch(mine, json={"is_superuser": False}, headers=headers),
        await api.client.delete(mine, headers=headers),
    ]:
        assert_error(response, 403, "CANNOT_TARGET_SELF")
    bulk = await api.client.post(
        api.url("/admin/users/bulk-action"),
        json={"action": "deactivate", "user_ids": [root["user"]["id"]]},
        headers=headers,
    )
    assert bulk.json()["affected_count"] == 0
    assert (await api.client.get(api.url("/users/me"), headers=headers)).status_code == 200
    renamed = await api.client.patch(mine, json={"first_name": "Root"}, headers=headers)
    assert renamed.json()["first_name"] == "Root"


async def test_delete_user_removes_sessions_and_memberships(
    api: RunningApp, root: dict[str, Any]
) -> None:
    org, team_people = await team(api)
    member = team_people["member"]
    url = api.url(f"/admin/users/{member['user']['id']}")
    assert (await api.client.delete(url, headers=bearer(root))).status_code == 200
    assert_error(await api.client.get(url, headers=bearer(root)), 404)
    assert_error(await api.client.delete(url, headers=bearer(root)), 404)
    assert_error(await api.client.get(api.url("/users/me"), headers=bearer(member)), 401)
    assert await UserSession.filter(user_id=member["user"]["id"]).count() == 0
    assert await Membership.filter(user_id=member["user"]["id"]).count() == 0

    owner_url = api.url(f"/admin/users/{team_people['owner']['user']['id']}")
    assert_error(await api.client.delete(owner_url, headers=bearer(root)), 409, "LAST_OWNER")
    await join(
        await create_org(api, team_people["admin"], name="Second"), team_people["owner"], "owner"
    )
    await Membership.filter(
        user_id=team_people["admin"]["user"]["id"], organization_id=org["id"]
    ).update(role=OrganizationRole.OWNER)
    assert (await api.client.delete(owner_url, headers=bearer(root))).status_code == 200
    assert await owners_of(org["id"]) == 1


async def test_bulk_actions_count_what_changed(api: RunningApp, root: dict[str, Any]) -> None:
    made = await people(api)  # alan is inactive
    ids = [made[name]["user"]["id"] for name in ("ada", "grace", "alan")]
    url, headers = api.url("/admin/users/bulk-action"), bearer(root)

    async def bulk(action: str, user_ids: list[str]) -> tuple[int, list[str]]:
        response = await api.client.post(
            url, json={"action": action, "user_ids": user_ids}, headers=headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["success"] is True
        assert body["failed_count"] == len(body["failed_ids"])
        assert body["affected_count"] + body["failed_count"] == len(dict.fromkeys(user_ids))
        return body["affected_count"], body["failed_ids"]

    unknown, me = str(uuid4()), root["user"]["id"]
    # Only alan was inactive; the unknown id and the caller are reported, not skipped silently.
    assert await bulk("activate", [*ids, unknown, me]) == (1, [ids[0], ids[1], unknown, me])
    assert await bulk("deactivate", [*ids, ids[0]]) == (3, [])
    assert_error(await api.client.get(api.url("/users/me"), headers=bearer(made["ada"])), 401)
    assert await bulk("deactivate", ids) == (0, ids)
    assert await bulk("activate", ids[:2]) == (2, [])
    org = await create_org(api, await api.login("ada@example.com"))
    # ada is the last owner of an organization
    assert await bulk("delete", ids) == (2, [ids[0]])
    assert await User.filter(id__in=ids).count() == 1
    assert await owners_of(org["id"]) == 1
    for body, field in [
        ({"action": "explode", "user_ids": ids}, "action"),
        ({"action": "delete", "user_ids": [str(uuid4()) for _ in range(101)]}, "user_ids"),
        ({"action": "delete", "user_ids": []}, "user_ids"),
        ({"action": "delete", "user_ids": ["nope"]}, "user_ids"),
    ]:
        response = await api.client.post(url, json=body, headers=headers)
        assert assert_error(response, 422)["errors"][0]["field"] == field


# --- organizations -------------------------------------------------------------------------


async def test_admin_organizations(api: RunningApp, root: dict[str, Any]) -> None:
    org, team_people = await team(api)
    other = await create_org(api, team_people["outsider"], name="Beta Works")
    await Organization.filter(id=other["id"]).update(is_active=False)
    headers = bearer(root)
    url = api.url("/admin/organizations")

    listed = (await api.client.get(url, headers=headers)).json()
    counts = {row["slug"]: row["member_count"] for row in listed["data"]}
    assert counts == {"acme": 3, "beta-works": 1}
    assert "role" not in listed["data"][0]
    assert listed["pagination"]["total"] == 2
    searched = (await api.client.get(url, params={"search": "BETA"}, headers=headers)).json()
    assert [row["slug"] for row in searched["data"]] == ["beta-works"]
    active = (await api.client.get(url, params={"is_active": "true"}, headers=headers)).json()
    assert [row["slug"] for row in active["data"]] == ["acme"]
    paged = (await api.client.get(url, params={"limit": 1, "page": 3}, headers=headers)).json()
    assert paged["data"] == [] and paged["pagination"]["total_pages"] == 2

    owned = await api.client.post(
        url, json={"name": "Gamma", "owner_email": "MEMBER@example.com"}, headers=headers
    )
    assert owned.status_code == 201 and owned.json()["member_count"] == 1
    gamma = owned.json()
    assert await owners_of(gamma["id"]) == 1
    unknown = await api.client.post(
        url, json={"name": "Delta", "owner_email": "nobody@example.com"}, headers=headers
    )
    assert assert_error(unknown, 404)["errors"][0]["field"] == "owner_email"
    taken = await api.client.post(url, json={"name": "X", "slug": "acme"}, headers=headers)
    assert_error(taken, 409, "SLUG_TAKEN")

    empty = (await api.client.post(url, json={"name": "Empty"}, headers=headers)).json()
    assert empty["member_count"] == 0
    members = api.url(f"/admin/organizations/{empty['id']}/members")
    added = await api.client.post(
        members, json={"email": "admin@example.com", "role": "owner"}, headers=headers
    )
    assert added.status_code == 201 and added.json()["role"] == "owner"
    listed_members = (await api.client.get(members, headers=headers)).json()
    assert [m["email"] for m in listed_members["data"]] == ["admin@example.com"]
    last = await api.client.delete(
        f"{members}/{team_people['admin']['user']['id']}", headers=headers
    )
    assert_error(last, 409, "LAST_OWNER")

    one = api.url(f"/admin/organizations/{other['id']}")
    got = await api.client.get(one, headers=headers)
    assert got.json()["is_active"] is False and got.json()["member_count"] == 1
    patched = await api.client.patch(one, json={"is_active": True, "name": "Beta"}, headers=headers)
    assert (patched.json()["is_active"], patched.json()["name"]) == (True, "Beta")
    seen = await api.client.get(
        api.url(f"/organizations/{other['id']}"), headers=bearer(team_people["outsider"])
    )
    assert seen.status_code == 200
    removed = await api.client.delete(
        api.url(f"/admin/organizations/{org['id']}/members/{team_people['member']['user']['id']}"),
        headers=headers,
    )
    assert removed.status_code == 200
    assert (await api.client.delete(one, headers=headers)).status_code == 200
    assert_error(await api.client.get(one, headers=headers), 404)


# --- sessions ------------------------------------------------------------------------------


async def test_admin_session_list_filters_and_shows_the_user(
    api: RunningApp, root: dict[str, Any]
) -> None:
    made = await people(api)
    ada_again = await api.login("ada@example.com")
    now = utcnow()
    # Most recently used: root (listing now), then grace, ada_again, ada.
    order = [root, made["grace"], ada_again, made["ada"]]
    for rank, tokens in enumerate(order):
        await UserSession.filter(id=session_id(tokens)).update(
            last_used_at=now - timedelta(minutes=rank)
        )
    await UserSession.filter(id=session_id(made["alan"])).update(is_active=False)
    expired = await api.login("grace@example.com")
    await UserSession.filter(id=session_id(expired)).update(expires_at=now - timedelta(seconds=1))
    url, headers = api.url("/admin/sessions"), bearer(root)

    async def listed(**params: Any) -> dict[str, Any]:
        response = await api.client.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    active = await listed()
    assert [row["id"] for row in active["data"]] == [session_id(t) for t in order]
    assert all(set(row) == ADMIN_SESSION_FIELDS for row in active["data"])
    first = active["data"][1]
    assert (first["user_email"], first["user_full_name"], first["is_active"]) == (
        "grace@example.com",
        "Grace Hopper",
        True,
    )
    assert first["user_id"] == made["grace"]["user"]["id"]
    assert active["pagination"]["total"] == 4 and active["pagination"]["next_cursor"] is None

    inactive = await listed(is_active="false")
    assert {row["id"] for row in inactive["data"]} == {
        session_id(made["alan"]),
        session_id(expired),
    }
    assert all(row["is_active"] is False for row in inactive["data"])
    by_user = await listed(user_id=made["ada"]["user"]["id"])
    assert [row["id"] for row in by_user["data"]] == [
        session_id(ada_again),
        session_id(made["ada"]),
    ]
    searched = await listed(search="GRACE@")
    assert [row["user_email"] for row in searched["data"]] == ["grace@example.com"]
    assert (await listed(search="_"))["data"] == []  # LIKE wildcards match literally
    for params, field in [
        ({"user_id": "nope"}, "user_id"),
        ({"is_active": "maybe"}, "is_active"),
        ({"limit": 1000}, "limit"),
    ]:
        response = await api.client.get(url, params=params, headers=headers)
        assert assert_error(response, 422)["errors"][0]["field"] == field

    # Keyset paging, two rows at a time, in the same order, without repeats.
    pages = [await listed(limit=2)]
    pages.append(await listed(limit=2, cursor=pages[0]["pagination"]["next_cursor"]))
    assert [row["id"] for page in pages for row in page["data"]] == [session_id(t) for t in order]
    assert pages[1]["pagination"]["page"] == 2 and pages[1]["pagination"]["next_cursor"] is None
    assert (pages[1]["pagination"]["has_next"], pages[1]["pagination"]["has_prev"]) == (
        False,
        True,
    )


async def test_admin_revokes_any_session_at_once(api: RunningApp, root: dict[str, Any]) -> None:
    ada = await api.user_with_tokens("ada@example.com")
    url = api.url(f"/admin/sessions/{session_id(ada)}")
    assert (await api.client.delete(url, headers=bearer(root))).status_code == 200
    assert_error(await api.client.get(api.url("/users/me"), headers=bearer(ada)), 401)
    refresh = await api.client.post(
        api.url("/auth/refresh"), json={"refresh_token": ada["refresh_token"]}
    )
    assert_error(refresh, 401)
    missing = await api.client.delete(api.url(f"/admin/sessions/{uuid4()}"), headers=bearer(root))
    assert_error(missing, 404)
    assert_error(await api.client.delete(api.url("/admin/sessions/xyz"), headers=bearer(root)), 404)
