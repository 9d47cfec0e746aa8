"""What the original project's clients need (SEED-COMPAT.md §5): PUT aliases, ``null`` clearing
optional text, adding a member by ``user_id``, ``/users`` and ``/users/{user_id}``,
``/admin/stats``, the original's messages, and tokens on registration when asked for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest
import pytest_asyncio
from sanic_ext.extensions.openapi.builders import SpecificationBuilder

from sanic_auth_sessions import Membership, Organization, User, UserSession

from ..conftest import DATABASES, OTHER_STRONG_PASSWORD, STRONG_PASSWORD, RunningApp, bearer
from ..helpers import ROOT_EMAIL, USER_FIELDS, assert_error, session_id
from ..shared_server import create_org, empty_tables, join, shared_server, team

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=DATABASES)
async def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningApp]:
    async with shared_server(request.param, tmp_path_factory.mktemp("compat")) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def api(server: RunningApp) -> RunningApp:
    await empty_tables()
    return server


@pytest_asyncio.fixture(loop_scope="module")
async def root(api: RunningApp) -> dict[str, Any]:
    return await api.login(ROOT_EMAIL)


async def named_user(api: RunningApp, email: str = "ann@example.com") -> dict[str, Any]:
    await api.register(email, first_name="Ann", last_name="Lee")
    return await api.login(email)


# --- PUT: exactly PATCH ---------------------------------------------------------------------


async def test_put_on_admin_users_is_a_partial_update_and_null_clears_names(
    api: RunningApp, root: dict[str, Any]
) -> None:
    ann = await named_user(api)
    url = api.url(f"/admin/users/{ann['user']['id']}")
    # The original frontend's edit dialog: every field, last_name null.
    response = await api.client.put(
        url,
        json={"first_name": "Anna", "last_name": None, "is_active": True, "is_superuser": False},
        headers=bearer(root),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == USER_FIELDS
    assert (body["first_name"], body["last_name"]) == ("Anna", "")
    # Absent fields stay as they are, with PUT as with PATCH.
    response = await api.client.put(url, json={"last_name": "Lee"}, headers=bearer(root))
    assert (response.json()["first_name"], response.json()["last_name"]) == ("Anna", "Lee")
    patched = await api.client.patch(url, json={"first_name": None}, headers=bearer(root))
    assert (patched.json()["first_name"], patched.json()["last_name"]) == ("", "Lee")
    # null stays 422 for every field that is not optional text.
    for field in ("email", "is_active", "is_superuser", "password"):
        for method in ("PUT", "PATCH"):
            refused = await api.client.request(
                method, url, json={field: None}, headers=bearer(root)
            )
            assert assert_error(refused, 422)["errors"][0]["field"] == field


async def test_admin_may_send_their_own_unchanged_flags(
    api: RunningApp, root: dict[str, Any]
) -> None:
    url = api.url(f"/admin/users/{root['user']['id']}")
    same = {"first_name": "Root", "is_active": True, "is_superuser": True}
    for method in ("PUT", "PATCH"):
        response = await api.client.request(method, url, json=same, headers=bearer(root))
        assert response.status_code == 200, response.text
    demote = await api.client.put(url, json={"is_superuser": False}, headers=bearer(root))
    assert_error(demote, 403, "CANNOT_TARGET_SELF")
    assert (await User.get(email=ROOT_EMAIL)).is_superuser


async def test_put_on_organizations_is_a_partial_update_and_null_clears_description(
    api: RunningApp, root: dict[str, Any]
) -> None:
    org, people = await team(api)
    await Organization.filter(id=org["id"]).update(description="Widgets")
    url = api.url(f"/organizations/{org['id']}")
    response = await api.client.put(url, json={"name": "Acme Ltd"}, headers=bearer(people["admin"]))
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["description"]) == ("Acme Ltd", "Widgets")
    cleared = await api.client.put(url, json={"description": None}, headers=bearer(people["admin"]))
    assert (cleared.json()["name"], cleared.json()["description"]) == ("Acme Ltd", None)
    assert_error(
        await api.client.put(url, json={"name": "X"}, headers=bearer(people["member"])), 403
    )
    assert_error(
        await api.client.put(url, json={"name": None}, headers=bearer(people["owner"])), 422
    )

    admin_url = api.url(f"/admin/organizations/{org['id']}")
    response = await api.client.put(
        admin_url,
        json={"name": "Acme", "description": "Again", "is_active": False},
        headers=bearer(root),
    )
    assert response.status_code == 200, response.text
    assert (response.json()["description"], response.json()["is_active"]) == ("Again", False)
    kept = await api.client.put(admin_url, json={"description": None}, headers=bearer(root))
    assert (kept.json()["name"], kept.json()["is_active"]) == ("Acme", False)
    assert kept.json()["description"] is None


async def test_patch_me_clears_names_with_null(api: RunningApp) -> None:
    ann = await named_user(api)
    response = await api.client.patch(
        api.url("/users/me"), json={"last_name": None}, headers=bearer(ann)
    )
    assert response.status_code == 200, response.text
    assert (response.json()["first_name"], response.json()["last_name"]) == ("Ann", "")
    refused = await api.client.patch(
        api.url("/users/me"), json={"email": None}, headers=bearer(ann)
    )
    assert assert_error(refused, 422)["errors"][0]["field"] == "email"


async def test_cors_preflight_allows_put(make_app: Any) -> None:
    def with_preflights(app: Any) -> None:
        app.config.HTTP_AUTO_OPTIONS = app.config.CORS_AUTOMATIC_OPTIONS = True

    api: RunningApp = await make_app(
        cors_origins='["https://app.example.com"]', setup=with_preflights
    )
    response = await api.client.options(
        api.url("/admin/users/00000000-0000-0000-0000-000000000000"),
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204, response.text
    allowed = response.headers["access-control-allow-methods"].replace(" ", "").split(",")
    assert {"PUT", "PATCH"} <= set(allowed)


# --- adding a member by user_id ---------------------------------------------------------------


async def test_add_member_by_user_id_or_email_exactly_one(
    api: RunningApp, root: dict[str, Any]
) -> None:
    org, people = await team(api)
    newcomer = await api.user_with_tokens("new@example.com")
    other = await api.user_with_tokens("other@example.com")
    for url, caller in (
        (api.url(f"/organizations/{org['id']}/members"), people["owner"]),
        (api.url(f"/admin/organizations/{org['id']}/members"), root),
    ):
        for body in ({}, {"role": "member"}, {"email": "new@example.com", "user_id": str(uuid4())}):
            refused = assert_error(
                await api.client.post(url, json=body, headers=bearer(caller)), 422
            )
            assert [e["field"] for e in refused["errors"]] == ["email"]
        # Several bad fields at once: each named once.
        both_bad = await api.client.post(
            url, json={"user_id": "not-a-uuid", "role": "boss"}, headers=bearer(caller)
        )
        assert [e["field"] for e in assert_error(both_bad, 422)["errors"]] == ["user_id", "role"]
        missing = await api.client.post(
            url, json={"user_id": str(uuid4()), "role": "member"}, headers=bearer(caller)
        )
        assert assert_error(missing, 404, "NOT_FOUND")["errors"][0]["field"] == "user_id"

    url = api.url(f"/admin/organizations/{org['id']}/members")
    added = await api.client.post(
        url, json={"user_id": newcomer["user"]["id"], "role": "guest"}, headers=bearer(root)
    )
    assert added.status_code == 201, added.text
    assert (added.json()["email"], added.json()["role"]) == ("new@example.com", "guest")
    again = await api.client.post(
        url, json={"user_id": newcomer["user"]["id"]}, headers=bearer(root)
    )
    assert assert_error(again, 409, "ALREADY_MEMBER")["errors"][0]["field"] == "user_id"

    # An organization admin adds by user_id too; a guest reads like a member.
    mine = await api.client.post(
        api.url(f"/organizations/{org['id']}/members"),
        json={"user_id": other["user"]["id"]},
        headers=bearer(people["admin"]),
    )
    assert (mine.status_code, mine.json()["role"]) == (201, "member")
    seen = await api.client.get(
        api.url(f"/organizations/{org['id']}/members"), headers=bearer(newcomer)
    )
    assert seen.status_code == 200 and seen.json()["pagination"]["total"] == 5
    edit = await api.client.patch(
        api.url(f"/organizations/{org['id']}"), json={"name": "X"}, headers=bearer(newcomer)
    )
    assert_error(edit, 403)


# --- /users and /users/{user_id} --------------------------------------------------------------


async def test_users_list_is_the_admin_list_for_superusers(
    api: RunningApp, root: dict[str, Any]
) -> None:
    ann = await named_user(api)
    params = {"sort_by": "email", "sort_order": "asc", "limit": 1}
    listed = await api.client.get(api.url("/users"), params=params, headers=bearer(root))
    admin = await api.client.get(api.url("/admin/users"), params=params, headers=bearer(root))
    assert listed.status_code == 200, listed.text
    assert listed.json()["data"] == admin.json()["data"]
    assert [row["email"] for row in listed.json()["data"]] == ["ann@example.com"]
    assert listed.json()["pagination"]["total"] == 2
    assert_error(
        await api.client.get(api.url("/users"), headers=bearer(ann)), 403, "PERMISSION_DENIED"
    )
    assert_error(await api.client.get(api.url("/users")), 401)


async def test_user_by_id_is_yours_or_a_superusers_and_others_learn_nothing(
    api: RunningApp, root: dict[str, Any]
) -> None:
    ann = await named_user(api)
    bob = await api.user_with_tokens("bob@example.com")
    ann_id, bob_id = ann["user"]["id"], bob["user"]["id"]

    own = await api.client.get(api.url(f"/users/{ann_id}"), headers=bearer(ann))
    assert own.status_code == 200 and own.json() == ann["user"] | {
        "updated_at": own.json()["updated_at"]
    }
    by_root = await api.client.get(api.url(f"/users/{ann_id}"), headers=bearer(root))
    assert by_root.json()["email"] == "ann@example.com"
    assert_error(await api.client.get(api.url(f"/users/{uuid4()}"), headers=bearer(root)), 404)

    # Another user's id and an unknown id: the same 403, so existence is not revealed.
    existing = await api.client.get(api.url(f"/users/{bob_id}"), headers=bearer(ann))
    unknown = await api.client.get(api.url(f"/users/{uuid4()}"), headers=bearer(ann))
    assert_error(existing, 403, "PERMISSION_DENIED")
    assert existing.json() == unknown.json() and unknown.status_code == 403
    for method, body in (("PATCH", {"first_name": "X"}), ("DELETE", None)):
        for target in (bob_id, str(uuid4())):
            refused = await api.client.request(
                method, api.url(f"/users/{target}"), json=body, headers=bearer(ann)
            )
            assert_error(refused, 403, "PERMISSION_DENIED")
    assert (await User.get(id=bob_id)).first_name == ""


async def test_patch_user_by_id_follows_me_for_yourself_and_admin_for_others(
    api: RunningApp, root: dict[str, Any]
) -> None:
    ann = await named_user(api)
    ann_url = api.url(f"/users/{ann['user']['id']}")
    own = await api.client.patch(ann_url, json={"last_name": None}, headers=bearer(ann))
    assert (own.status_code, own.json()["last_name"]) == (200, "")
    # Your own id: the body rules of PATCH /users/me.
    for field, value in (("is_superuser", True), ("is_active", False), ("password", "x" * 20)):
        refused = await api.client.patch(ann_url, json={field: value}, headers=bearer(ann))
        assert assert_error(refused, 422)["errors"][0]["field"] == field
    # A superuser on another id: the body of PATCH /admin/users/{user_id}.
    promoted = await api.client.patch(
        ann_url, json={"is_superuser": True, "first_name": "Ann"}, headers=bearer(root)
    )
    assert promoted.status_code == 200 and promoted.json()["is_superuser"] is True
    new_password = await api.client.patch(
        ann_url, json={"password": OTHER_STRONG_PASSWORD}, headers=bearer(root)
    )
    assert new_password.status_code == 200
    assert_error(await api.client.get(api.url("/users/me"), headers=bearer(ann)), 401)
    missing = await api.client.patch(
        api.url(f"/users/{uuid4()}"), json={"first_name": "X"}, headers=bearer(root)
    )
    assert_error(missing, 404)
    # The superuser's own id: PATCH /users/me rules for them too.
    root_url = api.url(f"/users/{root['user']['id']}")
    refused = await api.client.patch(root_url, json={"is_superuser": True}, headers=bearer(root))
    assert_error(refused, 422)


async def test_delete_user_by_id_is_the_admin_delete(api: RunningApp, root: dict[str, Any]) -> None:
    ann = await named_user(api)
    deleted = await api.client.delete(api.url(f"/users/{ann['user']['id']}"), headers=bearer(root))
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"success": True, "message": "User ann@example.com has been deleted"}
    assert not await User.filter(id=ann["user"]["id"]).exists()
    own = await api.client.delete(api.url(f"/users/{root['user']['id']}"), headers=bearer(root))
    assert_error(own, 403, "CANNOT_TARGET_SELF")
    assert_error(await api.client.delete(api.url(f"/users/{uuid4()}"), headers=bearer(root)), 404)


# --- /admin/stats ---------------------------------------------------------------------------


async def test_admin_stats_answers_the_dashboard(api: RunningApp, root: dict[str, Any]) -> None:
    _, people = await team(api)
    await User.filter(email="outsider@example.com").update(is_active=False)
    response = await api.client.get(api.url("/admin/stats"), headers=bearer(root))
    assert response.status_code == 200, response.text
    stats = response.json()
    assert len(stats["user_growth"]) == 30 and len(stats["registration_activity"]) == 14
    assert stats["user_growth"][-1]["total_users"] == 5
    assert stats["user_growth"][-1]["active_users"] == 4
    assert stats["registration_activity"][-1]["registrations"] == 5
    assert stats["organization_distribution"] == [{"name": "Acme", "value": 3}]
    assert stats["user_status"] == [
        {"name": "Active", "value": 4},
        {"name": "Inactive", "value": 1},
    ]
    assert_error(
        await api.client.get(api.url("/admin/stats"), headers=bearer(people["owner"])), 403
    )
    assert_error(await api.client.get(api.url("/admin/stats")), 401)


# --- the original's messages ----------------------------------------------------------------


async def test_messages_are_the_originals(api: RunningApp, root: dict[str, Any]) -> None:
    async def message(method: str, path: str, tokens: dict[str, Any], **kwargs: Any) -> str:
        response = await api.client.request(method, api.url(path), headers=bearer(tokens), **kwargs)
        assert response.status_code == 200, response.text
        text: str = response.json()["message"]
        return text

    ann = await named_user(api)
    phone = await api.login(
        "ann@example.com",
        **{"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"},
    )
    unnamed = await api.login("ann@example.com", **{"User-Agent": ""})
    await UserSession.filter(id=session_id(unnamed)).update(device_name="")
    assert await message("DELETE", f"/sessions/{session_id(phone)}", ann) == (
        "Session revoked: Apple iPhone"
    )
    assert await message("DELETE", f"/sessions/{session_id(unnamed)}", ann) == (
        "Session revoked: Unknown device"
    )
    assert await message("DELETE", "/sessions/me/expired", ann) == "Cleaned up 2 expired sessions"
    assert await message("DELETE", "/sessions/me/expired", ann) == "Cleaned up 0 expired sessions"
    changed = await message(
        "PATCH",
        "/users/me/password",
        ann,
        json={"current_password": STRONG_PASSWORD, "new_password": OTHER_STRONG_PASSWORD},
    )
    assert changed == "Password changed successfully"
    second = await api.login("ann@example.com", OTHER_STRONG_PASSWORD)
    assert await message(
        "POST", "/auth/logout", second, json={"refresh_token": second["refresh_token"]}
    ) == ("Logged out successfully")
    await api.login("ann@example.com", OTHER_STRONG_PASSWORD)
    assert await message("POST", "/auth/logout-all", ann) == (
        "Successfully logged out from all devices (2 sessions terminated)"
    )
    reset = await api.client.post(
        api.url("/auth/password-reset/request"), json={"email": "ann@example.com"}
    )
    assert reset.json()["message"] == (
        "If your email is registered, you will receive a password reset link shortly"
    )
    await api.settled()
    token = api.mailer.last_token_for("ann@example.com")
    confirmed = await api.client.post(
        api.url("/auth/password-reset/confirm"),
        json={"token": token, "new_password": STRONG_PASSWORD},
    )
    assert confirmed.json()["message"] == (
        "Password has been reset successfully. All devices have been logged out for security. "
        "You can now log in with your new password."
    )

    org, people = await team(api)
    member_id = people["member"]["user"]["id"]
    admin_path = f"/admin/users/{member_id}"
    assert await message("POST", f"{admin_path}/deactivate", root) == (
        "User member@example.com has been deactivated"
    )
    assert await message("POST", f"{admin_path}/activate", root) == (
        "User member@example.com has been activated"
    )
    assert await message(
        "DELETE", f"/admin/organizations/{org['id']}/members/{member_id}", root
    ) == ("User member@example.com removed from organization Acme")
    await join(org, people["member"], "member")
    assert await message(
        "DELETE", f"/organizations/{org['id']}/members/{member_id}", people["owner"]
    ) == ("User member@example.com removed from organization Acme")
    bulk = await message(
        "POST",
        "/admin/users/bulk-action",
        root,
        json={"action": "deactivate", "user_ids": [member_id, str(uuid4())]},
    )
    assert bulk == "Bulk deactivate: 1 users affected, 1 skipped"
    other = await create_org(api, people["owner"], name="Other Co")
    assert await message("DELETE", f"/organizations/{other['id']}", people["owner"]) == (
        "Organization Other Co has been deleted"
    )
    assert await message("DELETE", f"/admin/organizations/{org['id']}", root) == (
        "Organization Acme has been deleted"
    )
    assert not await Membership.filter(organization_id=org["id"]).exists()
    assert await message("DELETE", admin_path, root) == "User member@example.com has been deleted"


# --- tokens on registration -----------------------------------------------------------------


async def test_register_can_sign_the_device_in(make_app: Any) -> None:
    api: RunningApp = await make_app(register_returns_tokens=True)
    response = await api.client.post(
        api.url("/auth/register"),
        json={"email": "ann@example.com", "password": STRONG_PASSWORD, "first_name": "Ann"},
        headers={"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) >= USER_FIELDS and body["email"] == "ann@example.com"
    assert body["user"]["id"] == body["id"] and body["token_type"] == "bearer"
    assert body["expires_in"] > 0
    assert response.headers["cache-control"] == "no-store"
    me = await api.client.get(api.url("/users/me"), headers=bearer(body))
    assert me.json()["first_name"] == "Ann"
    sessions = (await api.client.get(api.url("/sessions/me"), headers=bearer(body))).json()
    assert [s["device_name"] for s in sessions["sessions"]] == ["Apple iPhone"]
    refreshed = await api.client.post(
        api.url("/auth/refresh"), json={"refresh_token": body["refresh_token"]}
    )
    assert refreshed.status_code == 200


async def test_register_answers_the_bare_user_by_default(api: RunningApp) -> None:
    body = await api.register("ann@example.com")
    assert set(body) == USER_FIELDS
    assert not await UserSession.all().exists()


# --- the document under the prefix ----------------------------------------------------------


async def test_the_document_is_also_under_the_prefix(make_app: Any) -> None:
    SpecificationBuilder.reset()  # type: ignore[no-untyped-call]

    def docs_on(app: Any) -> None:
        app.config.OAS = True

    api: RunningApp = await make_app(url_prefix="/auth-api", setup=docs_on)
    api.prefix = "/auth-api"
    under_prefix = await api.client.get(api.url("/openapi.json"))
    assert under_prefix.status_code == 200
    document = under_prefix.json()
    assert document == (await api.client.get("/docs/openapi.json")).json()
    assert document["openapi"].startswith("3.") and "/auth-api/users/me" in document["paths"]
    assert "/auth-api/openapi.json" not in document["paths"]
    SpecificationBuilder.reset()  # type: ignore[no-untyped-call]
