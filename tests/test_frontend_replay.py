"""The original project's frontend, replayed request by request against the example app.

SEED-COMPAT.md lists what the original Next.js frontend sends (§2, §5 A to E) and the shapes its
screens read (§1). Each test below is one screen, in the order a user clicks through them: the
requests go over real HTTP to one ``python -m example_app`` process started for the module, and
each answer is checked for its status and the fields the screen reads. The original's own
end-to-end expectations of §5.D are replayed too.

Not replayed, because no backend can make them work (SEED-COMPAT §7):

- the settings page sends ``PATCH /users/me/password`` without a bearer (its request interceptor
  skips every URL containing ``/password``), which any bearer backend answers 401; the password
  change is replayed below with the bearer a fixed frontend would send;
- the social-login buttons refuse any authorization URL outside a fixed list of provider hosts,
  so a generic OIDC provider never starts a login;
The example app runs as the frontend needs it: ``REGISTER_RETURNS_TOKENS=true`` (its register
form wants tokens in the register answer, §5.G; the original backend did not give them) and
``REFRESH_REUSE_GRACE_S=5`` (its tabs share tokens and may refresh at once). Most users are
created the way the admin users page creates them.

Optional fields the screens do not read (``phone_number``, ``locale``: §5.G) are not asserted.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import httpx
import pytest

from .conftest import OTHER_STRONG_PASSWORD, STRONG_PASSWORD
from .example_process import example_app
from .serving import loopback_sync_client

API = "/api/v1"
ADMIN_EMAIL = "root@example.com"
FRONTEND_ORIGIN = "http://localhost:3000"

CHROME_ON_MACOS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
FIREFOX_ON_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
EDGE_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0"
)

# The original's shapes (SEED-COMPAT §1), without the optional fields of §5.G.
USER_FIELDS = {
    "id",
    "email",
    "first_name",
    "last_name",
    "is_active",
    "is_superuser",
    "created_at",
    "updated_at",
}
TOKEN_FIELDS = {"access_token", "refresh_token", "token_type", "expires_in"}
SESSION_FIELDS = {
    "id",
    "device_name",
    "device_id",
    "ip_address",
    "location_city",
    "location_country",
    "last_used_at",
    "created_at",
    "expires_at",
    "is_current",
}
ADMIN_SESSION_FIELDS = {
    "id",
    "user_id",
    "user_email",
    "user_full_name",
    "device_name",
    "device_id",
    "ip_address",
    "location_city",
    "location_country",
    "last_used_at",
    "created_at",
    "expires_at",
    "is_active",
}
ORGANIZATION_FIELDS = {
    "id",
    "name",
    "slug",
    "description",
    "is_active",
    "created_at",
    "updated_at",
    "member_count",
}
MEMBER_FIELDS = {"user_id", "email", "first_name", "last_name", "role", "joined_at"}
PAGINATION_FIELDS = {"total", "page", "page_size", "total_pages", "has_next", "has_prev"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """One example-app process for the whole module, as a user starts it."""
    env = {
        "FIRST_SUPERUSER_EMAIL": ADMIN_EMAIL,
        "FIRST_SUPERUSER_PASSWORD": STRONG_PASSWORD,
        "BACKEND_CORS_ORIGINS": f'["{FRONTEND_ORIGIN}"]',
        "REGISTER_RETURNS_TOKENS": "true",
        "REFRESH_REUSE_GRACE_S": "5",
        # The replay checks the front end's calls, not the cost of hashing: at the default
        # cost (12) its logins and registrations are 13 s of CPU.
        "SANIC_AUTH_BCRYPT_ROUNDS": "4",
    }
    directory = tmp_path_factory.mktemp("frontend-replay")
    with (
        example_app(directory, "-m", "example_app", **env) as base_url,
        loopback_sync_client(base_url, timeout=30) as http,
    ):
        yield http


@pytest.fixture(scope="module")
def admin(client: httpx.Client) -> dict[str, Any]:
    """The superuser's login answer (the admin pages' bearer)."""
    return login(client, ADMIN_EMAIL, STRONG_PASSWORD)


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def login(
    client: httpx.Client, email: str, password: str = STRONG_PASSWORD, user_agent: str = ""
) -> dict[str, Any]:
    """The login form: ``POST /auth/login`` with a JSON body, as the frontend sends it."""
    headers = {"User-Agent": user_agent} if user_agent else {}
    response = client.post(
        f"{API}/auth/login", json={"email": email, "password": password}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def new_user(
    client: httpx.Client,
    admin: dict[str, Any],
    first_name: str = "Ada",
    last_name: str | None = "Lovelace",
    is_active: bool = True,
    marker: str = "",
) -> dict[str, Any]:
    """A fresh user, created the way the admin users page creates one."""
    email = f"{marker or 'user'}-{uuid4().hex[:10]}@example.com"
    response = client.post(
        f"{API}/admin/users",
        json={
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "password": STRONG_PASSWORD,
            "is_superuser": False,
        },
        headers=bearer(admin),
    )
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()
    if not is_active:
        deactivated = client.post(
            f"{API}/admin/users/{user['id']}/deactivate", headers=bearer(admin)
        )
        assert deactivated.status_code == 200, deactivated.text
        user["is_active"] = False
    return user


def message(response: httpx.Response, status: int = 200) -> str:
    """The ``MessageResponse`` the frontend's toasts show."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is True, body
    text: str = body["message"]
    return text


