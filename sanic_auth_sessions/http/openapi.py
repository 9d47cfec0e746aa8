"""OpenAPI documentation of the HTTP contract, through sanic-ext.

Every route of the extension carries one :func:`documented` decorator (or a :class:`RouteDocs`
shortcut) that states its summary, request body or query, success response and error
responses; the errors every route shares (401 on guarded routes, 400/413/422 where input is
read, 503 everywhere) are added here, so each route lists only its own. The response models
below exist for the documentation only: handlers answer with the plain dicts of ``schemas.py``.

Schemas are pydantic models, registered once as components and referenced with ``$ref``.
Pydantic writes JSON Schema 2020-12 and sanic-ext serves OpenAPI 3.0.3, so :func:`to_oas30`
translates the few constructs that differ (``null`` in a union becomes ``nullable``, ``const``
an ``enum``). :func:`install_openapi` adds the security schemes (a bearer JWT and the OAuth2
password flow on ``<prefix>/auth/login/oauth``, which Swagger UI's "Authorize" uses), tags, and
the API's title, version and description unless the host app has set its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, Field
from sanic import Sanic
from sanic_ext.extensions.openapi.builders import OperationStore, SpecificationBuilder
from sanic_ext.extensions.openapi.definitions import Response
from sanic_ext.extensions.openapi.types import Schema

from sanic_auth_sessions._version import __version__
from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.core.models import OrganizationRole

Handler = TypeVar("Handler", bound=Callable[..., Any])
Auth = Literal["public", "user", "superuser"]

BEARER_SCHEME = "BearerAuth"
OAUTH2_SCHEME = "OAuth2Password"
SCHEMA_REF = "#/components/schemas/{model}"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


# --- response models (documentation only) ----------------------------------------------------


class ErrorDetailOut(BaseModel):
    code: str = Field(description="Stable UPPER_SNAKE error code, e.g. AUTH_INVALID_CREDENTIALS.")
    message: str = Field(description="A human-readable explanation.")
    field: str | None = Field(description="The input field at fault (422), else null.")


class ErrorBody(BaseModel):
    """The body of every error answer."""

    success: Literal[False]
    errors: list[ErrorDetailOut]


class SuccessMessage(BaseModel):
    success: Literal[True]
    message: str


class UserOut(BaseModel):
    id: UUID
    email: str = Field(json_schema_extra={"format": "email"})
    first_name: str
    last_name: str
    is_active: bool
    is_superuser: bool
    created_at: datetime
    updated_at: datetime


class TokenPairOut(BaseModel):
    access_token: str = Field(description="JWT for 'Authorization: Bearer <access_token>'.")
    refresh_token: str = Field(description="JWT for /auth/refresh; replaced at every refresh.")
    token_type: Literal["bearer"]
    expires_in: int = Field(description="Lifetime of the access token, in seconds.")


class LoginOut(TokenPairOut):
    user: UserOut


class LogoutAllOut(SuccessMessage):
    sessions_revoked: int


class SessionOut(BaseModel):
    id: UUID
    device_name: str = Field(description='Parsed from the User-Agent, e.g. "Chrome on macOS".')
    device_id: str | None = Field(description="The X-Device-Id header sent at login.")
    ip_address: str | None
    user_agent: str | None
    location_city: str | None
    location_country: str | None
    last_used_at: datetime
    created_at: datetime
    expires_at: datetime
    is_current: bool = Field(description="True exactly for the session of the calling token.")


class SessionListOut(BaseModel):
    sessions: list[SessionOut]
    total: int


class DeletedOut(SuccessMessage):
    deleted: int


class AdminSessionOut(BaseModel):
    id: UUID
    device_name: str
    device_id: str | None
    ip_address: str | None
    user_agent: str | None
    location_city: str | None
    location_country: str | None
    last_used_at: datetime
    created_at: datetime
    expires_at: datetime
    is_active: bool = Field(description="Neither revoked nor expired.")
    user_id: UUID
    user_email: str
    user_full_name: str


class OrganizationOut(BaseModel):
    id: UUID
    name: str
    slug: str
    description: str | None
    is_active: bool
    member_count: int
    created_at: datetime
    updated_at: datetime


class MyOrganizationOut(OrganizationOut):
    role: OrganizationRole | None = Field(
        description="The caller's role; null for a superuser who is not a member."
    )


class MemberOut(BaseModel):
    user_id: UUID
    email: str
    first_name: str
    last_name: str
    role: OrganizationRole
    joined_at: datetime


class Pagination(BaseModel):
    total: int
    page: int
    page_size: int
    total_pages: int
    has_next: bool
    has_prev: bool


class KeysetPagination(Pagination):
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null last.")
    total_is_estimate: bool = Field(description="True when `total` is the database's estimate.")


class MyOrganizationPage(BaseModel):
    data: list[MyOrganizationOut]
    pagination: Pagination


class OrganizationPage(BaseModel):
    data: list[OrganizationOut]
    pagination: Pagination


class MemberPage(BaseModel):
    data: list[MemberOut]
    pagination: Pagination


class UserPage(BaseModel):
    data: list[UserOut]
    pagination: KeysetPagination


class AdminSessionPage(BaseModel):
    data: list[AdminSessionOut]
    pagination: KeysetPagination


class UserStatusOut(SuccessMessage):
    user: UserOut


class BulkActionOut(SuccessMessage):
    affected_count: int = Field(description="Users this call changed.")
    failed_count: int = Field(description="Requested users it did not change.")
    failed_ids: list[UUID] = Field(
        description="Each requested id (duplicates removed) this call did not change: unknown, "
        "the caller, already in that state, or the last owner of an organization."
    )


class DatabaseCheck(BaseModel):
    status: Literal["healthy", "unhealthy"]
    latency_ms: float | None = None
    error: str | None = None


class ServerCheck(BaseModel):
    status: Literal["healthy", "unhealthy"]
    state: Literal["serving", "draining"]


class WorkersCheck(BaseModel):
    status: Literal["healthy", "unhealthy"]
    workers_alive: int
    workers_expected: int


class HealthChecks(BaseModel):
    database: DatabaseCheck
    server: ServerCheck
    workers: WorkersCheck | None = Field(
        None, description="Only under Sanic's worker manager (several worker processes)."
    )


class HealthOut(BaseModel):
    status: Literal["healthy", "unhealthy"]
    version: str
    environment: str
    timestamp: datetime
    checks: HealthChecks


# --- pydantic -> OpenAPI 3.0 -------------------------------------------------------------------


def to_oas30(schema: Any) -> Any:
    """A pydantic (JSON Schema 2020-12) schema as an OpenAPI 3.0 schema object."""
    if isinstance(schema, list):
        return [to_oas30(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    node: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties", "$defs"):
            node[key] = {name: to_oas30(sub) for name, sub in value.items()}
        elif key == "const":
            node["enum"] = [value]
        elif key == "examples":
            if value:
                node["example"] = value[0]
        else:
            node[key] = to_oas30(value)
    for union in ("anyOf", "oneOf"):
        options = node.get(union)
        if not options or {"type": "null"} not in options:
            continue
        rest = [option for option in options if option != {"type": "null"}]
        del node[union]
        node["nullable"] = True
        if len(rest) > 1:
            node[union] = rest
        elif "$ref" in rest[0]:
            node["allOf"] = rest  # OpenAPI 3.0 ignores the siblings of a bare $ref
        else:
            node = {**rest[0], **node}
    return node


def schema_ref(model: type[BaseModel], *, mode: Literal["validation", "serialization"]) -> Any:
    """``{"$ref": ...}`` to ``model``, registered (with the models it uses) as a component."""
    spec = SpecificationBuilder()
    if not spec.has_component("schemas", model.__name__):
        schema = model.model_json_schema(ref_template=SCHEMA_REF, mode=mode)
        for name, definition in schema.pop("$defs", {}).items():
            if not spec.has_component("schemas", name):
                spec.add_component("schemas", name, to_oas30(definition))
        spec.add_component("schemas", model.__name__, to_oas30(schema))
    return {"$ref": SCHEMA_REF.format(model=model.__name__)}


# --- route documentation ---------------------------------------------------------------------

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed request: the body is not JSON or not a JSON object (BAD_REQUEST).",
    401: (
        "Missing, invalid, expired or revoked access token, or an inactive account "
        "(AUTH_REQUIRED, AUTH_INVALID_TOKEN)."
    ),
    403: "Authenticated but not allowed (PERMISSION_DENIED).",
    404: "Unknown resource (NOT_FOUND).",
    409: "Conflicts with the current state (CONFLICT).",
    413: "The request body is too large (PAYLOAD_TOO_LARGE).",
    422: "Invalid input: one error per bad field, with `field` set (VALIDATION_ERROR).",
    429: "Too many requests (RATE_LIMITED); retry after `Retry-After` seconds.",
    503: "The database is unreachable; nothing was changed (DATABASE_UNAVAILABLE).",
}
ERROR_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "Always `Bearer`.",
            "schema": {"type": "string", "enum": ["Bearer"]},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds to wait before retrying.",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}
QUERY_DESCRIPTIONS: dict[str, str] = {
    "page": "Page number, from 1.",
    "limit": "Rows per page, 1 to 100 (outside is 422).",
    "cursor": "Opaque `pagination.next_cursor` of the previous page (keyset paging); wins over "
    "`page`.",
    "search": "Case-insensitive part of the text to find.",
    "is_active": "Only active (true) or only inactive (false) rows.",
    "is_superuser": "Only superusers (true) or only other users (false).",
    "sort_by": "Field to sort by.",
    "sort_order": "Sort direction.",
    "user_id": "Only the sessions of this user.",
}
AUTH_NOTES: dict[Auth, str] = {
    "public": "",
    "user": "Needs a bearer access token.",
    "superuser": "Superusers only: other users get 403.",
}


class DocumentedResponse(Response):
    """sanic-ext's response object, with the response headers it leaves out."""

    headers: dict[str, Any]


