"""The OpenAPI document at ``/docs/openapi.json`` describes every route of the contract."""

from __future__ import annotations

import copy
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from pydantic import BaseModel
from sanic import Sanic, json
from sanic_ext.extensions.openapi.builders import SpecificationBuilder

from sanic_auth_sessions import __version__
from sanic_auth_sessions.core import errors
from sanic_auth_sessions.db.pagination import PageQuery
from sanic_auth_sessions.http.error_handler import status_for
from sanic_auth_sessions.http.openapi import BEARER_SCHEME, OAUTH2_SCHEME
from sanic_auth_sessions.http.schemas import (
    AddMemberRequest,
    AdminAuditEventQuery,
    AdminOrganizationQuery,
    AdminSessionQuery,
    AdminUserQuery,
    BulkActionBody,
    ChangePasswordBody,
    ChangeRoleBody,
    CreateOrganizationBody,
    EmailChangeBody,
    EmailChangeConfirmBody,
    IntrospectionForm,
    LoginBody,
    LoginMfaBody,
    LogoutBody,
    MfaConfirmBody,
    MfaDisableBody,
    MfaProofBody,
    OAuthCallbackRequest,
    OAuthLoginForm,
    OAuthRedirectQuery,
    OrganizationCreate,
    OrganizationUpdate,
    PasskeyAuthOptionsBody,
    PasskeyOptionsBody,
    PasskeyProofBody,
    PasskeyRegisterBody,
    PasswordResetConfirmBody,
    PasswordResetRequestBody,
    ReauthenticateBody,
    RefreshBody,
    RegisterBody,
    SecurityEventQuery,
    StepUpBody,
    UpdateMeBody,
    UpdateOrganizationBody,
    UserCreate,
    UserUpdate,
    VerifyEmailConfirmBody,
    VerifyEmailRequestBody,
)

from ..conftest import STRONG_PASSWORD, RunningApp, bearer, module_server
from . import test_docs_browser as browser

# The browser test's fixtures: Chromium, and Swagger UI served from a local "CDN".
chromium_path = browser.chromium_path

PREFIX = "/api/v1"
ERROR_REF = "#/components/schemas/ErrorResponse"
Auth = Literal["public", "user", "superuser"]


@dataclass(frozen=True)
class Contract:
    """What ``API.md`` says of one route: success status, its error statuses, its guard."""

    ok: int = 200
    errors: frozenset[int] = frozenset()
    auth: Auth = "user"
    body: type[BaseModel] | None = None
    form: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    ok_schema: str | None = None
    notes: dict[int, str] = field(default_factory=dict)
    body_required: bool = True

    @property
    def error_statuses(self) -> set[int]:
        """The contract's statuses plus those of its conventions (guards, input, database)."""
        statuses = set(self.errors) | {503}
        if self.auth != "public":
            statuses.add(401)
        if self.auth == "superuser":
            statuses.add(403)
        if self.body or self.form or self.query:
            statuses.add(422)
        return statuses


def user(*errors: int, **kwargs: Any) -> Contract:
    return Contract(errors=frozenset(errors), auth="user", **kwargs)


def public(*errors: int, **kwargs: Any) -> Contract:
    return Contract(errors=frozenset(errors), auth="public", **kwargs)


def admin(*errors: int, **kwargs: Any) -> Contract:
    return Contract(errors=frozenset(errors), auth="superuser", **kwargs)


ORG = "/organizations/{organization_id}"
ADMIN_USER = "/admin/users/{user_id}"
USER = "/users/{user_id}"
ADMIN_ORG = "/admin/organizations/{org_id}"