def assert_page(body: dict[str, Any], total: int, page: int = 1, limit: int = 20) -> None:
    """A ``PaginatedResponse`` as the tables read it: ``data``, then ``pagination`` for the
    footer ("Showing 21 to 25 of 25 users", Previous/Next, the page buttons)."""
    pagination = body["pagination"]
    assert pagination.keys() >= PAGINATION_FIELDS, pagination
    assert (pagination["total"], pagination["page"]) == (total, page), pagination
    assert len(body["data"]) == min(limit, max(total - (page - 1) * limit, 0))
    assert pagination["has_prev"] is (page > 1)
    assert pagination["has_next"] is (page * limit < total)
    if body["data"]:  # the footer is drawn only under rows
        assert pagination["total_pages"] == -(-total // limit)
        start = (page - 1) * limit + 1
        assert footer(pagination) == (start, start + len(body["data"]) - 1, total), pagination


def footer(pagination: dict[str, Any]) -> tuple[int, int, int]:
    """The table footer's "Showing <first> to <last> of <total>", computed as the page does."""
    page, page_size, total = pagination["page"], pagination["page_size"], pagination["total"]
    return (page - 1) * page_size + 1, min(page * page_size, total), total


def test_register_form_signs_the_new_user_in(client: httpx.Client) -> None:
    email = f"signup-{uuid4().hex[:10]}@example.com"
    response = client.post(
        f"{API}/auth/register",
        json={"email": email, "password": STRONG_PASSWORD, "first_name": "Grace", "last_name": ""},
        headers={"User-Agent": SAFARI_ON_IPHONE},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    # What the form reads: the tokens and ``user``; the user's fields stay at the top level.
    assert body.keys() >= USER_FIELDS | TOKEN_FIELDS | {"user"}
    assert body["user"]["email"] == body["email"] == email
    me = client.get(f"{API}/users/me", headers=bearer(body))
    assert (me.status_code, me.json()["first_name"]) == (200, "Grace")
    sessions = client.get(f"{API}/sessions/me", headers=bearer(body)).json()["sessions"]
    assert [(s["device_name"], s["is_current"]) for s in sessions] == [("Apple iPhone", True)]


def test_two_tabs_refreshing_at_once_stay_signed_in(
    client: httpx.Client, admin: dict[str, Any]
) -> None:
    user = new_user(client, admin)
    tokens = login(client, user["email"])
    # Both tabs hold the same refresh token; the second refresh comes a moment after the first.
    first = client.post(f"{API}/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    second = client.post(f"{API}/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert (first.status_code, second.status_code) == (200, 200), second.text
    assert second.json()["refresh_token"] != tokens["refresh_token"]
    for tab in (first.json(), second.json()):
        assert client.get(f"{API}/users/me", headers=bearer(tab)).status_code == 200
    # One rotation: the second tab got the session's current refresh token, usable once more.
    again = client.post(
        f"{API}/auth/refresh", json={"refresh_token": second.json()["refresh_token"]}
    )
    assert again.status_code == 200, again.text


def test_sign_in_refresh_and_profile_page(client: httpx.Client, admin: dict[str, Any]) -> None:
    user = new_user(client, admin, first_name="Ada", last_name="Lovelace")

    tokens = login(client, user["email"], user_agent=CHROME_ON_MACOS)
    assert TOKEN_FIELDS | {"user"} <= tokens.keys()
    assert tokens["token_type"] == "bearer"
    assert isinstance(tokens["expires_in"], int) and tokens["expires_in"] > 0
    assert tokens["user"].keys() >= USER_FIELDS
    assert tokens["user"]["id"] == user["id"]
    assert tokens["user"]["email"] == user["email"]
    assert tokens["user"]["is_superuser"] is False and tokens["user"]["is_active"] is True

    # The client's interceptor refreshes before the access token runs out.
    refreshed = client.post(f"{API}/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    tokens = refreshed.json()
    assert tokens.keys() >= TOKEN_FIELDS
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] > 0

    me = client.get(f"{API}/users/me", headers=bearer(tokens))
    assert me.status_code == 200, me.text
    assert me.json().keys() >= USER_FIELDS
    assert me.json()["email"] == user["email"]
    assert (me.json()["first_name"], me.json()["last_name"]) == ("Ada", "Lovelace")

    # The profile form saves the first name; a cleared last name is sent as null.
    renamed = client.patch(
        f"{API}/users/me", json={"first_name": "Augusta"}, headers=bearer(tokens)
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json().keys() >= USER_FIELDS
    assert (renamed.json()["first_name"], renamed.json()["last_name"]) == ("Augusta", "Lovelace")
    cleared = client.patch(f"{API}/users/me", json={"last_name": None}, headers=bearer(tokens))
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["first_name"], cleared.json()["last_name"]) == ("Augusta", "")
    me = client.get(f"{API}/users/me", headers=bearer(tokens))
    assert (me.json()["first_name"], me.json()["last_name"]) == ("Augusta", "")


def test_sessions_page(client: httpx.Client, admin: dict[str, Any]) -> None:
    user = new_user(client, admin)
    others = [
        login(client, user["email"], user_agent=agent)
        for agent in (FIREFOX_ON_LINUX, SAFARI_ON_IPHONE, EDGE_ON_WINDOWS)
    ]
    current = login(client, user["email"], user_agent=CHROME_ON_MACOS)

    listed = client.get(f"{API}/sessions/me", headers=bearer(current))
    assert listed.status_code == 200, listed.text
    sessions = listed.json()["sessions"]
    assert listed.json()["total"] == len(sessions) == 4
    assert all(row.keys() >= SESSION_FIELDS for row in sessions)
    # The page marks the calling session; the original guesses it is the first row.
    assert [row["is_current"] for row in sessions] == [True, False, False, False]
    assert sessions[0]["device_name"] == "Chrome on macOS"

    # "Revoke" on one other device.
    firefox = next(row for row in sessions if row["device_name"] == "Firefox on Linux")
    revoked = client.delete(f"{API}/sessions/{firefox['id']}", headers=bearer(current))
    assert message(revoked) == "Session revoked: Firefox on Linux"
    assert client.get(f"{API}/users/me", headers=bearer(others[0])).status_code == 401

    # "Revoke all others": the frontend deletes every non-current row, one request each.
    sessions = client.get(f"{API}/sessions/me", headers=bearer(current)).json()["sessions"]
    assert len(sessions) == 3
    for row in sessions:
        if not row["is_current"]:
            revoked = client.delete(f"{API}/sessions/{row['id']}", headers=bearer(current))
            assert message(revoked) == f"Session revoked: {row['device_name']}"
    listed = client.get(f"{API}/sessions/me", headers=bearer(current))
    assert listed.json()["total"] == 1
    assert [row["is_current"] for row in listed.json()["sessions"]] == [True]
    for tokens in others:
        assert client.get(f"{API}/users/me", headers=bearer(tokens)).status_code == 401

    # "Clean up expired": the three revoked rows go.
    cleaned = client.delete(f"{API}/sessions/me/expired", headers=bearer(current))
    assert message(cleaned) == "Cleaned up 3 expired sessions"
    again = client.delete(f"{API}/sessions/me/expired", headers=bearer(current))
    assert message(again) == "Cleaned up 0 expired sessions"
    assert client.get(f"{API}/users/me", headers=bearer(current)).status_code == 200


def test_revoking_the_last_listed_session_keeps_the_caller_signed_in(
    client: httpx.Client, admin: dict[str, Any]
) -> None:
    """The original's ``test_revoke_own_session``: it revokes the LAST row, believing it is
    not the caller's own (SEED-COMPAT §5.D)."""
    user = new_user(client, admin)
    first = login(client, user["email"])
    login(client, user["email"])

    sessions = client.get(f"{API}/sessions/me", headers=bearer(first)).json()["sessions"]
    initial_count = len(sessions)
    assert initial_count == 2
    revoked = client.delete(f"{API}/sessions/{sessions[-1]['id']}", headers=bearer(first))
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["success"] is True

    updated = client.get(f"{API}/sessions/me", headers=bearer(first))
    assert updated.status_code == 200, updated.text
    assert updated.json()["total"] == initial_count - 1
    assert client.get(f"{API}/users/me", headers=bearer(first)).status_code == 200


def test_organization_pages(client: httpx.Client, admin: dict[str, Any]) -> None:
    owner = new_user(client, admin, first_name="Grace", last_name="Hopper")
    member = new_user(client, admin, first_name="Ada", last_name="Lovelace")
    helper = new_user(client, admin, first_name="Charles", last_name="Babbage")
    slug = f"analytical-{uuid4().hex[:8]}"
    created = client.post(
        f"{API}/admin/organizations",
        json={"name": "Analytical Engines", "slug": slug, "description": "Difference engines"},
        headers=bearer(admin),
    )
    assert created.status_code == 201, created.text
    org_id = created.json()["id"]
    for user, role in ((owner, "owner"), (member, "member"), (helper, "admin")):
        added = client.post(
            f"{API}/admin/organizations/{org_id}/members",
            json={"user_id": user["id"], "role": role},
            headers=bearer(admin),
        )
        assert added.status_code == 201, added.text

    tokens = login(client, member["email"])
    mine = client.get(f"{API}/organizations/me", headers=bearer(tokens))
    assert mine.status_code == 200, mine.text
    assert isinstance(mine.json(), list)  # a bare list, not a page
    assert len(mine.json()) == 1
    (organization,) = mine.json()
    assert ORGANIZATION_FIELDS | {"role"} <= organization.keys()
    assert organization["id"] == org_id and organization["slug"] == slug
    assert (organization["name"], organization["description"]) == (
        "Analytical Engines",
        "Difference engines",
    )
    assert (organization["role"], organization["member_count"], organization["is_active"]) == (
        "member",
        3,
        True,
    )

    detail = client.get(f"{API}/organizations/{org_id}", headers=bearer(tokens))
    assert detail.status_code == 200, detail.text
    assert detail.json().keys() >= ORGANIZATION_FIELDS
    assert (detail.json()["id"], detail.json()["member_count"]) == (org_id, 3)

    members_url = f"{API}/organizations/{org_id}/members"
    members = client.get(members_url, params={"page": 1, "limit": 20}, headers=bearer(tokens))
    assert members.status_code == 200, members.text
    assert_page(members.json(), total=3)
    rows = members.json()["data"]
    assert all(row.keys() >= MEMBER_FIELDS for row in rows)
    assert {(row["email"], row["role"]) for row in rows} == {
        (owner["email"], "owner"),
        (member["email"], "member"),
        (helper["email"], "admin"),
    }
    # Two to a page: a full first page, then a last page with one row.
    pages = [
        client.get(members_url, params={"page": page, "limit": 2}, headers=bearer(tokens))
        for page in (1, 2)
    ]
    assert [page.status_code for page in pages] == [200, 200]
    assert_page(pages[0].json(), total=3, page=1, limit=2)
    assert_page(pages[1].json(), total=3, page=2, limit=2)
    assert {row["user_id"] for page in pages for row in page.json()["data"]} == {
        owner["id"],
        member["id"],
        helper["id"],
    }


def utc_days(count: int, today: datetime) -> list[str]:
    """The chart labels of the last ``count`` UTC days, oldest first ("Nov 05")."""
    return [(today - timedelta(days=back)).strftime("%b %d") for back in reversed(range(count))]


def test_admin_dashboard(client: httpx.Client, admin: dict[str, Any]) -> None:
    before = client.get(f"{API}/admin/stats", headers=bearer(admin))
    assert before.status_code == 200, before.text
    new_user(client, admin, marker="dashboard")
    inactive = new_user(client, admin, marker="dashboard", is_active=False)
    members = [new_user(client, admin) for _ in range(3)] + [inactive]
    name = f"Dashboard {uuid4().hex[:8]}"
    created = client.post(
        f"{API}/admin/organizations",
        json={"name": name, "slug": name.lower().replace(" ", "-"), "description": None},
        headers=bearer(admin),
    )
    assert created.status_code == 201, created.text
    for user in members:
        added = client.post(
            f"{API}/admin/organizations/{created.json()['id']}/members",
            json={"user_id": user["id"], "role": "member"},
            headers=bearer(admin),
        )
        assert added.status_code == 201, added.text

    days_before = datetime.now(timezone.utc)
    after = client.get(f"{API}/admin/stats", headers=bearer(admin))
    days_after = datetime.now(timezone.utc)
    assert after.status_code == 200, after.text
    stats, old = after.json(), before.json()

    assert len(stats["user_growth"]) == 30
    assert len(stats["registration_activity"]) == 14
    growth_days = [item["date"] for item in stats["user_growth"]]
    assert growth_days in (utc_days(30, days_before), utc_days(30, days_after))
    activity_days = [item["date"] for item in stats["registration_activity"]]
    assert activity_days in (utc_days(14, days_before), utc_days(14, days_after))
    # Five new users today (one inactive), if the day did not turn between the two calls.
    if old["user_growth"][-1]["date"] == stats["user_growth"][-1]["date"]:
        assert stats["user_growth"][-1]["total_users"] == old["user_growth"][-1]["total_users"] + 5
        assert (
            stats["user_growth"][-1]["active_users"] == old["user_growth"][-1]["active_users"] + 4
        )
        assert (
            stats["registration_activity"][-1]["registrations"]
            == old["registration_activity"][-1]["registrations"] + 5
        )

    def total(**query: Any) -> int:
        response = client.get(
            f"{API}/admin/users", params={"page": 1, "limit": 1, **query}, headers=bearer(admin)
        )
        assert response.status_code == 200, response.text
        count: int = response.json()["pagination"]["total"]
        return count

    active, inactive_count = total(is_active="true"), total(is_active="false")
    assert stats["user_status"] == [
        {"name": "Active", "value": active},
        {"name": "Inactive", "value": inactive_count},
    ]
    assert stats["user_growth"][-1]["total_users"] == active + inactive_count
    assert stats["user_growth"][-1]["active_users"] == active
    old_status = {item["name"]: item["value"] for item in old["user_status"]}
    assert (active, inactive_count) == (old_status["Active"] + 4, old_status["Inactive"] + 1)

    distribution = stats["organization_distribution"]
    assert 1 <= len(distribution) <= 6
    assert {"name": name, "value": 4} in distribution
    values = [item["value"] for item in distribution]
    assert values == sorted(values, reverse=True)

    # The dashboard's older cards count from the first page of the lists.
    users = client.get(
        f"{API}/admin/users", params={"page": 1, "limit": 100}, headers=bearer(admin)
    )
    assert users.status_code == 200, users.text
    assert users.json()["pagination"]["total"] == active + inactive_count
    organizations = client.get(
        f"{API}/admin/organizations", params={"page": 1, "limit": 100}, headers=bearer(admin)
    )
    assert organizations.status_code == 200, organizations.text
    assert organizations.json()["pagination"]["total"] >= 1


def test_admin_users_page(client: httpx.Client, admin: dict[str, Any]) -> None:
    marker = f"table{uuid4().hex[:6]}"
    older = new_user(client, admin, marker=marker)
    newer = new_user(client, admin, marker=marker)
    new_user(client, admin, marker=marker, is_active=False)

    listed = client.get(
        f"{API}/admin/users",
        params={
            "page": 1,
            "limit": 20,
            "is_active": "true",
            "search": marker,
            "sort_by": "created_at",
            "sort_order": "desc",
        },
        headers=bearer(admin),
    )
    assert listed.status_code == 200, listed.text
    assert_page(listed.json(), total=2)
    rows = listed.json()["data"]
    assert all(row.keys() >= USER_FIELDS for row in rows)
    assert [row["id"] for row in rows] == [newer["id"], older["id"]]
    assert all(row["is_active"] is True for row in rows)

    # "Create user": the form's UserCreate body.
    email = f"created-{uuid4().hex[:10]}@example.com"
    created = client.post(
        f"{API}/admin/users",
        json={
            "email": email,
            "first_name": "Katherine",
            "last_name": "Johnson",
            "password": OTHER_STRONG_PASSWORD,
            "is_superuser": False,
        },
        headers=bearer(admin),
    )
    assert created.status_code == 201, created.text
    user = created.json()
    assert user.keys() >= USER_FIELDS
    assert (user["email"], user["first_name"], user["last_name"]) == (
        email,
        "Katherine",
        "Johnson",
    )
    assert (user["is_active"], user["is_superuser"]) == (True, False)
    login(client, email, OTHER_STRONG_PASSWORD)

    # "Edit user": the form sends every field with PUT; an emptied last name is null.
    edited = client.put(
        f"{API}/admin/users/{user['id']}",
        json={
            "first_name": "Kate",
            "last_name": None,
            "email": email,
            "is_active": True,
            "is_superuser": False,
        },
        headers=bearer(admin),
    )
    assert edited.status_code == 200, edited.text
    assert edited.json().keys() >= USER_FIELDS
    assert (edited.json()["first_name"], edited.json()["last_name"]) == ("Kate", "")
    assert (edited.json()["email"], edited.json()["is_superuser"]) == (email, False)

    # The row's actions menu.
    deactivated = client.post(f"{API}/admin/users/{user['id']}/deactivate", headers=bearer(admin))
    assert message(deactivated) == f"User {email} has been deactivated"
    activated = client.post(f"{API}/admin/users/{user['id']}/activate", headers=bearer(admin))
    assert message(activated) == f"User {email} has been activated"
    deleted = client.delete(f"{API}/admin/users/{user['id']}", headers=bearer(admin))
    assert message(deleted) == f"User {email} has been deleted"
    assert client.get(f"{API}/admin/users/{user['id']}", headers=bearer(admin)).status_code == 404

    # Bulk action on the selected rows; the admin's own row is skipped.
    admin_id = admin["user"]["id"]
    bulk = client.post(
        f"{API}/admin/users/bulk-action",
        json={"action": "deactivate", "user_ids": [older["id"], newer["id"], admin_id]},
        headers=bearer(admin),
    )
    assert message(bulk) == "Bulk deactivate: 2 users affected, 1 skipped"
    assert (bulk.json()["affected_count"], bulk.json()["failed_count"]) == (2, 1)
    assert bulk.json()["failed_ids"] == [admin_id]
    listed = client.get(
        f"{API}/admin/users",
        params={"page": 1, "limit": 20, "is_active": "true", "search": marker},
        headers=bearer(admin),
    )
    assert_page(listed.json(), total=0)


def test_admin_organizations_page(client: httpx.Client, admin: dict[str, Any]) -> None:
    listed = client.get(
        f"{API}/admin/organizations", params={"page": 1, "limit": 20}, headers=bearer(admin)
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["pagination"].keys() >= PAGINATION_FIELDS
    before = listed.json()["pagination"]["total"]

    # "Create organization": name, slug, description.
    slug = f"compilers-{uuid4().hex[:8]}"
    created = client.post(
        f"{API}/admin/organizations",
        json={"name": "Compilers", "slug": slug, "description": "A-0 and after"},
        headers=bearer(admin),
    )
    assert created.status_code == 201, created.text
    organization = created.json()
    assert organization.keys() >= ORGANIZATION_FIELDS
    assert (organization["name"], organization["slug"], organization["description"]) == (
        "Compilers",
        slug,
        "A-0 and after",
    )
    assert (organization["member_count"], organization["is_active"]) == (0, True)
    org_id = organization["id"]
    listed = client.get(
        f"{API}/admin/organizations", params={"page": 1, "limit": 20}, headers=bearer(admin)
    )
    assert listed.json()["pagination"]["total"] == before + 1
    assert all(row.keys() >= ORGANIZATION_FIELDS for row in listed.json()["data"])

    # "Edit organization": PUT with name, a cleared description (null) and is_active.
    edited = client.put(
        f"{API}/admin/organizations/{org_id}",
        json={"name": "Compiler Lab", "description": None, "is_active": True},
        headers=bearer(admin),
    )
    assert edited.status_code == 200, edited.text
    assert edited.json().keys() >= ORGANIZATION_FIELDS
    assert (edited.json()["name"], edited.json()["description"]) == ("Compiler Lab", None)
    assert (edited.json()["slug"], edited.json()["is_active"]) == (slug, True)

    detail = client.get(f"{API}/admin/organizations/{org_id}", headers=bearer(admin))
    assert detail.status_code == 200, detail.text
    assert detail.json().keys() >= ORGANIZATION_FIELDS
    assert (detail.json()["name"], detail.json()["member_count"]) == ("Compiler Lab", 0)

    # The members dialog: add by user id (the role picker offers "guest" too), then remove.
    members_url = f"{API}/admin/organizations/{org_id}/members"
    empty = client.get(members_url, params={"page": 1, "limit": 20}, headers=bearer(admin))
    assert empty.status_code == 200, empty.text
    assert_page(empty.json(), total=0)
    member = new_user(client, admin, first_name="Jean", last_name="Sammet")
    guest = new_user(client, admin, first_name="Frances", last_name="Allen")
    for user, role in ((member, "member"), (guest, "guest")):
        added = client.post(
            members_url, json={"user_id": user["id"], "role": role}, headers=bearer(admin)
        )
        assert added.status_code == 201, added.text
        assert added.json().keys() >= MEMBER_FIELDS
        assert (added.json()["user_id"], added.json()["email"], added.json()["role"]) == (
            user["id"],
            user["email"],
            role,
        )
    members = client.get(members_url, params={"page": 1, "limit": 20}, headers=bearer(admin))
    assert members.status_code == 200, members.text
    assert_page(members.json(), total=2)
    assert all(row.keys() >= MEMBER_FIELDS for row in members.json()["data"])
    assert {(row["user_id"], row["role"]) for row in members.json()["data"]} == {
        (member["id"], "member"),
        (guest["id"], "guest"),
    }

    removed = client.delete(f"{members_url}/{guest['id']}", headers=bearer(admin))
    assert message(removed) == f"User {guest['email']} removed from organization Compiler Lab"
    members = client.get(members_url, params={"page": 1, "limit": 20}, headers=bearer(admin))
    assert_page(members.json(), total=1)

    deleted = client.delete(f"{API}/admin/organizations/{org_id}", headers=bearer(admin))
    assert message(deleted) == "Organization Compiler Lab has been deleted"
    gone = client.get(f"{API}/admin/organizations/{org_id}", headers=bearer(admin))
    assert gone.status_code == 404


def test_admin_sessions_page(client: httpx.Client, admin: dict[str, Any]) -> None:
    user = new_user(client, admin, first_name="Radia", last_name="Perlman")
    tokens = login(client, user["email"], user_agent=SAFARI_ON_IPHONE)

    listed = client.get(
        f"{API}/admin/sessions",
        params={"page": 1, "limit": 20, "is_active": "true"},
        headers=bearer(admin),
    )
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert_page(body, total=body["pagination"]["total"])
    assert all(row.keys() >= ADMIN_SESSION_FIELDS for row in body["data"])
    assert all(row["is_active"] is True for row in body["data"])
    (row,) = [row for row in body["data"] if row["user_id"] == user["id"]]
    assert (row["user_email"], row["user_full_name"]) == (user["email"], "Radia Perlman")
    assert row["device_name"] == "Apple iPhone"
    assert client.get(f"{API}/users/me", headers=bearer(tokens)).status_code == 200


def test_password_change_reset_and_sign_out(client: httpx.Client, admin: dict[str, Any]) -> None:
    user = new_user(client, admin)
    email = user["email"]
    current = login(client, email, user_agent=CHROME_ON_MACOS)
    other = login(client, email, user_agent=FIREFOX_ON_LINUX)

    # Settings > Password (sent here with the bearer: see the module's docstring).
    changed = client.patch(
        f"{API}/users/me/password",
        json={"current_password": STRONG_PASSWORD, "new_password": OTHER_STRONG_PASSWORD},
        headers=bearer(current),
    )
    assert message(changed) == "Password changed successfully"
    assert client.get(f"{API}/users/me", headers=bearer(current)).status_code == 200
    assert client.get(f"{API}/users/me", headers=bearer(other)).status_code == 401
    old_password = client.post(
        f"{API}/auth/login", json={"email": email, "password": STRONG_PASSWORD}
    )
    assert old_password.status_code == 401, old_password.text

    # "Forgot password?" on the login page.
    requested = client.post(f"{API}/auth/password-reset/request", json={"email": email})
    assert message(requested) == (
        "If your email is registered, you will receive a password reset link shortly"
    )

    # "Log out" in the user menu.
    logged_out = client.post(
        f"{API}/auth/logout",
        json={"refresh_token": current["refresh_token"]},
        headers=bearer(current),
    )
    assert message(logged_out) == "Logged out successfully"
    assert client.get(f"{API}/users/me", headers=bearer(current)).status_code == 401

    # "Log out of all devices".
    devices = [
        login(client, email, OTHER_STRONG_PASSWORD, user_agent=agent)
        for agent in (CHROME_ON_MACOS, SAFARI_ON_IPHONE, EDGE_ON_WINDOWS)
    ]
    active = client.get(f"{API}/sessions/me", headers=bearer(devices[0])).json()["total"]
    assert active == 3
    everywhere = client.post(f"{API}/auth/logout-all", headers=bearer(devices[0]))
    assert message(everywhere) == (
        "Successfully logged out from all devices (3 sessions terminated)"
    )
    for tokens in devices:
        assert client.get(f"{API}/users/me", headers=bearer(tokens)).status_code == 401
        refused = client.post(
            f"{API}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refused.status_code == 401, refused.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/admin/users/{id}", {"first_name": "Nobody"}),
        ("/admin/organizations/{id}", {"name": "Nobody"}),
        ("/organizations/{id}", {"name": "Nobody"}),
    ],
)
def test_the_browser_may_put_from_the_frontends_origin(
    client: httpx.Client, admin: dict[str, Any], path: str, body: dict[str, str]
) -> None:
    """The preflight a browser sends before each PUT of the edit dialogs."""
    url = API + path.format(id=uuid4())
    preflight = client.options(
        url,
        headers={
            "Origin": FRONTEND_ORIGIN,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code in (200, 204), preflight.text
    assert preflight.headers["access-control-allow-origin"] == FRONTEND_ORIGIN
    methods = preflight.headers["access-control-allow-methods"].upper()
    assert "PUT" in {method.strip() for method in methods.split(",")}
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type"} <= {name.strip() for name in allowed.split(",")}
    # The request itself is answered with the origin allowed, so the page can read it.
    answer = client.put(
        url,
        json=body,
        headers={"Origin": FRONTEND_ORIGIN, **bearer(admin)},
    )
    assert answer.status_code == 404, answer.text
    assert answer.headers["access-control-allow-origin"] == FRONTEND_ORIGIN