ErrorSpec = int | tuple[int, str]


def documented(
    summary: str,
    *,
    tag: str,
    auth: Auth = "user",
    ok: tuple[int, type[BaseModel]] = (200, SuccessMessage),
    body: type[BaseModel] | None = None,
    form: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    errors: Iterable[ErrorSpec] = (),
    responses: Mapping[int, tuple[type[BaseModel], str]] | None = None,
    description: str | None = None,
) -> Callable[[Handler], Handler]:
    """Document a route; put it right under the route decorator (it must see the final handler).

    ``errors`` lists the route's own error statuses, optionally with a description
    (``(409, "EMAIL_TAKEN: ...")``); the shared ones are added: 401 unless ``auth`` is public,
    403 for superuser routes, 400 and 413 for a JSON body, 413 for a form, 422 for any input,
    503 always. ``responses`` adds non-error answers or overrides an error's body.
    ``description`` defaults to the handler's docstring.
    """
    error_notes: dict[int, str | None] = {}
    if auth != "public":
        error_notes[401] = None
    if auth == "superuser":
        error_notes[403] = "Not a superuser (PERMISSION_DENIED)."
    if body is not None:
        error_notes.update({400: None, 413: None})
    if form is not None:
        error_notes[413] = None
    if body is not None or form is not None or query is not None:
        error_notes[422] = None
    error_notes[503] = None
    for spec in errors:
        status, note = spec if isinstance(spec, tuple) else (spec, error_notes.get(spec))
        error_notes[status] = note

    def decorate(handler: Handler) -> Handler:
        # One look-up, then an insert: sanic-ext's store replaces itself while it is empty.
        operation = OperationStore()[handler]  # type: ignore[no-untyped-call]
        if body is not None:
            operation.body({JSON: {"schema": schema_ref(body, mode="validation")}}, required=True)
        elif form is not None:
            operation.body({FORM: {"schema": schema_ref(form, mode="validation")}}, required=True)
        text = description or " ".join((handler.__doc__ or "").split())
        note = AUTH_NOTES[auth]
        operation.describe(summary=summary, description=" ".join(filter(None, (text, note))))
        operation.tag(tag)
        if query is not None:
            add_query_parameters(operation, query)
        if auth != "public":
            # Either scheme: a token pasted in Swagger UI, or one from its OAuth2 password flow.
            operation.secured(BEARER_SCHEME)
            operation.secured(OAUTH2_SCHEME)
        status, model = ok
        operation.responses[status] = DocumentedResponse(
            {JSON: {"schema": schema_ref(model, mode="serialization")}},
            description="Created." if status == 201 else "OK.",
        )
        for error_status in sorted(error_notes):
            operation.responses[error_status] = DocumentedResponse(
                {JSON: {"schema": schema_ref(ErrorBody, mode="serialization")}},
                description=error_notes[error_status] or ERROR_DESCRIPTIONS[error_status],
                headers=ERROR_HEADERS.get(error_status),
            )
        for extra_status, (extra_model, extra_description) in (responses or {}).items():
            operation.responses[extra_status] = DocumentedResponse(
                {JSON: {"schema": schema_ref(extra_model, mode="serialization")}},
                description=extra_description,
            )
        return handler

    return decorate


