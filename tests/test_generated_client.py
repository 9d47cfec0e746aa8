"""A client generated from the served OpenAPI document with openapi-python-client.

The original project's clients are generated from its document; one generated from ours must
build with no warnings, name its functions as the original's operationIds, and complete a
session's life (register, login, me, refresh, sessions, organizations) over real HTTP against
the example app run as a user runs it.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from .conftest import STRONG_PASSWORD
from .example_process import example_app
from .serving import LOOPBACK

# Looked up, not imported: every test worker collects this module, and the generator runs in
# a process of its own.
pytestmark = pytest.mark.skipif(
    find_spec("openapi_python_client") is None,
    reason="openapi-python-client runs on Python 3.11 or newer",
)

PACKAGE = "sanic_auth_sessions_client"

# Every operationId of the original's routes that we serve (not its OAuth provider mode), and
# ours only, by the tag the generator makes a subpackage of. The generator names a module after
# its operationId in snake case: the root page's ``root__get`` is ``root_get``.
OPERATIONS = {
    "auth": {
        "register",
        "login",
        "login_oauth",
        "refresh_token",
        "request_password_reset",
        "confirm_password_reset",
        "logout",
        "logout_all",
        "introspect_token",
        "request_email_verification",
        "confirm_email_verification",
        "confirm_email_change",
        "login_mfa",
        "reauthenticate",
        "passkey_authentication_options",
        "passkey_authentication_verify",
    },
    "users": {
        "list_users",
        "get_current_user_profile",
        "update_current_user",
        "get_user_by_id",
        "update_user",
        "change_current_user_password",
        "delete_user",
        "delete_current_user",
        "list_my_security_events",
        "request_email_change",
        "get_mfa_status",
        "start_totp_setup",
        "confirm_totp_setup",
        "disable_mfa",
        "regenerate_recovery_codes",
        "passkey_registration_options",
        "passkey_registration_verify",
        "list_my_passkeys",
        "delete_my_passkey",
    },
    "sessions": {
        "list_my_sessions",
        "revoke_session",
        "cleanup_expired_sessions",
        "revoke_other_sessions",
    },
    "organizations": {
        "get_my_organizations",
        "get_organization",
        "get_organization_members",
        "update_organization",
        "create_organization",
        "patch_organization",
        "delete_organization",
        "add_organization_member",
        "update_organization_member_role",
        "remove_organization_member",
    },
    "admin": {
        "admin_get_stats",
        "admin_list_users",
        "admin_create_user",
        "admin_get_user",
        "admin_update_user",
        "admin_patch_user",
        "admin_delete_user",
        "admin_activate_user",
        "admin_reset_user_mfa",
        "admin_deactivate_user",
        "admin_bulk_user_action",
        "admin_list_organizations",
        "admin_create_organization",
        "admin_get_organization",
        "admin_update_organization",
        "admin_patch_organization",
        "admin_delete_organization",
        "admin_list_organization_members",
        "admin_add_organization_member",
        "admin_remove_organization_member",
        "admin_list_sessions",
        "admin_revoke_session",
        "admin_list_audit_events",
    },
    "social_login": {
        "list_oauth_providers",
        "get_oauth_authorization_url",
        "handle_oauth_callback",
        "list_oauth_accounts",
        "unlink_oauth_account",
        "start_oauth_link",
    },
    "health": {"health_check"},
    "keys": {"get_jwks"},
    "example": {"root_get", "hello", "export_my_account", "organization_report"},
}


@dataclass
class Generated:
    base_url: str
    document: dict[str, Any]
    output: str  # what the generator printed
    package: Path

    def module(self, name: str) -> ModuleType:
        return importlib.import_module(f"{PACKAGE}.{name}")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    """The example app running, and a client package generated from the document it serves."""
    server_dir = tmp_path_factory.mktemp("server")
    client_dir = tmp_path_factory.mktemp("client")
    with example_app(server_dir, "-m", "example_app") as base_url:
        response = httpx.get(f"{base_url}/api/v1/openapi.json", timeout=10, **LOOPBACK)
        assert response.status_code == 200, response.text
        document = response.json()
        document_path = client_dir / "openapi.json"
        document_path.write_text(json.dumps(document))
        package = client_dir / PACKAGE
        # The generator formats its output with ruff, a dependency of it, from the same venv.
        bin_dir = str(Path(sys.executable).parent)
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "openapi_python_client",
                "generate",
                "--path",
                str(document_path),
                "--output-path",
                str(package),
                "--meta",
                "none",
                "--fail-on-warning",
            ],
            cwd=client_dir,
            env={**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")},
            capture_output=True,
            text=True,
            timeout=60,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        sys.path.insert(0, str(client_dir))
        try:
            yield Generated(base_url, document, output, package)
        finally:
            sys.path.remove(str(client_dir))
            for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
                del sys.modules[name]


def test_the_client_builds_with_no_warnings_and_names_the_original_operations(
    generated: Generated,
) -> None:
    assert "warning" not in generated.output.lower(), generated.output
    assert "skipping" not in generated.output.lower(), generated.output
    assert generated.output.strip() == f"Generating {generated.package}"
    api = generated.package / "api"
    tags = {path.name for path in api.iterdir() if (path / "__init__.py").exists()}
    assert tags == set(OPERATIONS)
    for tag, operations in OPERATIONS.items():
        modules = {path.stem for path in (api / tag).glob("*.py")} - {"__init__"}
        assert modules == operations, tag
        for operation in operations:
            module = generated.module(f"api.{tag}.{operation}")
            for function in ("sync_detailed", "sync", "asyncio_detailed", "asyncio"):
                assert callable(getattr(module, function)), f"{tag}.{operation}.{function}"
    # Each function is the one the document names: its path and method.
    served = {
        operation["operationId"]: (method, path)
        for path, item in generated.document["paths"].items()
        for method, operation in item.items()
    }
    models = generated.module("models")
    me = generated.module("api.users.get_current_user_profile")._get_kwargs()
    assert (me["method"], me["url"]) == (*served["get_current_user_profile"],)
    update = generated.module("api.admin.admin_update_user")._get_kwargs(
        "00000000-0000-0000-0000-000000000001", body=models.UserUpdate(first_name="Ada")
    )
    assert update["method"] == served["admin_update_user"][0] == "put"
    assert update["url"] == "/api/v1/admin/users/00000000-0000-0000-0000-000000000001"
    assert update["json"] == {"first_name": "Ada"}


def assert_fully_parsed(value: Any, where: str = "response") -> None:
    """Every field the server sent is one the document declares, all the way down."""
    import attrs  # the generated models' library, installed with the generator

    if isinstance(value, list):
        for i, item in enumerate(value):
            assert_fully_parsed(item, f"{where}[{i}]")
    elif attrs.has(type(value)):
        extra = getattr(value, "additional_properties", {})
        assert extra == {}, f"{where} ({type(value).__name__}) has undocumented fields {extra}"
        for field in attrs.fields(type(value)):
            if field.name != "additional_properties":
                assert_fully_parsed(getattr(value, field.name), f"{where}.{field.name}")


def parsed(response: Any, status: int, model: type) -> Any:
    """The parsed body of a generated ``sync_detailed`` answer, of the documented model."""
    body = response.content.decode(errors="replace")
    assert response.status_code == status, body
    assert isinstance(response.parsed, model), (type(response.parsed), body)
    assert_fully_parsed(response.parsed, model.__name__)
    return response.parsed


def test_the_client_completes_register_login_me_refresh_sessions_organizations(
    generated: Generated,
) -> None:
    client_module = generated.module("client")
    models = generated.module("models")
    types = generated.module("types")

    def api(name: str) -> Any:
        return generated.module(f"api.{name}")

    # Each client closes its connections at the end, so the server stops at once.
    with contextlib.ExitStack() as clients:

        def connect(token: str | None = None) -> Any:
            # An answer with a status the document does not list raises.
            options = {"raise_on_unexpected_status": True, "timeout": httpx.Timeout(10)}
            if token is None:
                client = client_module.Client(base_url=generated.base_url, **options)
            else:
                client = client_module.AuthenticatedClient(
                    base_url=generated.base_url, token=token, **options
                )
            return clients.enter_context(client)

        run_the_flow(connect, models, types, api)


def run_the_flow(connect: Any, models: Any, types: Any, api: Any) -> None:
    anonymous = connect()
    email = "ada@example.com"

    registered = parsed(
        api("auth.register").sync_detailed(
            client=anonymous,
            body=models.RegisterBody(
                email=email, password=STRONG_PASSWORD, first_name="Ada", last_name="Lovelace"
            ),
        ),
        201,
        models.UserResponse,
    )
    assert (registered.email, registered.first_name, registered.last_name) == (
        email,
        "Ada",
        "Lovelace",
    )
    assert registered.is_active is True and registered.is_superuser is False

    login = parsed(
        api("auth.login").sync_detailed(
            client=anonymous, body=models.LoginBody(email=email, password=STRONG_PASSWORD)
        ),
        200,
        models.Token,
    )
    assert isinstance(login.access_token, str) and login.access_token
    assert isinstance(login.refresh_token, str) and login.refresh_token
    assert login.token_type.value == "bearer"
    assert isinstance(login.expires_in, int) and login.expires_in > 0
    assert isinstance(login.user, models.UserResponse)
    assert login.user.id == registered.id

    user = connect(login.access_token)
    me = parsed(
        api("users.get_current_user_profile").sync_detailed(client=user), 200, models.UserResponse
    )
    assert (me.id, me.email) == (registered.id, email)

    refreshed = parsed(
        api("auth.refresh_token").sync_detailed(
            client=anonymous, body=models.RefreshBody(refresh_token=login.refresh_token)
        ),
        200,
        models.TokenPairResponse,
    )
    assert refreshed.refresh_token != login.refresh_token
    assert refreshed.token_type.value == "bearer"
    user = connect(refreshed.access_token)

    sessions = parsed(
        api("sessions.list_my_sessions").sync_detailed(client=user),
        200,
        models.SessionListResponse,
    )
    assert sessions.total == 1 and len(sessions.sessions) == 1
    session = sessions.sessions[0]
    assert isinstance(session, models.SessionResponse)
    assert session.is_current is True
    assert session.expires_at > session.created_at

    created = parsed(
        api("organizations.create_organization").sync_detailed(
            client=user,
            body=models.CreateOrganizationBody(name="Analytical Engines", slug="engines"),
        ),
        201,
        models.MyOrganizationResponse,
    )
    assert (created.name, created.slug) == ("Analytical Engines", "engines")

    mine = api("organizations.get_my_organizations").sync_detailed(client=user)
    assert mine.status_code == 200, mine.content
    assert isinstance(mine.parsed, list), mine.content
    assert len(mine.parsed) == 1
    organization = mine.parsed[0]
    assert isinstance(organization, models.MyOrganizationResponse)
    assert_fully_parsed(mine.parsed, "get_my_organizations")
    assert organization.id == created.id
    assert organization.role == models.OrganizationRole.OWNER
    assert organization.role.value == "owner"
    assert organization.member_count == 1
    assert not isinstance(organization.description, types.Unset)
