"""Every route of a running app, by every kind of caller -> the status the contract expects.

The routes come from the running app's own route table (the extension's and two host routes
like the example app's; sanic-ext's ``/docs`` pages and automatic OPTIONS/HEAD are skipped), not
from a list kept here: a route without an entry in ``EXPECTED`` fails every test of this module,
and an entry without a route fails the first.

The world, restored before every request that could have changed it: organization "Acme" with
an owner, an admin, a member and a target member (who has a session and a refresh token); an
organization "Other" whose owner is not in Acme; a plain user in no organization; a superuser
in none; a newcomer who is in none (to be added); a known password-reset token of the target.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import jwt
import pytest
import pytest_asyncio
from sanic import HTTPResponse, Request, Sanic, json

from sanic_auth_sessions import (
    Membership,
    Organization,
    OrganizationRole,
    User,
    UserSession,
    current_auth,
    rate_limit,
    require_auth,
    require_fresh_auth,
    require_org_role,
)
from sanic_auth_sessions.core.models import (
    EmailToken,
    EmailTokenPurpose,
    MfaChallenge,
    PasswordResetToken,
    RecoveryCode,
    TotpFactor,
)
from sanic_auth_sessions.db.connection import connection, transaction
from sanic_auth_sessions.services.manager import hash_reset_token, utcnow

from .conftest import (
    DATABASES,
    OTHER_STRONG_PASSWORD,
    STRONG_PASSWORD,
    RecordingMailer,
    RunningApp,
    bearer,
    build_app,
    empty_database_url,
    start_app,
    stop_app,
)
from .helpers import ROOT_EMAIL, UNREACHABLE_OIDC_PROVIDERS, assert_error, fill

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.coverage_paused]

P = "/api/v1"
CALLERS = ("anonymous", "user", "member", "admin", "owner", "other_owner", "superuser")
PEOPLE = ("user", "member", "admin", "owner", "other_owner", "target", "newcomer")
ACME_ID = "0d6f3a52-6a4c-4b3e-9d1e-0000000000ac"
OTHER_ID = "0d6f3a52-6a4c-4b3e-9d1e-0000000000ee"
RESET_TOKEN = "adversarial-authz-known-reset-token-" + "x" * 16
VERIFY_TOKEN = "adversarial-authz-known-verify-token-" + "x" * 16
CHANGE_TOKEN = "adversarial-authz-known-change-token-" + "x" * 16


@dataclass(frozen=True)
class Case:
    """One request to a route; ``params`` maps each path parameter to a place of the world."""

    name: str
    statuses: tuple[int, ...]  # in the order of CALLERS
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    form: dict[str, str] | None = None

    def __post_init__(self) -> None:
        assert len(self.statuses) == len(CALLERS), self.name


ANYONE_2XX = (200,) * 7
USERS_200 = (401, *(200,) * 6)
SUPERUSER_ONLY = (401, 403, 403, 403, 403, 403)
NO_MFA = (401, *(409,) * 6)  # MFA_SETUP_NOT_STARTED / MFA_NOT_ENABLED
ORG = {"org_id": "org"}
USER_ORG = {"organization_id": "org"}  # the original project's name under /organizations

# (method, route path as in the route table) -> the cases sent to it.
EXPECTED: dict[tuple[str, str], list[Case]] = {
    # --- public ---
    ("GET", "/health"): [Case("health", ANYONE_2XX)],
    # A shared secret (HS256) has no public key to publish.
    ("GET", "/.well-known/jwks.json"): [Case("jwks", (404,) * 7)],
    ("POST", f"{P}/auth/register"): [
        Case(
            "register",
            (201,) * 7,
            body={"email": "fresh@example.com", "password": STRONG_PASSWORD},
        )
    ],
    ("POST", f"{P}/auth/login"): [
        Case("login", ANYONE_2XX, body={"email": "target@example.com", "password": "{pw}"})
    ],
    ("POST", f"{P}/auth/login/oauth"): [
        Case("login_oauth", ANYONE_2XX, form={"username": "target@example.com", "password": "{pw}"})
    ],
    # A refresh token is its own credential: the caller's, or the target's for anonymous.
    ("POST", f"{P}/auth/refresh"): [
        Case("refresh", ANYONE_2XX, body={"refresh_token": "{refresh}"})
    ],
    ("POST", f"{P}/auth/password-reset/request"): [
        Case("reset_request", ANYONE_2XX, body={"email": "target@example.com"})
    ],
    ("POST", f"{P}/auth/password-reset/confirm"): [
        Case(
            "reset_confirm",
            ANYONE_2XX,
            body={"token": RESET_TOKEN, "new_password": OTHER_STRONG_PASSWORD},
        )
    ],
    ("POST", f"{P}/auth/verify-email/request"): [
        Case("verify_request", ANYONE_2XX, body={"email": "target@example.com"})
    ],
    # A verification or email-change token is its own credential (the target's).
    ("POST", f"{P}/auth/verify-email/confirm"): [
        Case("verify_confirm", ANYONE_2XX, body={"token": VERIFY_TOKEN})
    ],
    ("POST", f"{P}/auth/email-change/confirm"): [
        Case("email_change_confirm", ANYONE_2XX, body={"token": CHANGE_TOKEN})
    ],
    # --- any signed-in user, on their own account and sessions ---
    ("POST", f"{P}/auth/logout"): [
        Case("logout", USERS_200, body={"refresh_token": "{refresh}"}),
        # Another user's refresh token: no change, still 200 (idempotent, no oracle).
        Case("logout_other", USERS_200, body={"refresh_token": "{target_refresh}"}),
    ],
    ("POST", f"{P}/auth/logout-all"): [Case("logout_all", USERS_200)],
    ("GET", f"{P}/users/me"): [Case("me", USERS_200)],
    ("PATCH", f"{P}/users/me"): [Case("update_me", USERS_200, body={"first_name": "Changed"})],
    ("POST", f"{P}/users/me/email"): [
        Case(
            "request_email_change",
            (401, *(202,) * 6),
            body={"new_email": "moved@example.com", "current_password": "{pw}"},
        )
    ],
    ("PATCH", f"{P}/users/me/password"): [
        Case(
            "change_password",
            USERS_200,
            body={"current_password": "{pw}", "new_password": OTHER_STRONG_PASSWORD},
        )
    ],
    # The only superuser cannot leave (LAST_SUPERUSER); anyone else can.
    ("DELETE", f"{P}/users/me"): [Case("deactivate_me", (401, 200, 200, 200, 200, 200, 409))],
    ("GET", f"{P}/sessions/me"): [Case("my_sessions", USERS_200)],
    ("GET", f"{P}/users/me/security-events"): [Case("my_security_events", USERS_200)],
    # --- /users/{user_id}: your own id, or a superuser; anyone else 403, existing id or not ---
    ("GET", f"{P}/users"): [Case("list_users", (*SUPERUSER_ONLY, 200))],
    ("GET", f"{P}/users/<user_id:uuid>"): [
        Case("get_user_self", USERS_200, {"user_id": "self"}),
        Case("get_user_other", (*SUPERUSER_ONLY, 200), {"user_id": "target"}),
        Case("get_user_missing", (*SUPERUSER_ONLY, 404), {"user_id": "missing"}),
    ],
    ("PATCH", f"{P}/users/<user_id:uuid>"): [
        Case("update_user_self", USERS_200, {"user_id": "self"}, {"first_name": "Changed"}),
        Case(
            "update_user_other", (*SUPERUSER_ONLY, 200), {"user_id": "target"}, {"last_name": "T"}
        ),
        Case(
            "update_user_missing",
            (*SUPERUSER_ONLY, 404),
            {"user_id": "missing"},
            {"last_name": "T"},
        ),
    ],
    ("DELETE", f"{P}/users/<user_id:uuid>"): [
        Case("delete_user", (*SUPERUSER_ONLY, 200), {"user_id": "target"}),
        Case("delete_user_self", (*SUPERUSER_ONLY, 403), {"user_id": "self"}),
        Case("delete_user_missing", (*SUPERUSER_ONLY, 404), {"user_id": "missing"}),
    ],
    ("GET", f"{P}/openapi.json"): [Case("openapi_document", ANYONE_2XX)],
    ("DELETE", f"{P}/sessions/me/expired"): [Case("delete_expired", USERS_200)],
    ("POST", f"{P}/sessions/revoke-others"): [Case("revoke_others", USERS_200)],
    # No introspection client is configured here: the route does not exist for anyone.
    ("POST", f"{P}/auth/introspect"): [Case("introspect", (404,) * 7, form={"token": "x"})],
    # Social login: one OpenID Connect provider ("corp") is configured, at an address where
    # nothing listens. Without their redirect_uri the start and the callback are 422 for all.
    ("GET", f"{P}/oauth/providers"): [Case("oauth_providers", ANYONE_2XX)],
    ("GET", f"{P}/oauth/authorize/<provider:str>"): [
        Case("oauth_authorize", (422,) * 7, {"provider": "provider"}),
        Case("oauth_authorize_unknown", (404,) * 7, {"provider": "unknown_provider"}),
    ],
    ("POST", f"{P}/oauth/callback/<provider:str>"): [
        Case("oauth_callback", (422,) * 7, {"provider": "provider"}, {"code": "c", "state": "s"})
    ],
    ("GET", f"{P}/oauth/accounts"): [Case("oauth_accounts", USERS_200)],
    # Nobody has linked an account: 404 once past the guard.
    ("DELETE", f"{P}/oauth/accounts/<provider:str>"): [
        Case("oauth_unlink", (401, *(404,) * 6), {"provider": "provider"})
    ],
    ("POST", f"{P}/oauth/link/<provider:str>"): [
        Case("oauth_link", (401, *(422,) * 6), {"provider": "provider"})
    ],
    # Passkeys are configured; every caller's session is fresh (just logged in).
    ("POST", f"{P}/users/me/passkeys/register/options"): [
        Case("passkey_register_options", USERS_200)
    ],
    ("POST", f"{P}/users/me/passkeys/register/verify"): [
        Case(
            "passkey_register_verify",
            (401, *(400,) * 6),  # WEBAUTHN_CHALLENGE_INVALID: no such challenge
            body={"challenge_id": "x", "credential": {}},
        )
    ],
    ("GET", f"{P}/users/me/passkeys"): [Case("passkey_list", USERS_200)],
    ("DELETE", f"{P}/users/me/passkeys/<passkey_id:uuid>"): [
        Case("passkey_delete", (401, *(404,) * 6), {"passkey_id": "missing"})
    ],
    # A usernameless login's options are public; its verification checks the challenge.
    ("POST", f"{P}/auth/passkeys/authenticate/options"): [
        Case("passkey_authenticate_options", ANYONE_2XX)
    ],
    ("POST", f"{P}/auth/passkeys/authenticate/verify"): [
        Case(
            "passkey_authenticate_verify",
            (400,) * 7,
            body={"challenge_id": "x", "credential": {}},
        )
    ],
    # Two-factor authentication: the caller's own; nobody here has it on.
    ("GET", f"{P}/users/me/mfa"): [Case("mfa_status", USERS_200)],
    ("POST", f"{P}/users/me/mfa/totp/setup"): [Case("mfa_setup", USERS_200)],
    ("POST", f"{P}/users/me/mfa/totp/confirm"): [
        Case("mfa_confirm", NO_MFA, body={"code": "000000", "current_password": "{pw}"})
    ],
    ("POST", f"{P}/users/me/mfa/disable"): [
        Case("mfa_disable", NO_MFA, body={"code": "000000", "current_password": "{pw}"})
    ],
    ("POST", f"{P}/users/me/mfa/recovery-codes"): [
        Case("mfa_recovery_codes", NO_MFA, body={"current_password": "{pw}"})
    ],
    # A second step needs the mfa_token of a first one: no caller has one.
    # Nobody here has MFA: the password is the proof.
    ("POST", f"{P}/auth/reauthenticate"): [
        Case("reauthenticate", USERS_200, body={"password": "{pw}"})
    ],
    ("POST", f"{P}/auth/login/mfa"): [
        Case("login_mfa", (401,) * 7, body={"mfa_token": "not-a-token", "code": "000000"})
    ],
    ("DELETE", f"{P}/sessions/<session_id:uuid>"): [
        Case("revoke_own", USERS_200, {"session_id": "self_session"}),
        # Not even a superuser revokes another user's session here (that is /admin/sessions).
        Case("revoke_other", (401, *(403,) * 6), {"session_id": "target_session"}),
        Case("revoke_missing", (401, *(404,) * 6), {"session_id": "missing"}),
    ],
    # --- organizations ---
    ("POST", f"{P}/organizations"): [Case("create_org", (401, *(201,) * 6), body={"name": "New"})],
    ("GET", f"{P}/organizations/me"): [Case("my_orgs", USERS_200)],
    ("GET", f"{P}/organizations/<organization_id:uuid>"): [
        Case("get_org", (401, 404, 200, 200, 200, 404, 200), USER_ORG),
        Case(
            "get_missing_org", (401, 404, 404, 404, 404, 404, 404), {"organization_id": "missing"}
        ),
    ],
    ("PATCH", f"{P}/organizations/<organization_id:uuid>"): [
        Case("update_org", (401, 404, 403, 200, 200, 404, 200), USER_ORG, {"name": "X"})
    ],
    ("PUT", f"{P}/organizations/<organization_id:uuid>"): [
        Case("put_org", (401, 404, 403, 200, 200, 404, 200), USER_ORG, {"name": "X"})
    ],
    ("DELETE", f"{P}/organizations/<organization_id:uuid>"): [
        Case("delete_org", (401, 404, 403, 403, 200, 404, 200), USER_ORG),
        Case(
            "delete_other_org",
            (401, 404, 404, 404, 404, 200, 200),
            {"organization_id": "other_org"},
        ),
    ],
    ("GET", f"{P}/organizations/<organization_id:uuid>/members"): [
        Case("members", (401, 404, 200, 200, 200, 404, 200), USER_ORG)
    ],
    ("POST", f"{P}/organizations/<organization_id:uuid>/members"): [
        Case(
            "add_member",
            (401, 404, 403, 201, 201, 404, 201),
            USER_ORG,
            {"email": "newcomer@example.com", "role": "member"},
        ),
        Case(
            "add_owner",
            (401, 404, 403, 403, 201, 404, 201),
            USER_ORG,
            {"email": "newcomer@example.com", "role": "owner"},
        ),
    ],
    ("PATCH", f"{P}/organizations/<organization_id:uuid>/members/<user_id:uuid>"): [
        Case(
            "promote_to_admin",
            (401, 404, 403, 200, 200, 404, 200),
            {"organization_id": "org", "user_id": "target"},
            {"role": "admin"},
        ),
        Case(
            "promote_to_owner",
            (401, 404, 403, 403, 200, 404, 200),
            {"organization_id": "org", "user_id": "target"},
            {"role": "owner"},
        ),
        Case(
            "demote_last_owner",
            (401, 404, 403, 403, 409, 404, 409),
            {"organization_id": "org", "user_id": "owner"},
            {"role": "admin"},
        ),
    ],
    ("DELETE", f"{P}/organizations/<organization_id:uuid>/members/<user_id:uuid>"): [
        Case(
            "remove_member",
            (401, 404, 403, 200, 200, 404, 200),
            {"organization_id": "org", "user_id": "target"},
        ),
        Case(
            "remove_last_owner",
            (401, 404, 403, 403, 409, 404, 409),
            {"organization_id": "org", "user_id": "owner"},
        ),
        # Leaving: anyone may, but the last owner; the superuser is no member (404).
        Case(
            "leave",
            (401, 404, 200, 200, 409, 404, 404),
            {"organization_id": "org", "user_id": "self"},
        ),
    ],
    # --- the host app's routes, as in the example app ---
    ("GET", f"{P}/hello"): [Case("host_hello", USERS_200)],
    # Every caller's session is fresh here: they logged in when the world was made.
    ("GET", f"{P}/account/export"): [Case("host_export", USERS_200)],
    ("GET", f"{P}/organizations/<org_id:uuid>/report"): [
        Case("host_report", (401, 404, 403, 200, 200, 404, 200), ORG)
    ],
    # --- admin: superusers only ---
    ("GET", f"{P}/admin/stats"): [Case("admin_stats", (*SUPERUSER_ONLY, 200))],
    ("GET", f"{P}/admin/users"): [Case("admin_users", (*SUPERUSER_ONLY, 200))],
    ("POST", f"{P}/admin/users"): [
        Case(
            "admin_create_user",
            (*SUPERUSER_ONLY, 201),
            body={"email": "created@example.com", "password": STRONG_PASSWORD},
        )
    ],
    ("POST", f"{P}/admin/users/bulk-action"): [
        Case(
            "admin_bulk",
            (*SUPERUSER_ONLY, 200),
            body={"action": "deactivate", "user_ids": ["{target}"]},
        )
    ],
    ("GET", f"{P}/admin/users/<user_id:uuid>"): [
        Case("admin_get_user", (*SUPERUSER_ONLY, 200), {"user_id": "target"}),
        Case("admin_get_missing_user", (*SUPERUSER_ONLY, 404), {"user_id": "missing"}),
    ],
    ("PATCH", f"{P}/admin/users/<user_id:uuid>"): [
        Case("admin_update_user", (*SUPERUSER_ONLY, 200), {"user_id": "target"}, {"last_name": "T"})
    ],
    ("PUT", f"{P}/admin/users/<user_id:uuid>"): [
        Case("admin_put_user", (*SUPERUSER_ONLY, 200), {"user_id": "target"}, {"last_name": None})
    ],
    ("DELETE", f"{P}/admin/users/<user_id:uuid>"): [
        Case("admin_delete_user", (*SUPERUSER_ONLY, 200), {"user_id": "target"}),
        Case("admin_delete_last_owner", (*SUPERUSER_ONLY, 409), {"user_id": "owner"}),
        Case("admin_delete_self", (*SUPERUSER_ONLY, 403), {"user_id": "self"}),
    ],
    ("POST", f"{P}/admin/users/<user_id:uuid>/mfa/reset"): [
        Case("admin_mfa_reset", (*SUPERUSER_ONLY, 409), {"user_id": "target"}),
        Case("admin_mfa_reset_self", (*SUPERUSER_ONLY, 403), {"user_id": "self"}),
    ],
    ("POST", f"{P}/admin/users/<user_id:uuid>/activate"): [
        Case("admin_activate", (*SUPERUSER_ONLY, 200), {"user_id": "target"})
    ],
    ("POST", f"{P}/admin/users/<user_id:uuid>/deactivate"): [
        Case("admin_deactivate", (*SUPERUSER_ONLY, 200), {"user_id": "target"}),
        Case("admin_deactivate_self", (*SUPERUSER_ONLY, 403), {"user_id": "self"}),
    ],
    ("GET", f"{P}/admin/organizations"): [Case("admin_orgs", (*SUPERUSER_ONLY, 200))],
    ("POST", f"{P}/admin/organizations"): [
        Case("admin_create_org", (*SUPERUSER_ONLY, 201), body={"name": "Made"})
    ],
    ("GET", f"{P}/admin/organizations/<org_id:uuid>"): [
        Case("admin_get_org", (*SUPERUSER_ONLY, 200), ORG)
    ],
    ("PATCH", f"{P}/admin/organizations/<org_id:uuid>"): [
        Case("admin_update_org", (*SUPERUSER_ONLY, 200), ORG, {"is_active": False})
    ],
    ("PUT", f"{P}/admin/organizations/<org_id:uuid>"): [
        Case("admin_put_org", (*SUPERUSER_ONLY, 200), ORG, {"description": None})
    ],
    ("DELETE", f"{P}/admin/organizations/<org_id:uuid>"): [
        Case("admin_delete_org", (*SUPERUSER_ONLY, 200), ORG)
    ],
    ("GET", f"{P}/admin/organizations/<org_id:uuid>/members"): [
        Case("admin_org_members", (*SUPERUSER_ONLY, 200), ORG)
    ],
    ("POST", f"{P}/admin/organizations/<org_id:uuid>/members"): [
        Case(
            "admin_add_member",
            (*SUPERUSER_ONLY, 201),
            ORG,
            {"email": "newcomer@example.com", "role": "member"},
        )
    ],
    ("DELETE", f"{P}/admin/organizations/<org_id:uuid>/members/<user_id:uuid>"): [
        Case("admin_remove_member", (*SUPERUSER_ONLY, 200), {"org_id": "org", "user_id": "target"}),
        Case(
            "admin_remove_last_owner",
            (*SUPERUSER_ONLY, 409),
            {"org_id": "org", "user_id": "owner"},
        ),
    ],
    ("GET", f"{P}/admin/sessions"): [Case("admin_sessions", (*SUPERUSER_ONLY, 200))],
    ("GET", f"{P}/admin/audit-events"): [Case("admin_audit_events", (*SUPERUSER_ONLY, 200))],
    ("DELETE", f"{P}/admin/sessions/<session_id:uuid>"): [
        Case("admin_revoke_session", (*SUPERUSER_ONLY, 200), {"session_id": "target_session"})
    ],
}

SKIPPED_PREFIXES = ("/docs",)  # sanic-ext's OpenAPI pages
AUTOMATIC_METHODS = {"OPTIONS", "HEAD"}


def host_routes(app: Sanic) -> None:
    """The example app's own routes, and its OpenAPI documentation (on, as by default)."""
    app.config.OAS = True

    @app.get(f"{P}/hello")
    @rate_limit("100/minute")
    @require_auth
    async def hello(request: Request) -> HTTPResponse:
        user = current_auth(request).user
        return json({"message": f"Hello, {user.first_name or user.email}!"})

    @app.get(f"{P}/account/export")
    @require_fresh_auth()
    async def export_my_account(request: Request) -> HTTPResponse:
        return json({"email": current_auth(request).user.email})

    @app.get(f"{P}/organizations/<org_id:uuid>/report")
    @require_org_role("admin")
    async def organization_report(request: Request, org_id: UUID) -> HTTPResponse:
        membership = request.ctx.membership
        return json(
            {
                "organization": request.ctx.organization.name,
                "your_role": membership.role.value if membership else None,
            }
        )