def add_query_parameters(operation: Any, query: type[BaseModel]) -> None:
    schema = to_oas30(query.model_json_schema(mode="validation"))
    required = set(schema.get("required", ()))
    for name, prop in schema["properties"].items():
        prop.pop("title", None)
        if prop.pop("nullable", False) and prop.get("default", "") is None:
            del prop["default"]  # an absent parameter is the "null" of a query
        operation.parameter(
            name,
            Schema(**prop),  # type: ignore[no-untyped-call]
            "query",
            description=QUERY_DESCRIPTIONS.get(name),
            required=name in required,
        )


class RouteDocs:
    """:func:`documented` with a blueprint's tag and guard: ``doc = RouteDocs("Users")``."""

    def __init__(self, tag: str, *, auth: Auth = "user") -> None:
        self.tag = tag
        self.auth = auth

    def __call__(
        self,
        summary: str,
        *,
        auth: Auth | None = None,
        ok: tuple[int, type[BaseModel]] = (200, SuccessMessage),
        body: type[BaseModel] | None = None,
        form: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        errors: Iterable[ErrorSpec] = (),
        responses: Mapping[int, tuple[type[BaseModel], str]] | None = None,
        description: str | None = None,
    ) -> Callable[[Handler], Handler]:
        return documented(
            summary,
            tag=self.tag,
            auth=auth or self.auth,
            ok=ok,
            body=body,
            form=form,
            query=query,
            errors=errors,
            responses=responses,
            description=description,
        )