CONTRACT: dict[tuple[str, str], Contract] = {
    # auth
    ("POST", "/auth/register"): public(
        403, 409, 429, ok=201, body=RegisterBody, ok_schema="UserResponse"
    ),
    ("POST", "/auth/login"): public(401, 403, 429, body=LoginBody, ok_schema="Token"),
    ("POST", "/auth/login/oauth"): public(401, 403, 429, form=OAuthLoginForm, ok_schema="Token"),
    ("POST", "/auth/refresh"): public(401, 429, body=RefreshBody, ok_schema="TokenPairResponse"),
    ("POST", "/auth/logout"): user(body=LogoutBody),
    ("POST", "/auth/logout-all"): user(429, ok_schema="LogoutAllResponse"),
    ("POST", "/auth/password-reset/request"): public(429, body=PasswordResetRequestBody),
    ("POST", "/auth/password-reset/confirm"): public(400, 429, body=PasswordResetConfirmBody),
    ("POST", "/auth/verify-email/request"): public(429, body=VerifyEmailRequestBody),
    ("POST", "/auth/verify-email/confirm"): public(400, 429, body=VerifyEmailConfirmBody),
    ("POST", "/auth/email-change/confirm"): public(400, 409, 429, body=EmailChangeConfirmBody),
    # users
    ("GET", "/users"): admin(query=AdminUserQuery, ok_schema="UserPage"),
    ("GET", "/users/me"): user(ok_schema="UserResponse"),
    ("GET", USER): user(403, 404, ok_schema="UserResponse"),
    ("PATCH", USER): user(403, 404, 409, 429, body=UserUpdate, ok_schema="UserResponse"),
    ("DELETE", USER): admin(404, 409),
    ("PATCH", "/users/me"): user(429, body=UpdateMeBody, ok_schema="UserResponse"),
    ("POST", "/users/me/email"): user(
        403, 409, 429, ok=202, body=EmailChangeBody, ok_schema="SuccessResponse"
    ),
    ("PATCH", "/users/me/password"): user(403, body=ChangePasswordBody),
    ("DELETE", "/users/me"): user(403, 409, 429, body=StepUpBody, body_required=False),
    ("GET", "/users/me/security-events"): user(
        429, query=SecurityEventQuery, ok_schema="SecurityEventPage"
    ),
    # sessions
    ("GET", "/sessions/me"): user(429, ok_schema="SessionListResponse"),
    ("DELETE", "/sessions/{session_id}"): user(403, 404, 429),
    ("DELETE", "/sessions/me/expired"): user(ok_schema="DeletedSessionsResponse"),
    ("POST", "/sessions/revoke-others"): user(429, ok_schema="RevokedOthersResponse"),
    ("POST", "/auth/introspect"): public(401, 404, 429, form=IntrospectionForm),
    # two-factor authentication
    ("GET", "/users/me/mfa"): user(ok_schema="MfaStatusResponse"),
    ("POST", "/users/me/mfa/totp/setup"): user(409, 429, ok_schema="TotpSetupResponse"),
    ("POST", "/users/me/mfa/totp/confirm"): user(
        403, 409, 429, body=MfaConfirmBody, ok_schema="RecoveryCodesResponse"
    ),
    ("POST", "/users/me/mfa/disable"): user(403, 409, 429, body=MfaDisableBody),
    ("POST", "/users/me/mfa/recovery-codes"): user(
        403, 409, 429, body=MfaProofBody, body_required=False, ok_schema="RecoveryCodesResponse"
    ),
    ("POST", "/admin/users/{user_id}/mfa/reset"): admin(404, 409, ok_schema="UserStatusResponse"),
    ("POST", "/auth/login/mfa"): public(401, 403, 429, body=LoginMfaBody, ok_schema="Token"),
    # social login
    ("GET", "/oauth/providers"): public(ok_schema="OAuthProvidersResponse"),
    ("GET", "/oauth/authorize/{provider}"): public(
        404, 429, 502, query=OAuthRedirectQuery, ok_schema="OAuthAuthorizationResponse"
    ),
    ("POST", "/oauth/callback/{provider}"): public(
        400,
        401,
        403,
        404,
        409,
        429,
        502,
        body=OAuthCallbackRequest,
        query=OAuthRedirectQuery,
        ok_schema="OAuthCallbackResponse",
    ),
    ("GET", "/oauth/accounts"): user(ok_schema="OAuthAccountsListResponse"),
    ("DELETE", "/oauth/accounts/{provider}"): user(
        403, 404, 409, 429, body=StepUpBody, body_required=False
    ),
    ("POST", "/oauth/link/{provider}"): user(
        403, 404, 409, 429, 502, query=OAuthRedirectQuery, ok_schema="OAuthAuthorizationResponse"
    ),
    ("POST", "/auth/reauthenticate"): user(
        400, 403, 429, body=ReauthenticateBody, ok_schema="ReauthenticateResponse"
    ),
    # passkeys
    ("POST", "/users/me/passkeys/register/options"): user(
        403,
        404,
        409,
        429,
        body=PasskeyOptionsBody,
        body_required=False,
        ok_schema="PasskeyOptionsResponse",
    ),
    ("POST", "/users/me/passkeys/register/verify"): user(
        400, 404, 409, 429, ok=201, body=PasskeyRegisterBody, ok_schema="PasskeyResponse"
    ),
    ("GET", "/users/me/passkeys"): user(404, ok_schema="PasskeyListResponse"),
    ("DELETE", "/users/me/passkeys/{passkey_id}"): user(
        403, 404, 409, body=StepUpBody, body_required=False
    ),
    ("POST", "/auth/passkeys/authenticate/options"): public(
        401,
        404,
        429,
        body=PasskeyAuthOptionsBody,
        body_required=False,
        ok_schema="PasskeyOptionsResponse",
    ),
    ("POST", "/auth/passkeys/authenticate/verify"): public(
        400, 401, 403, 404, 429, body=PasskeyProofBody, ok_schema="Token"
    ),
    # organizations
    ("POST", "/organizations"): user(403, 409, ok=201, body=CreateOrganizationBody),
    ("GET", "/organizations/me"): user(ok_schema="MyOrganizationList"),
    ("GET", ORG): user(404, ok_schema="MyOrganizationResponse"),
    ("PUT", ORG): user(403, 404, 409, body=UpdateOrganizationBody),
    ("PATCH", ORG): user(403, 404, 409, body=UpdateOrganizationBody),
    ("DELETE", ORG): user(403, 404),
    ("GET", f"{ORG}/members"): user(404, query=PageQuery, ok_schema="OrganizationMemberPage"),
    ("POST", f"{ORG}/members"): user(403, 404, 409, ok=201, body=AddMemberRequest),
    ("PATCH", f"{ORG}/members/{{user_id}}"): user(403, 404, 409, body=ChangeRoleBody),
    ("DELETE", f"{ORG}/members/{{user_id}}"): user(403, 404, 409),
    # admin
    ("GET", "/admin/stats"): admin(ok_schema="AdminStatsResponse"),
    ("GET", "/admin/users"): admin(query=AdminUserQuery, ok_schema="UserPage"),
    ("POST", "/admin/users"): admin(409, ok=201, body=UserCreate, ok_schema="UserResponse"),
    ("GET", ADMIN_USER): admin(404, ok_schema="UserResponse"),
    ("PUT", ADMIN_USER): admin(404, 409, body=UserUpdate, ok_schema="UserResponse"),
    ("PATCH", ADMIN_USER): admin(404, 409, body=UserUpdate, ok_schema="UserResponse"),
    ("DELETE", ADMIN_USER): admin(404, 409),
    ("POST", f"{ADMIN_USER}/activate"): admin(404),
    ("POST", f"{ADMIN_USER}/deactivate"): admin(404),
    ("POST", "/admin/users/bulk-action"): admin(body=BulkActionBody, ok_schema="BulkActionResult"),
    ("GET", "/admin/organizations"): admin(query=AdminOrganizationQuery),
    ("POST", "/admin/organizations"): admin(404, 409, ok=201, body=OrganizationCreate),
    ("GET", ADMIN_ORG): admin(404),
    ("PUT", ADMIN_ORG): admin(404, 409, body=OrganizationUpdate),
    ("PATCH", ADMIN_ORG): admin(404, 409, body=OrganizationUpdate),
    ("DELETE", ADMIN_ORG): admin(404),
    ("GET", f"{ADMIN_ORG}/members"): admin(404, query=PageQuery),
    ("POST", f"{ADMIN_ORG}/members"): admin(404, 409, ok=201, body=AddMemberRequest),
    ("DELETE", f"{ADMIN_ORG}/members/{{user_id}}"): admin(404, 409),
    ("GET", "/admin/sessions"): admin(query=AdminSessionQuery, ok_schema="AdminSessionPage"),
    ("DELETE", "/admin/sessions/{session_id}"): admin(404),
    ("GET", "/admin/audit-events"): admin(
        query=AdminAuditEventQuery, ok_schema="AdminAuditEventPage"
    ),
}
HEALTH = ("GET", "/health")
JWKS = ("GET", "/.well-known/jwks.json")