def route_table(app: Sanic) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, but the docs and automatic methods."""
    found = set()
    for route in app.router.routes:
        path = "/" + route.path.lstrip("/")
        if path.startswith(SKIPPED_PREFIXES):
            continue
        for method in set(route.methods) - AUTOMATIC_METHODS:
            found.add((method, path))
    return found


# --- the world ----------------------------------------------------------------------------


@dataclass
class World:
    api: RunningApp
    tokens: dict[str, dict[str, Any]]  # a login of each caller and of the target
    users: list[dict[str, Any]]  # rows to restore
    sessions: list[dict[str, Any]]
    places: dict[str, str]
    restored_at: int | None = None  # SQLite's count of changed rows after the last restore


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=DATABASES)
async def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    url = await empty_database_url(request.param, tmp_path_factory.mktemp("authz"))
    mailer = RecordingMailer()
    app = build_app(
        url,
        mailer=mailer,
        setup=host_routes,
        first_superuser_email=ROOT_EMAIL,
        first_superuser_password=STRONG_PASSWORD,
        webauthn_rp_id="app.example.com",
        webauthn_origins="https://app.example.com",
        oidc_providers=UNREACHABLE_OIDC_PROVIDERS,
        oauth_redirect_uris="https://app.example.com/auth/callback/{provider}",
    )
    api, server = await start_app(app, mailer)
    try:
        tokens = {"superuser": await api.login(ROOT_EMAIL)}
        for name in PEOPLE:
            email = f"{name.replace('_', '-')}@example.com"
            await api.register(email)
            if name != "newcomer":
                tokens[name] = await api.login(email)
        places = {
            "org": ACME_ID,
            "provider": "corp",
            "unknown_provider": "nowhere",
            "other_org": OTHER_ID,
            "missing": str(uuid4()),
            "target": tokens["target"]["user"]["id"],
            "owner": tokens["owner"]["user"]["id"],
            "target_session": session_of(tokens["target"]),
            "target_refresh": tokens["target"]["refresh_token"],
        }
        world = World(
            api,
            tokens,
            users=await User.all().values(),
            sessions=await UserSession.all().values(),
            places=places,
        )
        await restore(world)
        yield world
    finally:
        await stop_app(api, server)


def session_of(tokens: dict[str, Any]) -> str:
    sid: str = jwt.decode(tokens["access_token"], options={"verify_signature": False})["sid"]
    return sid


async def changed_rows() -> int | None:
    """On SQLite, how many rows the connection has changed since it opened: the server's and
    the test's, which share it. ``None`` on PostgreSQL (no such count)."""
    client = connection()
    if client.capabilities.dialect != "sqlite":
        return None
    rows = await client.execute_query_dict("SELECT total_changes() AS changed")
    return int(rows[0]["changed"])