# --- the document as a whole -----------------------------------------------------------------

TAGS: dict[str, str] = {
    "Auth": "Registration, login, token refresh, logout and password reset.",
    "Users": "The caller's own account.",
    "Sessions": "The caller's sessions, one per device.",
    "Organizations": "Organizations and their members, by role (owner, admin, member).",
    "Admin": "Every user, organization and session (superusers only).",
    "Health": "Liveness and database check.",
}
INFO_KEYS = ("API_TITLE", "API_VERSION", "API_DESCRIPTION")
DESCRIPTION = (
    "Accounts, JWT sessions with rotation, per-device sessions, organizations with roles and a "
    "superuser admin API. Authenticate with `Authorization: Bearer <access_token>` from "
    "/auth/login, or with the OAuth2 password flow under Authorize. Every error answers "
    '`{"success": false, "errors": [{"code", "message", "field"}]}`.'
)


def token_url(settings: AuthSettings) -> str:
    return f"{settings.url_prefix.rstrip('/')}/auth/login/oauth"


def install_openapi(app: Sanic[Any, Any], settings: AuthSettings) -> None:
    """Security schemes, tags and (unless the host set any of them) title, version, description."""
    if not app.config.get("OAS", True):
        return
    spec: Any = app.ext.openapi
    spec.add_security_scheme(
        BEARER_SCHEME,
        "http",
        scheme="bearer",
        bearer_format="JWT",
        description="An access token from /auth/login or /auth/refresh.",
    )
    spec.add_security_scheme(
        OAUTH2_SCHEME,
        "oauth2",
        description="Email as username, and password; what Swagger UI's Authorize uses.",
        flows={"password": {"tokenUrl": token_url(settings), "scopes": {}}},
    )
    for name, text in TAGS.items():
        if name not in spec.tags:
            spec.tag(name, description=text)
    if not any(key in app.config for key in INFO_KEYS):
        app.config.update(
            {
                "API_TITLE": "Sanic Auth Sessions",
                "API_VERSION": __version__,
                "API_DESCRIPTION": DESCRIPTION,
            }
        )