# SEED-COMPAT §5.F: the original's operationIds on our routes, and ours for routes it lacks.
OPERATION_IDS: dict[tuple[str, str], str] = {
    ("POST", "/auth/register"): "register",
    ("POST", "/auth/login"): "login",
    ("POST", "/auth/login/oauth"): "login_oauth",
    ("POST", "/auth/refresh"): "refresh_token",
    ("POST", "/auth/logout"): "logout",
    ("POST", "/auth/logout-all"): "logout_all",
    ("POST", "/auth/password-reset/request"): "request_password_reset",
    ("POST", "/auth/password-reset/confirm"): "confirm_password_reset",
    ("POST", "/auth/verify-email/request"): "request_email_verification",
    ("POST", "/auth/verify-email/confirm"): "confirm_email_verification",
    ("POST", "/auth/email-change/confirm"): "confirm_email_change",
    ("GET", "/users"): "list_users",
    ("GET", "/users/me"): "get_current_user_profile",
    ("GET", USER): "get_user_by_id",
    ("PATCH", USER): "update_user",
    ("DELETE", USER): "delete_user",
    ("PATCH", "/users/me"): "update_current_user",
    ("POST", "/users/me/email"): "request_email_change",
    ("PATCH", "/users/me/password"): "change_current_user_password",
    ("DELETE", "/users/me"): "delete_current_user",
    ("GET", "/users/me/security-events"): "list_my_security_events",
    ("GET", "/sessions/me"): "list_my_sessions",
    ("DELETE", "/sessions/{session_id}"): "revoke_session",
    ("DELETE", "/sessions/me/expired"): "cleanup_expired_sessions",
    ("POST", "/sessions/revoke-others"): "revoke_other_sessions",
    ("POST", "/auth/introspect"): "introspect_token",
    ("GET", "/users/me/mfa"): "get_mfa_status",
    ("POST", "/users/me/mfa/totp/setup"): "start_totp_setup",
    ("POST", "/users/me/mfa/totp/confirm"): "confirm_totp_setup",
    ("POST", "/users/me/mfa/disable"): "disable_mfa",
    ("POST", "/users/me/mfa/recovery-codes"): "regenerate_recovery_codes",
    ("POST", "/admin/users/{user_id}/mfa/reset"): "admin_reset_user_mfa",
    ("POST", "/auth/login/mfa"): "login_mfa",
    ("GET", "/oauth/providers"): "list_oauth_providers",
    ("GET", "/oauth/authorize/{provider}"): "get_oauth_authorization_url",
    ("POST", "/oauth/callback/{provider}"): "handle_oauth_callback",
    ("GET", "/oauth/accounts"): "list_oauth_accounts",
    ("DELETE", "/oauth/accounts/{provider}"): "unlink_oauth_account",
    ("POST", "/oauth/link/{provider}"): "start_oauth_link",
    ("POST", "/auth/reauthenticate"): "reauthenticate",
    ("POST", "/users/me/passkeys/register/options"): "passkey_registration_options",
    ("POST", "/users/me/passkeys/register/verify"): "passkey_registration_verify",
    ("GET", "/users/me/passkeys"): "list_my_passkeys",
    ("DELETE", "/users/me/passkeys/{passkey_id}"): "delete_my_passkey",
    ("POST", "/auth/passkeys/authenticate/options"): "passkey_authentication_options",
    ("POST", "/auth/passkeys/authenticate/verify"): "passkey_authentication_verify",
    ("POST", "/organizations"): "create_organization",
    ("GET", "/organizations/me"): "get_my_organizations",
    ("GET", ORG): "get_organization",
    ("PUT", ORG): "update_organization",
    ("PATCH", ORG): "patch_organization",
    ("DELETE", ORG): "delete_organization",
    ("GET", f"{ORG}/members"): "get_organization_members",
    ("POST", f"{ORG}/members"): "add_organization_member",
    ("PATCH", f"{ORG}/members/{{user_id}}"): "update_organization_member_role",
    ("DELETE", f"{ORG}/members/{{user_id}}"): "remove_organization_member",
    ("GET", "/admin/stats"): "admin_get_stats",
    ("GET", "/admin/users"): "admin_list_users",
    ("POST", "/admin/users"): "admin_create_user",
    ("GET", ADMIN_USER): "admin_get_user",
    ("PUT", ADMIN_USER): "admin_update_user",
    ("PATCH", ADMIN_USER): "admin_patch_user",
    ("DELETE", ADMIN_USER): "admin_delete_user",
    ("POST", f"{ADMIN_USER}/activate"): "admin_activate_user",
    ("POST", f"{ADMIN_USER}/deactivate"): "admin_deactivate_user",
    ("POST", "/admin/users/bulk-action"): "admin_bulk_user_action",
    ("GET", "/admin/organizations"): "admin_list_organizations",
    ("POST", "/admin/organizations"): "admin_create_organization",
    ("GET", ADMIN_ORG): "admin_get_organization",
    ("PUT", ADMIN_ORG): "admin_update_organization",
    ("PATCH", ADMIN_ORG): "admin_patch_organization",
    ("DELETE", ADMIN_ORG): "admin_delete_organization",
    ("GET", f"{ADMIN_ORG}/members"): "admin_list_organization_members",
    ("POST", f"{ADMIN_ORG}/members"): "admin_add_organization_member",
    ("DELETE", f"{ADMIN_ORG}/members/{{user_id}}"): "admin_remove_organization_member",
    ("GET", "/admin/sessions"): "admin_list_sessions",
    ("DELETE", "/admin/sessions/{session_id}"): "admin_revoke_session",
    ("GET", "/admin/audit-events"): "admin_list_audit_events",
}
# SEED-COMPAT §5.F: the component names generated clients import, where we answer them.
FRONTEND_SCHEMAS = ("UserResponse", "Token", "SessionResponse", "SessionListResponse")
FRONTEND_SCHEMAS += ("OrganizationResponse", "OrganizationMemberResponse", "PaginationMeta")
FRONTEND_SCHEMAS += ("UserCreate", "UserUpdate", "OrganizationCreate", "OrganizationUpdate")
FRONTEND_SCHEMAS += ("AddMemberRequest",)
# ... and the fields the original frontend writes into them (SEED-COMPAT §5.F); "?" = nullable.
FRONTEND_FIELDS = {
    "UserCreate": ("email", "first_name", "last_name", "password", "is_superuser"),
    "UserUpdate": ("first_name", "last_name?", "is_active", "is_superuser", "password"),
    "OrganizationCreate": ("name", "slug", "description?"),
    "OrganizationUpdate": ("name", "description?", "is_active"),
    "AddMemberRequest": ("user_id", "role"),
}