async def restore(world: World) -> None:
    """Back to the world of the module docstring, whatever the last request changed.
    One transaction: a commit for all its statements, not one each. On SQLite, nothing to do
    when no row has changed since the last restore (most refused requests write nothing)."""
    if world.restored_at is not None and await changed_rows() == world.restored_at:
        return
    async with transaction():
        await Membership.all().delete()
        await Organization.all().delete()
        await PasswordResetToken.all().delete()
        await EmailToken.all().delete()
        await TotpFactor.all().delete()
        await RecoveryCode.all().delete()
        await MfaChallenge.all().delete()
        user_ids = [row["id"] for row in world.users]
        session_ids = [row["id"] for row in world.sessions]
        await User.exclude(id__in=user_ids).delete()
        await UserSession.exclude(id__in=session_ids).delete()
        current_users = {row["id"]: row for row in await User.all().values()}
        for row in world.users:
            if row["id"] not in current_users:
                await User.create(**row)
            elif current_users[row["id"]] != row:
                await User.filter(id=row["id"]).update(
                    **{k: v for k, v in row.items() if k != "id"}
                )
        current_sessions = {row["id"]: row for row in await UserSession.all().values()}
        for row in world.sessions:
            if row["id"] not in current_sessions:
                await UserSession.create(**row)
            elif current_sessions[row["id"]] != row:
                values = {k: v for k, v in row.items() if k != "id"}
                await UserSession.filter(id=row["id"]).update(**values)
        ids = {name: tokens["user"]["id"] for name, tokens in world.tokens.items()}
        await Organization.bulk_create(
            [
                Organization(id=ACME_ID, name="Acme", slug="acme"),
                Organization(id=OTHER_ID, name="Other", slug="other"),
            ]
        )
        roles = [
            (ACME_ID, "owner", OrganizationRole.OWNER),
            (ACME_ID, "admin", OrganizationRole.ADMIN),
            (ACME_ID, "member", OrganizationRole.MEMBER),
            (ACME_ID, "target", OrganizationRole.MEMBER),
            (OTHER_ID, "other_owner", OrganizationRole.OWNER),
        ]
        await Membership.bulk_create(
            [
                Membership(organization_id=org, user_id=ids[who], role=role)
                for org, who, role in roles
            ]
        )
        target = next(row for row in world.users if str(row["id"]) == str(ids["target"]))
        await PasswordResetToken.create(
            user_id=ids["target"],
            token_hash=hash_reset_token(RESET_TOKEN),
            security_stamp=target["security_stamp"],
            expires_at=utcnow() + timedelta(hours=1),
        )
        for token, purpose, email in (
            (VERIFY_TOKEN, EmailTokenPurpose.VERIFY, "target@example.com"),
            (CHANGE_TOKEN, EmailTokenPurpose.CHANGE, "target-moved@example.com"),
        ):
            await EmailToken.create(
                user_id=ids["target"],
                purpose=purpose,
                token_hash=hash_reset_token(token),
                email=email,
                security_stamp=target["security_stamp"],
                expires_at=utcnow() + timedelta(hours=1),
            )
    world.restored_at = await changed_rows()


