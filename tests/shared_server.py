"""One server per database for a whole test module, with a first superuser and a host route.

Starting a server costs more than most tests, so the organization, admin, pagination and
matrix modules share one per database; each test starts from :func:`empty_tables`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sanic import HTTPResponse, Request, Sanic, json

from sanic_auth_sessions import (
    InMemoryMailer,
    Membership,
    Organization,
    OrganizationRole,
    User,
    UserSession,
    require_org_role,
)
from sanic_auth_sessions.core.models import PasswordResetToken
from sanic_auth_sessions.db.connection import transaction

from .conftest import (
    STRONG_PASSWORD,
    RunningApp,
    bearer,
    build_app,
    empty_database_url,
    start_app,
    stop_app,
)
from .helpers import ROOT_EMAIL


def host_report_route(app: Sanic) -> None:
    """A host app's own organization-scoped route, as in the example app."""

    @app.get("/host/orgs/<org_id:uuid>/report")
    @require_org_role("admin")
    async def report(request: Request, org_id: Any) -> HTTPResponse:
        membership = request.ctx.membership
        return json(
            {
                "organization": request.ctx.organization.name,
                "role": membership.role.value if membership else None,
            }
        )


@asynccontextmanager
async def shared_server(database: str, tmp_dir: Path, **settings: Any) -> AsyncIterator[RunningApp]:
    """A server with a first superuser and the host route above, for a whole module;
    ``settings`` are more AUTH_* settings (lower case, without the prefix)."""
    url = await empty_database_url(database, tmp_dir)
    mailer = InMemoryMailer()
    app = build_app(
        url,
        mailer=mailer,
        setup=host_report_route,
        first_superuser_email=ROOT_EMAIL,
        first_superuser_password=STRONG_PASSWORD,
        **settings,
    )
    running, server = await start_app(app, mailer)
    try:
        yield running
    finally:
        await stop_app(running, server)


async def empty_tables() -> None:
    """Everything but the first superuser (whose sessions go too), in one transaction."""
    async with transaction():
        await Membership.all().delete()
        await Organization.all().delete()
        await PasswordResetToken.all().delete()
        await UserSession.all().delete()
        await User.exclude(email=ROOT_EMAIL).delete()
        await User.filter(email=ROOT_EMAIL).update(is_active=True, is_superuser=True)


# --- organizations through the API, and memberships set directly ----------------------


async def create_org(api: RunningApp, tokens: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = await api.client.post(
        api.url("/organizations"), json={"name": "Acme", **body}, headers=bearer(tokens)
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def join(org: dict[str, Any], tokens: dict[str, Any], role: str) -> None:
    await Membership.create(
        organization_id=org["id"], user_id=tokens["user"]["id"], role=OrganizationRole(role)
    )


async def owners_of(org_id: str) -> int:
    return await Membership.filter(organization_id=org_id, role=OrganizationRole.OWNER).count()


async def team(api: RunningApp) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """An organization with an owner, an admin and a member, and an outsider."""
    people = {
        name: await api.user_with_tokens(f"{name}@example.com")
        for name in ("owner", "admin", "member", "outsider")
    }
    org = await create_org(api, people["owner"])
    await join(org, people["admin"], "admin")
    await join(org, people["member"], "member")
    return org, people