@pytest.fixture(autouse=True)
def _fresh_specification() -> Iterator[None]:
    """sanic-ext keeps one document per process; each test starts its app from a new one."""
    SpecificationBuilder.reset()  # type: ignore[no-untyped-call]
    yield
    SpecificationBuilder.reset()  # type: ignore[no-untyped-call]


def with_docs(**config: Any) -> Callable[[Sanic[Any, Any]], None]:
    def setup(app: Sanic[Any, Any]) -> None:
        app.config.OAS = True
        app.config.update(config)

    return setup


@dataclass
class Documented:
    app: Sanic[Any, Any]
    document: dict[str, Any]


@pytest.fixture(scope="module")
async def documented(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Documented]:
    """An app of the extension with its docs on, and the document it served, for the tests that
    only read them: one start for the module (the document does not depend on the database)."""
    SpecificationBuilder.reset()  # type: ignore[no-untyped-call]
    url = f"sqlite://{tmp_path_factory.mktemp('documented') / 'test.sqlite3'}"
    try:
        async with module_server(url, setup=with_docs()) as running:
            document = await load_document(running)
    finally:
        SpecificationBuilder.reset()  # type: ignore[no-untyped-call]
    yield Documented(running.app, document)


async def load_document(api: RunningApp) -> dict[str, Any]:
    response = await api.client.get("/docs/openapi.json")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def app_routes(app: Sanic[Any, Any], prefix: str = PREFIX) -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every route of the extension, as the router has them."""
    found = set()
    for route in app.router.routes:
        path = "/" + route.path
        if not (path.startswith(prefix + "/") or path in ("/health", JWKS[1])):
            continue
        if path == prefix + "/openapi.json":
            continue  # the document itself, also served under the prefix (not in it)
        path = re.sub(r"<(\w+)(:[^>]*)?>", r"{\1}", path)
        for method in route.methods - {"OPTIONS", "HEAD"}:
            found.add((method, path))
    return found


def expected(method: str, path: str, prefix: str = PREFIX) -> Contract | None:
    if (method, path) == HEALTH:
        return public(ok_schema="HealthResponse")
    if (method, path) == JWKS:
        return public(404, ok_schema="JwksResponse")
    return CONTRACT.get((method, path.removeprefix(prefix)))


def problems_of(app: Sanic[Any, Any], document: dict[str, Any], prefix: str = PREFIX) -> list[str]:
    """Every way the document falls short of the contract, for every route of the app."""
    problems: list[str] = []
    routes = app_routes(app, prefix)
    contract_routes = {(m, prefix + p) for m, p in CONTRACT} | {HEALTH, JWKS}
    problems += [f"{m} {p}: in API.md but not served" for m, p in contract_routes - routes]
    for method, path in sorted(routes):
        where = f"{method} {path}"
        contract = expected(method, path, prefix)
        if contract is None:
            problems.append(f"{where}: served but missing from this test's contract table")
            continue
        operation = document["paths"].get(path, {}).get(method.lower())
        if operation is None:
            problems.append(f"{where}: not in the document")
            continue
        if not operation.get("summary") or not operation.get("description"):
            problems.append(f"{where}: no summary or description")
        if operation.get("tags", [""])[0][:1].islower():
            problems.append(f"{where}: tagged with a blueprint name, not documented")
        responses = operation.get("responses", {})
        ok = responses.get(str(contract.ok), {})
        ok_body = ok.get("content", {}).get("application/json", {}).get("schema", {})
        # A route with several bodies for its success (a login: tokens, or mfa_required)
        # documents them as oneOf, the contract's first.
        ok_ref = (ok_body.get("oneOf") or [ok_body])[0].get("$ref")
        if ok_ref is None:
            problems.append(f"{where}: no {contract.ok} response with a schema")
        elif contract.ok_schema and not ok_ref.endswith(f"/{contract.ok_schema}"):
            problems.append(f"{where}: {contract.ok} is {ok_ref}, not {contract.ok_schema}")
        documented_errors = {int(s) for s in responses if s != "default" and int(s) >= 400}
        for status in sorted(contract.error_statuses - documented_errors):
            problems.append(f"{where}: the {status} response is not documented")
        for status in sorted(documented_errors):
            schema = responses[str(status)]["content"]["application/json"]["schema"]
            if (method, path) == HEALTH and status == 503:
                if schema != {"$ref": "#/components/schemas/HealthResponse"}:
                    problems.append(f"{where}: 503 is not the health body")
            elif schema != {"$ref": ERROR_REF}:
                problems.append(f"{where}: {status} is not the ErrorResponse")
        if 401 in documented_errors and "WWW-Authenticate" not in responses["401"].get(
            "headers", {}
        ):
            problems.append(f"{where}: 401 without WWW-Authenticate")
        if 429 in documented_errors and "Retry-After" not in responses["429"].get("headers", {}):
            problems.append(f"{where}: 429 without Retry-After")
        security = operation.get("security") or []
        # Public as to users; introspection clients authenticate with HTTP Basic.
        if contract.auth == "public" and security and security != [{"IntrospectionClient": []}]:
            problems.append(f"{where}: public route marked as secured")
        if contract.auth != "public" and not (
            {BEARER_SCHEME: []} in security and {OAUTH2_SCHEME: []} in security
        ):
            problems.append(f"{where}: authenticated route without the security schemes")
    return problems


def test_every_route_is_documented_with_its_responses(documented: Documented) -> None:
    app, document = documented.app, documented.document

    assert problems_of(app, document) == []
    assert len(app_routes(app)) == len(CONTRACT) + 2


def test_operation_ids_and_schema_names_are_the_stable_ones(documented: Documented) -> None:
    document = documented.document

    found = {
        (method.upper(), path.removeprefix(PREFIX)): operation["operationId"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if path.startswith(PREFIX + "/") or path in ("/health", JWKS[1])
    }
    assert found == {**OPERATION_IDS, HEALTH: "health_check", JWKS: "get_jwks"}
    assert set(OPERATION_IDS) == set(CONTRACT)
    schemas = document["components"]["schemas"]
    assert set(FRONTEND_SCHEMAS) <= set(schemas)
    for name, fields in FRONTEND_FIELDS.items():
        properties = schemas[name]["properties"]
        for written in fields:
            assert written.rstrip("?") in properties, (name, written)
            if written.endswith("?"):
                assert properties[written.rstrip("?")].get("nullable") is True, (name, written)


def error_classes() -> dict[str, type[errors.AuthSessionsError]]:
    """Every exception class of the package, by code."""
    found: dict[str, type[errors.AuthSessionsError]] = {}
    pending = [errors.AuthSessionsError]
    while pending:
        cls = pending.pop()
        found[cls.code] = cls
        pending += cls.__subclasses__()
    return found


def test_errors_are_documented_from_their_classes(documented: Documented) -> None:
    document = documented.document
    classes = error_classes()

    seen = set()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) < 400 or path == "/health":
                    continue
                examples = response["content"]["application/json"]["examples"]
                assert examples, f"{method} {path} {status}"
                for code, example in examples.items():
                    error = classes[code]
                    assert status_for(error) == int(status), f"{method} {path}: {code}"
                    assert example["value"] == {
                        "success": False,
                        "errors": [{"code": code, "message": error.message, "field": None}],
                    }
                    assert f"`{code}`: {error.message}" in response["description"]
                    seen.add(code)
    register = document["paths"][f"{PREFIX}/auth/register"]["post"]["responses"]
    assert set(register["409"]["content"]["application/json"]["examples"]) == {"EMAIL_TAKEN"}
    assert {"AUTH_REQUIRED", "AUTH_INVALID_TOKEN", "DATABASE_UNAVAILABLE"} <= seen
    assert {"AUTH_INVALID_CREDENTIALS", "ACCOUNT_LOCKED", "RESET_TOKEN_INVALID"} <= seen


async def test_an_undocumented_route_fails_the_check(make_app: Any) -> None:
    async def extra(request: Any) -> Any:
        return json({})

    def setup(app: Sanic[Any, Any]) -> None:
        with_docs()(app)
        app.add_route(extra, f"{PREFIX}/users/me/extra", methods=["GET"])

    api: RunningApp = await make_app(setup=setup)
    document = await load_document(api)

    problems = problems_of(api.app, document)
    assert problems == [
        f"GET {PREFIX}/users/me/extra: served but missing from this test's contract table"
    ]


def test_a_route_without_its_error_docs_fails_the_check(documented: Documented) -> None:
    app, document = documented.app, copy.deepcopy(documented.document)
    operation = document["paths"][f"{PREFIX}/auth/register"]["post"]
    del operation["responses"]["409"]
    operation["responses"]["201"] = {"description": "OK"}

    assert problems_of(app, document) == [
        f"POST {PREFIX}/auth/register: no 201 response with a schema",
        f"POST {PREFIX}/auth/register: the 409 response is not documented",
    ]


def test_the_document_is_valid_openapi_3(documented: Documented) -> None:
    document = documented.document

    # The validators are imported where used: every test worker collects this module.
    from openapi_spec_validator import validate

    assert document["openapi"].startswith("3.")
    validate(document)


async def test_security_schemes_and_swagger_authorize_flow(make_app: Any) -> None:
    api: RunningApp = await make_app(setup=with_docs())
    document = await load_document(api)
    schemes = document["components"]["securitySchemes"]

    assert schemes[BEARER_SCHEME] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schemes[BEARER_SCHEME]["description"],
    }
    assert schemes[OAUTH2_SCHEME]["type"] == "oauth2"
    password_flow = schemes[OAUTH2_SCHEME]["flows"]["password"]
    assert password_flow["tokenUrl"] == f"{PREFIX}/auth/login/oauth"

    # What Swagger UI's "Authorize" does with the password flow, then with the token.
    await api.register("swagger@example.com")
    token = await api.client.post(
        password_flow["tokenUrl"],
        data={
            "grant_type": "password",
            "username": "swagger@example.com",
            "password": STRONG_PASSWORD,
            "scope": "",
        },
    )
    assert token.status_code == 200, token.text
    assert token.json()["token_type"] == "bearer"
    me = await api.client.get(
        api.url("/users/me"), headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["email"] == "swagger@example.com"


async def test_a_cookie_transport_documents_the_cookie_scheme(make_app: Any) -> None:
    api: RunningApp = await make_app(
        setup=with_docs(), transport="both", csrf_trusted_origins="https://app.example.com"
    )
    document = await load_document(api)
    assert document["components"]["securitySchemes"]["CookieAuth"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": "access_token",
        "description": document["components"]["securitySchemes"]["CookieAuth"]["description"],
    }
    me = document["paths"][f"{PREFIX}/users/me"]["get"]["security"]
    assert {"CookieAuth": []} in me and {BEARER_SCHEME: []} in me
    assert "security" not in document["paths"][f"{PREFIX}/auth/login"]["post"]
    assert problems_of(api.app, document) == []


async def test_token_url_follows_the_url_prefix(make_app: Any) -> None:
    api: RunningApp = await make_app(setup=with_docs(), url_prefix="/identity")
    document = await load_document(api)
    flow = document["components"]["securitySchemes"][OAUTH2_SCHEME]["flows"]["password"]

    assert flow["tokenUrl"] == "/identity/auth/login/oauth"
    assert problems_of(api.app, document, prefix="/identity") == []


def test_request_schemas_match_the_pydantic_models(documented: Documented) -> None:
    document = documented.document
    schemas = document["components"]["schemas"]

    checked = 0
    for (method, path), contract in CONTRACT.items():
        operation = document["paths"][PREFIX + path][method.lower()]
        model = contract.body or contract.form
        if model is not None:
            media = "application/json" if contract.body else "application/x-www-form-urlencoded"
            assert operation["requestBody"]["required"] is contract.body_required
            ref = operation["requestBody"]["content"][media]["schema"]["$ref"]
            schema = schemas[ref.rsplit("/", 1)[1]]
            pydantic_schema = model.model_json_schema()
            assert set(schema["properties"]) == set(model.model_fields), path
            assert set(schema.get("required", [])) == set(pydantic_schema.get("required", []))
            checked += 1
        else:
            assert "requestBody" not in operation, f"{method} {path}"
        if contract.query is not None:
            params = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
            assert set(params) == set(contract.query.model_fields), path
            # Required exactly when the model requires it (redirect_uri of the social routes).
            required = set(contract.query.model_json_schema().get("required", []))
            assert {name for name, p in params.items() if p["required"]} == required, path
    assert checked == 41  # every JSON or form body of the contract

    register = schemas["RegisterBody"]
    assert register["required"] == ["email", "password"]
    assert register["properties"]["email"]["format"] == "email"
    assert schemas["LoginBody"]["required"] == ["email", "password"]
    assert schemas["RefreshBody"]["required"] == ["refresh_token"]
    assert schemas["UpdateMeBody"]["additionalProperties"] is False
    assert set(schemas["OAuthLoginForm"]["required"]) == {"username", "password"}


def conforms(document: dict[str, Any], name: str, instance: Any) -> None:
    """``instance`` is valid against the component ``name`` of ``document``."""
    from openapi_schema_validator import OAS30Validator

    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    OAS30Validator(schema).validate(instance)


async def test_documented_response_schemas_describe_real_answers(make_app: Any) -> None:
    api: RunningApp = await make_app(
        setup=with_docs(),
        first_superuser_email="root@example.com",
        first_superuser_password=STRONG_PASSWORD,
    )
    document = await load_document(api)
    client = api.client

    conforms(document, "UserResponse", await api.register("ann@example.com", first_name="Ann"))
    tokens = await api.login("ann@example.com")
    conforms(document, "Token", tokens)
    refreshed = await client.post(
        api.url("/auth/refresh"), json={"refresh_token": tokens["refresh_token"]}
    )
    conforms(document, "TokenPairResponse", refreshed.json())
    tokens = {**tokens, **refreshed.json()}
    sessions = await client.get(api.url("/sessions/me"), headers=bearer(tokens))
    conforms(document, "SessionListResponse", sessions.json())
    org = await client.post(
        api.url("/organizations"), json={"name": "Acme"}, headers=bearer(tokens)
    )
    conforms(document, "MyOrganizationResponse", org.json())
    mine = await client.get(api.url("/organizations/me"), headers=bearer(tokens))
    conforms(document, "MyOrganizationList", mine.json())
    members = await client.get(
        api.url(f"/organizations/{org.json()['id']}/members"), headers=bearer(tokens)
    )
    conforms(document, "OrganizationMemberPage", members.json())

    root = await api.login("root@example.com")
    users = await client.get(api.url("/admin/users"), headers=bearer(root))
    conforms(document, "UserPage", users.json())
    admin_sessions = await client.get(api.url("/admin/sessions"), headers=bearer(root))
    conforms(document, "AdminSessionPage", admin_sessions.json())
    organizations = await client.get(api.url("/admin/organizations"), headers=bearer(root))
    conforms(document, "OrganizationPage", organizations.json())
    deactivated = await client.post(
        api.url(f"/admin/users/{users.json()['data'][0]['id']}/deactivate"), headers=bearer(root)
    )
    conforms(document, "UserStatusResponse", deactivated.json())

    logout_all = await client.post(api.url("/auth/logout-all"), headers=bearer(root))
    conforms(document, "LogoutAllResponse", logout_all.json())
    unauthenticated = await client.get(api.url("/users/me"))
    conforms(document, "ErrorResponse", unauthenticated.json())
    invalid = await client.post(api.url("/auth/login"), json={"email": "nope"})
    conforms(document, "ErrorResponse", invalid.json())
    conforms(document, "HealthResponse", (await client.get("/health")).json())


def test_info_defaults_to_the_package_and_tags_are_described(documented: Documented) -> None:
    document = documented.document

    assert document["info"]["title"] == "Sanic Auth Sessions"
    assert document["info"]["version"] == __version__
    assert "Bearer" in document["info"]["description"]
    tags = {tag["name"]: tag.get("description") for tag in document["tags"]}
    assert {"Auth", "Users", "Sessions", "Organizations", "Admin", "Health"} <= set(tags)
    assert all(tags[name] for name in ("Auth", "Admin"))


async def test_the_host_app_keeps_its_own_info(make_app: Any) -> None:
    api: RunningApp = await make_app(
        setup=with_docs(API_TITLE="Host API", API_VERSION="9.1.0", API_DESCRIPTION="Ours.")
    )
    document = await load_document(api)

    assert document["info"]["title"] == "Host API"
    assert document["info"]["version"] == "9.1.0"
    assert document["info"]["description"] == "Ours."


async def test_without_oas_no_docs_are_served_nor_built(make_app: Any) -> None:
    """Without OpenAPI the routes carry no documentation and the docs pages' assets are not
    served: an app that turns it off does not pay for building them at each start."""
    from sanic_ext.extensions.openapi.builders import OperationStore

    api: RunningApp = await make_app()  # conftest turns OAS off

    assert (await api.client.get("/docs/openapi.json")).status_code == 404
    assert (await api.client.get("/docs/assets/redoc/redoc.standalone.js")).status_code == 404
    assert (await api.client.get("/health")).status_code == 200
    handlers = [route.handler for route in api.app.router.routes]
    assert len(handlers) >= len(CONTRACT)
    assert [handler for handler in handlers if handler in OperationStore()] == []


async def test_swagger_ui_authorize_with_the_password_flow(
    make_app: Any, chromium_path: str
) -> None:
    """In a real browser: Authorize with email and password, then call GET /users/me."""
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import async_playwright

    api: RunningApp = await make_app(setup=with_docs())  # Swagger UI from the app's assets
    await api.register("swagger-ui@example.com")
    async with async_playwright() as playwright:
        try:
            chromium = await playwright.chromium.launch(
                executable_path=chromium_path, args=browser.CHROMIUM_ARGS
            )
        except PlaywrightError as exc:
            browser.unavailable(f"Chromium at {chromium_path} did not start: {exc}")
        try:
            page = await chromium.new_page()
            await page.goto(f"{api.base_url}/docs/swagger", wait_until="load")
            await page.locator(".btn.authorize").first.click()
            await page.locator("#oauth_username").fill("swagger-ui@example.com")
            await page.locator("#oauth_password").fill(STRONG_PASSWORD)
            oauth = page.locator(".auth-container", has_text=OAUTH2_SCHEME)
            await oauth.locator("button.authorize").click()
            await oauth.locator("button", has_text="Logout").wait_for(timeout=10_000)
            await page.locator("button.btn-done").first.click()

            # The tags open folded: open the one of GET /users/me, then the operation.
            me_path = page.locator(f".opblock-summary-path[data-path='{PREFIX}/users/me']")
            operation = page.locator(".opblock-get", has=me_path)
            if not await operation.count():
                await page.locator(".opblock-tag", has_text="Users").first.click()
            await operation.first.wait_for(timeout=10_000)
            if not await operation.locator(".opblock-body").count():
                await operation.locator(".opblock-summary").first.click()
            await operation.locator("button.try-out__btn").click()
            await operation.locator("button.execute").click()
            status = operation.locator(
                ".live-responses-table tr.response .response-col_status"
            ).first
            await status.wait_for(timeout=10_000)
            assert (await status.inner_text()).strip() == "200"
            assert (
                "swagger-ui@example.com"
                in await operation.locator(".live-responses-table .microlight").first.inner_text()
            )
        finally:
            await chromium.close()


def test_documentation_objects_are_built_once_but_each_route_owns_its_responses() -> None:
    """The costly sanic-ext definitions are cached across routes and apps; a route that adds
    to its documented responses (sanic-ext's ``operation.response``) changes only its own."""
    from sanic_ext.extensions.openapi.builders import OperationStore

    from sanic_auth_sessions.http.openapi import documented

    async def first(request: Any) -> Any:
        return json({})

    async def second(request: Any) -> Any:
        return json({})

    for handler in (first, second):
        documented("A", operation_id=handler.__name__, tag="T", errors=(errors.NotFound,))(handler)
    one, two = OperationStore()[first], OperationStore()[second]
    assert one.responses[200] is not two.responses[200]
    assert one.responses[404].fields["content"] == two.responses[404].fields["content"]
    one.response(200, {"text/plain": str}, "Also text.")
    one.response(404, {"text/plain": str}, "Also text.")
    assert "text/plain" in one.responses[200].fields["content"]
    assert set(two.responses[200].fields["content"]) == {"application/json"}
    assert set(two.responses[404].fields["content"]) == {"application/json"}