PARAM = re.compile(r"<(\w+)(?::[^>]*)?>")


def url_of(path: str, case: Case, places: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in case.params, f"{case.name}: no value for the path parameter {name!r}"
        return places[case.params[name]]

    return PARAM.sub(value, path)


def places_of(world: World, caller: str) -> dict[str, str]:
    places = dict(world.places, pw=STRONG_PASSWORD)
    if caller == "anonymous":
        places.update(
            self=str(uuid4()), self_session=str(uuid4()), refresh=world.places["target_refresh"]
        )
    else:
        tokens = world.tokens[caller]
        places.update(
            self=tokens["user"]["id"],
            self_session=session_of(tokens),
            refresh=tokens["refresh_token"],
        )
    return places


# --- the tests ----------------------------------------------------------------------------


async def test_every_route_has_an_entry_and_every_entry_a_route(world: World) -> None:
    served = route_table(world.api.app)
    missing = sorted(served - set(EXPECTED))
    stale = sorted(set(EXPECTED) - served)
    assert not missing, f"routes without an entry in EXPECTED: {missing}"
    assert not stale, f"entries in EXPECTED for routes the app does not serve: {stale}"
    # Sanity: the table really came from the app (and the docs were skipped, not absent).
    assert any(route.path.startswith("docs") for route in world.api.app.router.routes)


@pytest.mark.parametrize("caller", CALLERS)
async def test_every_route_by_every_caller(world: World, caller: str) -> None:
    api = world.api
    places = places_of(world, caller)
    headers = bearer(world.tokens[caller]) if caller != "anonymous" else {}
    index = CALLERS.index(caller)
    served = sorted(route_table(api.app))
    missing = [key for key in served if key not in EXPECTED]
    assert not missing, f"routes without an entry in EXPECTED: {missing}"
    wrong = []
    await restore(world)
    for method, path in served:
        for case in EXPECTED[(method, path)]:
            url = url_of(path, case, places)
            response = await api.client.request(
                method,
                url,
                headers=headers,
                json=fill(case.body, places) if case.body is not None else None,
                data=fill(case.form, places) if case.form is not None else None,
            )
            expected = case.statuses[index]
            try:
                if expected >= 400:
                    assert_error(response, expected)
                else:
                    assert response.status_code == expected
            except (AssertionError, ValueError, KeyError):
                wrong.append(
                    f"{case.name}: {method} {url} -> {response.status_code}, expected {expected}:"
                    f" {response.text[:200]}"
                )
            if method != "GET":
                await restore(world)
    assert not wrong, f"{caller}:\n" + "\n".join(wrong)
