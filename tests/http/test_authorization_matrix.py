"""Every organization and admin route by every kind of caller -> the expected status,
with bearer tokens and with the cookie transport (one server in ``AUTH_TRANSPORT=both``).

The world of each cell: organization "Acme" with an owner, an admin, a member and a target
member; an "owner of another organization" who is not in Acme; a superuser who is in no
organization; a newcomer who is in none. Each cell starts from that world again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
import pytest_asyncio

from sanic_auth_sessions import Membership, Organization, OrganizationRole, User, UserSession
from sanic_auth_sessions.core.models import PasswordResetToken
from sanic_auth_sessions.db.connection import transaction
from sanic_auth_sessions.services.manager import utcnow

from ..conftest import DATABASES, STRONG_PASSWORD, RunningApp, bearer
from ..helpers import ROOT_EMAIL, assert_error, fill
from ..shared_server import empty_tables, shared_server

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.coverage_paused]

CALLERS = ("anonymous", "member", "admin", "owner", "other_owner", "superuser")
TRANSPORTS = ("bearer", "cookie")
PAGE_ORIGIN = "https://app.example.com"
MEMBERS = ("owner", "admin", "member")

# (name, method, path, JSON body, statuses in the order of CALLERS)
ORGANIZATION_ROUTES: list[tuple[str, str, str, Any, tuple[int, ...]]] = [
    ("create", "POST", "/organizations", {"name": "New"}, (401, 201, 201, 201, 201, 201)),
    ("mine", "GET", "/organizations/me", None, (401, 200, 200, 200, 200, 200)),
    ("get", "GET", "/organizations/{org}", None, (401, 200, 200, 200, 404, 200)),
    ("get_missing", "GET", "/organizations/{missing}", None, (401, 404, 404, 404, 404, 404)),
    ("update", "PATCH", "/organizations/{org}", {"name": "X"}, (401, 403, 200, 200, 404, 200)),
    ("delete", "DELETE", "/organizations/{org}", None, (401, 403, 403, 200, 404, 200)),
    ("members", "GET", "/organizations/{org}/members", None, (401, 200, 200, 200, 404, 200)),
    (
        "add_member",
        "POST",
        "/organizations/{org}/members",
        {"email": "newcomer@example.com", "role": "member"},
        (401, 403, 201, 201, 404, 201),
    ),
    (
        "add_admin",
        "POST",
        "/organizations/{org}/members",
        {"email": "newcomer@example.com", "role": "admin"},
        (401, 403, 201, 201, 404, 201),
    ),
    (
        "add_owner",
        "POST",
        "/organizations/{org}/members",
        {"email": "newcomer@example.com", "role": "owner"},
        (401, 403, 403, 201, 404, 201),
    ),
    (
        "promote_to_admin",
        "PATCH",
        "/organizations/{org}/members/{target}",
        {"role": "admin"},
        (401, 403, 200, 200, 404, 200),
    ),
    (
        "promote_to_owner",
        "PATCH",
        "/organizations/{org}/members/{target}",
        {"role": "owner"},
        (401, 403, 403, 200, 404, 200),
    ),
    (
        "demote_admin",
        "PATCH",
        "/organizations/{org}/members/{admin}",
        {"role": "member"},
        (401, 403, 200, 200, 404, 200),
    ),
    (
        "demote_last_owner",
        "PATCH",
        "/organizations/{org}/members/{owner}",
        {"role": "admin"},
        (401, 403, 403, 409, 404, 409),
    ),
    (
        "remove_member",
        "DELETE",
        "/organizations/{org}/members/{target}",
        None,
        (401, 403, 200, 200, 404, 200),
    ),
    (
        "remove_last_owner",
        "DELETE",
        "/organizations/{org}/members/{owner}",
        None,
        (401, 403, 403, 409, 404, 409),
    ),
    # Leaving: the caller's own membership (the superuser has none).
    (
        "leave",
        "DELETE",
        "/organizations/{org}/members/{self}",
        None,
        (401, 200, 200, 409, 404, 404),
    ),
]
HOST_ROUTES: list[tuple[str, str, str, Any, tuple[int, ...]]] = [
    # The host app's own route, guarded by require_org_role("admin").
    ("host_report", "GET", "/host/orgs/{org}/report", None, (401, 403, 200, 200, 404, 200)),
]
SUPERUSER_ONLY = (401, 403, 403, 403, 403)
ADMIN_ROUTES: list[tuple[str, str, str, Any, tuple[int, ...]]] = [
    (name, method, path, body, (*SUPERUSER_ONLY, status))
    for name, method, path, body, status in [
        ("users", "GET", "/admin/users", None, 200),
        (
            "create_user",
            "POST",
            "/admin/users",
            {"email": "created@example.com", "password": STRONG_PASSWORD},
            201,
        ),
        ("get_user", "GET", "/admin/users/{target}", None, 200),
        ("update_user", "PATCH", "/admin/users/{target}", {"first_name": "T"}, 200),
        ("delete_user", "DELETE", "/admin/users/{target}", None, 200),
        ("activate_user", "POST", "/admin/users/{target}/activate", None, 200),
        ("deactivate_user", "POST", "/admin/users/{target}/deactivate", None, 200),
        (
            "bulk_action",
            "POST",
            "/admin/users/bulk-action",
            {"action": "deactivate", "user_ids": ["{target}"]},
            200,
        ),
        ("organizations", "GET", "/admin/organizations", None, 200),
        ("create_organization", "POST", "/admin/organizations", {"name": "Made"}, 201),
        ("get_organization", "GET", "/admin/organizations/{org}", None, 200),
        ("update_organization", "PATCH", "/admin/organizations/{org}", {"is_active": False}, 200),
        ("delete_organization", "DELETE", "/admin/organizations/{org}", None, 200),
        ("organization_members", "GET", "/admin/organizations/{org}/members", None, 200),
        (
            "add_organization_member",
            "POST",
            "/admin/organizations/{org}/members",
            {"email": "newcomer@example.com", "role": "member"},
            201,
        ),
        (
            "remove_organization_member",
            "DELETE",
            "/admin/organizations/{org}/members/{target}",
            None,
            200,
        ),
        ("sessions", "GET", "/admin/sessions", None, 200),
        ("revoke_session", "DELETE", "/admin/sessions/{session}", None, 200),
    ]
]
ROUTES = ORGANIZATION_ROUTES + HOST_ROUTES + ADMIN_ROUTES
CELLS = [
    pytest.param(
        method, path, body, caller, statuses[i], transport, id=f"{name}-{caller}-{transport}"
    )
    for transport in TRANSPORTS
    for name, method, path, body, statuses in ROUTES
    for i, caller in enumerate(CALLERS)
]


@dataclass
class World:
    api: RunningApp
    tokens: dict[str, dict[str, Any]]
    places: dict[str, str]


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=DATABASES)
async def callers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[RunningApp, dict[str, dict[str, Any]]]]:
    async with shared_server(
        request.param,
        tmp_path_factory.mktemp("matrix"),
        transport="both",
        csrf_trusted_origins=PAGE_ORIGIN,
    ) as api:
        await empty_tables()
        tokens = {"superuser": await api.login(ROOT_EMAIL)}
        for name in ("member", "admin", "owner", "other_owner"):
            tokens[name] = await api.user_with_tokens(f"{name.replace('_', '-')}@example.com")
        for caller_tokens in tokens.values():
            caller_tokens["cookie_headers"] = await cookie_login(api, caller_tokens)
        yield api, tokens


async def cookie_login(api: RunningApp, tokens: dict[str, Any]) -> dict[str, str]:
    """A second session of the caller, logged in by cookie: the headers a page sends with it
    (its cookies, the CSRF header and its origin)."""
    response = await api.client.post(
        api.url("/auth/login"),
        json={"email": tokens["user"]["email"], "password": STRONG_PASSWORD},
        headers={"X-Auth-Transport": "cookie", "Origin": PAGE_ORIGIN},
    )
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "cookie"
    jar = response.cookies
    api.client.cookies.clear()  # the shared client sends only what each cell gives it
    return {
        "Cookie": f"access_token={jar['access_token']}; csrf_token={jar['csrf_token']}",
        "X-CSRF-Token": jar["csrf_token"],
        "Origin": PAGE_ORIGIN,
    }


@pytest_asyncio.fixture(loop_scope="module")
async def world(callers: tuple[RunningApp, dict[str, dict[str, Any]]]) -> World:
    """Acme and another organization, a target member, a newcomer and a target session
    (written in one transaction)."""
    api, tokens = callers
    caller_ids = [t["user"]["id"] for t in tokens.values()]
    async with transaction():  # one commit, not one per statement
        await Membership.all().delete()
        await Organization.all().delete()
        await PasswordResetToken.all().delete()
        await UserSession.exclude(user_id__in=caller_ids).delete()
        await User.exclude(id__in=caller_ids).delete()

        target = await User.create(email="target@example.com", hashed_password="x")
        await User.create(email="newcomer@example.com", hashed_password="x")
        now = utcnow()
        session = await UserSession.create(
            user=target,
            refresh_token_jti=uuid4().hex,
            last_used_at=now,
            expires_at=now + timedelta(days=1),
        )
        acme = await Organization.create(name="Acme", slug="acme")
        other = await Organization.create(name="Other", slug="other")
        for name in MEMBERS:
            await Membership.create(
                organization=acme, user_id=tokens[name]["user"]["id"], role=OrganizationRole(name)
            )
        await Membership.create(organization=acme, user=target, role=OrganizationRole.MEMBER)
        await Membership.create(
            organization=other,
            user_id=tokens["other_owner"]["user"]["id"],
            role=OrganizationRole.OWNER,
        )
    places = {
        "org": str(acme.id),
        "missing": str(uuid4()),
        "target": str(target.id),
        "session": str(session.id),
        **{name: tokens[name]["user"]["id"] for name in MEMBERS},
    }
    return World(api, tokens, places)


@pytest.mark.parametrize(("method", "path", "body", "caller", "expected", "transport"), CELLS)
async def test_authorization_matrix(
    world: World, method: str, path: str, body: Any, caller: str, expected: int, transport: str
) -> None:
    api = world.api
    places = dict(world.places)
    if caller != "anonymous":
        places["self"] = world.tokens[caller]["user"]["id"]
    else:
        places["self"] = str(uuid4())
    url = fill(path, places)
    if not url.startswith("/host/"):
        url = api.url(url)
    if caller == "anonymous":
        headers = {"Origin": PAGE_ORIGIN} if transport == "cookie" else {}
    elif transport == "cookie":
        headers = world.tokens[caller]["cookie_headers"]
    else:
        headers = bearer(world.tokens[caller])
    response = await api.client.request(
        method, url, json=fill(body, places) if body is not None else None, headers=headers
    )
    if expected >= 400:
        assert_error(response, expected)
    else:
        assert response.status_code == expected, response.text
