"""OpenAPI documentation of the HTTP contract, through sanic-ext.

Every route of the extension carries one :func:`documented` decorator (through a
:func:`route_docs` shortcut) that states its operationId, summary, request body or query,
success response and error responses; the errors every route shares (401 on guarded routes,
400/413/422 where input is read, 503 everywhere) are added here, so each route lists only its
own. Success responses are the models of ``responses.py``, the very ones the handlers answer
with; error responses are the exception classes of ``core.errors``, whose status, code and
message they state.

Schemas are pydantic models, registered once as components and referenced with ``$ref``.
Pydantic writes JSON Schema 2020-12 and sanic-ext serves OpenAPI 3.0.3, so :func:`to_oas30`
translates the few constructs that differ (``null`` in a union becomes ``nullable``, ``const``
an ``enum``). :func:`install_openapi` adds the security schemes (a bearer JWT and the OAuth2
password flow on ``<prefix>/auth/login/oauth``, which Swagger UI's "Authorize" uses), tags, and
the API's title, version and description unless the host app has set its own.

An app with OpenAPI turned off (``OAS = False``) has no document to build: its routes are built
within :func:`documenting` ``(False)`` and carry no documentation.
"""

from __future__ import annotations

import copy
import functools
import json as json_module
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import Any, Literal, TypeVar

from pydantic import BaseModel
from sanic import HTTPResponse, Request, Sanic, json
from sanic_ext.extensions.openapi.builders import OperationStore, SpecificationBuilder
from sanic_ext.extensions.openapi.definitions import Parameter, RequestBody, Response
from sanic_ext.extensions.openapi.openapi import exclude
from sanic_ext.extensions.openapi.types import Schema

from sanic_auth_sessions._version import __version__
from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.http.docs_assets import openapi_enabled
from sanic_auth_sessions.http.error_handler import status_for
from sanic_auth_sessions.http.responses import ErrorDetail, ErrorResponse, SuccessResponse

Handler = TypeVar("Handler", bound=Callable[..., Any])
Auth = Literal["public", "user", "superuser"]

BEARER_SCHEME = "BearerAuth"
OAUTH2_SCHEME = "OAuth2Password"
COOKIE_SCHEME = "CookieAuth"
SCHEMA_REF = "#/components/schemas/{model}"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


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


def schema_ref(
    model: type[BaseModel], *, mode: Literal["validation", "serialization"] = "serialization"
) -> Any:
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

ErrorClass = type[errors.AuthSessionsError]

# The errors every route of a kind can answer; :func:`documented` adds them.
GUARD_ERRORS: tuple[ErrorClass, ...] = (errors.Unauthenticated, errors.InvalidToken)
SUPERUSER_ERRORS: tuple[ErrorClass, ...] = (errors.PermissionDenied,)
JSON_BODY_ERRORS: tuple[ErrorClass, ...] = (errors.BadRequest, errors.PayloadTooLarge)
FORM_BODY_ERRORS: tuple[ErrorClass, ...] = (errors.PayloadTooLarge,)
INPUT_ERRORS: tuple[ErrorClass, ...] = (errors.ValidationFailed,)
ALWAYS_ERRORS: tuple[ErrorClass, ...] = (errors.DatabaseUnavailable,)

# What a status adds to its codes (how to read the answer, not which errors it has).
STATUS_NOTES: dict[int, str] = {
    422: "One error per bad field, with `field` set.",
    429: "Retry after `Retry-After` seconds.",
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


#: Whether the routes being built are documented (see :func:`documenting`).
DOCUMENTING: ContextVar[bool] = ContextVar("auth_documenting", default=True)


@contextmanager
def documenting(enabled: bool) -> Iterator[None]:
    """Routes built within ``documenting(False)`` carry no documentation: an app without
    OpenAPI builds none of it at its start."""
    token = DOCUMENTING.set(enabled)
    try:
        yield
    finally:
        DOCUMENTING.reset(token)


def error_example(error: ErrorClass) -> dict[str, Any]:
    """The body ``error`` answers with its own message."""
    detail = ErrorDetail.dump(error, field=None)
    return ErrorResponse.dump(success=False, errors=[detail])


def error_responses(error_classes: Iterable[ErrorClass]) -> dict[int, DocumentedResponse]:
    """One response per status, listing the code and message of each of its errors, with an
    example body for each code."""
    schema_ref(ErrorResponse)  # registered in the document being built
    by_status: dict[int, dict[str, ErrorClass]] = {}
    for error in error_classes:
        by_status.setdefault(status_for(error), {})[error.code] = error
    return {
        status: own_copy(error_response(status, tuple(by_status[status].values())))
        for status in sorted(by_status)
    }


def own_copy(response: DocumentedResponse) -> DocumentedResponse:
    """A copy of a cached response that an operation may change (sanic-ext's
    ``operation.response`` adds media types to the response of a status in place)."""
    copied = copy.copy(response)
    fields = dict(response._fields)
    if isinstance(fields.get("content"), dict):
        fields["content"] = dict(fields["content"])
    copied._fields = fields
    return copied


# sanic-ext's definition objects are costly to build (each inspects its class's type hints)
# and are never changed once built: the same ones serve every route and every app.
@functools.cache
def error_response(status: int, found: tuple[ErrorClass, ...]) -> DocumentedResponse:
    lines = [f"`{error.code}`: {error.message}" for error in found]
    if status in STATUS_NOTES:
        lines.append(STATUS_NOTES[status])
    examples = {
        error.code: {"summary": error.message, "value": error_example(error)} for error in found
    }
    return DocumentedResponse(
        {
            JSON: {
                "schema": {"$ref": SCHEMA_REF.format(model=ErrorResponse.__name__)},
                "examples": examples,
            }
        },
        description=" ".join(lines),
        headers=ERROR_HEADERS.get(status),
    )


@functools.cache
def success_response(schema: str, status: int) -> DocumentedResponse:
    """The documented success answer: ``schema`` as JSON text (a key of the cache)."""
    return DocumentedResponse(
        {JSON: {"schema": json_module.loads(schema)}},
        description="Created." if status == 201 else "OK.",
    )


def documented(
    summary: str,
    *,
    operation_id: str,
    tag: str,
    auth: Auth = "user",
    ok: tuple[int, type[BaseModel]] = (200, SuccessResponse),
    ok_alternatives: tuple[type[BaseModel], ...] = (),
    body: type[BaseModel] | None = None,
    body_required: bool = True,
    form: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    errors: Iterable[ErrorClass] = (),
    responses: Mapping[int, tuple[type[BaseModel], str]] | None = None,
    description: str | None = None,
) -> Callable[[Handler], Handler]:
    """Document a route; put it right under the route decorator (it must see the final handler).

    ``operation_id`` is the stable name generated clients give the call. ``ok`` is the success
    status and the response model the handler answers (``ok_alternatives``: other bodies it may
    answer with that status, documented as ``oneOf``). ``body_required=False``: the JSON body
    may be left out (an empty body without ``Content-Type``). ``errors`` lists the exception
    classes of the route's own errors; their status, code and message are the classes'. The
    shared ones are added: the guard's 401 unless ``auth`` is public, 403 for superuser routes,
    400 and 413 for a JSON body, 413 for a form, 422 for any input, 503 always. ``responses``
    adds non-error answers. ``description`` defaults to the handler's docstring.
    """
    error_classes: list[ErrorClass] = []
    if auth != "public":
        error_classes += GUARD_ERRORS
    if auth == "superuser":
        error_classes += SUPERUSER_ERRORS
    if body is not None:
        error_classes += JSON_BODY_ERRORS
    if form is not None:
        error_classes += FORM_BODY_ERRORS
    if body is not None or form is not None or query is not None:
        error_classes += INPUT_ERRORS
    error_classes += ALWAYS_ERRORS
    error_classes += errors

    def decorate(handler: Handler) -> Handler:
        if not DOCUMENTING.get():
            return handler
        # One look-up, then an insert: sanic-ext's store replaces itself while it is empty.
        operation = OperationStore()[handler]  # type: ignore[no-untyped-call]
        operation.name(operation_id)
        if body is not None:
            schema = schema_ref(body, mode="validation")
            operation.requestBody = request_body(JSON, schema["$ref"], body_required)
        elif form is not None:
            schema = schema_ref(form, mode="validation")
            operation.requestBody = request_body(FORM, schema["$ref"], True)
        text = description or " ".join((handler.__doc__ or "").split())
        note = AUTH_NOTES[auth]
        operation.describe(summary=summary, description=" ".join(filter(None, (text, note))))
        operation.tag(tag)
        if query is not None:
            operation.parameters.extend(query_parameters(query))
        if auth != "public":
            # Either scheme: a token pasted in Swagger UI, or one from its OAuth2 password flow.
            operation.secured(BEARER_SCHEME)
            operation.secured(OAUTH2_SCHEME)
        status, model = ok
        schema = schema_ref(model)
        if ok_alternatives:
            schema = {"oneOf": [schema, *(schema_ref(other) for other in ok_alternatives)]}
        operation.responses[status] = own_copy(
            success_response(json_module.dumps(schema, sort_keys=True), status)
        )
        operation.responses.update(error_responses(error_classes))
        for extra_status, (extra_model, extra_description) in (responses or {}).items():
            operation.responses[extra_status] = DocumentedResponse(
                {JSON: {"schema": schema_ref(extra_model)}}, description=extra_description
            )
        return handler

    return decorate


@functools.cache
def request_body(media_type: str, ref: str, required: bool) -> Any:
    return RequestBody.make({media_type: {"schema": {"$ref": ref}}}, required=required)


@functools.cache
def query_parameters(query: type[BaseModel]) -> tuple[Any, ...]:
    """The query parameters of ``query``, documented once for every route that takes it."""
    schema = to_oas30(query.model_json_schema(mode="validation"))
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema["properties"].items():
        prop.pop("title", None)
        if prop.pop("nullable", False) and prop.get("default", "") is None:
            del prop["default"]  # an absent parameter is the "null" of a query
        parameters.append(
            Parameter.make(
                name,
                Schema(**prop),  # type: ignore[no-untyped-call, arg-type]
                "query",
                description=QUERY_DESCRIPTIONS.get(name),
                required=name in required,
            )
        )
    return tuple(parameters)


INTROSPECTION_SCHEME = "IntrospectionClient"


def client_secured(handler: Handler) -> Handler:
    """Document HTTP Basic client authentication (the introspection clients)."""
    if not DOCUMENTING.get():
        return handler
    OperationStore()[handler].secured(INTROSPECTION_SCHEME)  # type: ignore[no-untyped-call]
    return handler


def route_docs(tag: str, *, auth: Auth = "user") -> partial[Callable[[Handler], Handler]]:
    """:func:`documented` with a blueprint's tag and guard: ``doc = route_docs("Users")``."""
    return partial(documented, tag=tag, auth=auth)


# --- the document as a whole -----------------------------------------------------------------

TAGS: dict[str, str] = {
    "Auth": "Registration, login, token refresh, logout and password reset.",
    "Users": "The caller's own account.",
    "Sessions": "The caller's sessions, one per device.",
    "Organizations": "Organizations and their members, by role (owner, admin, member).",
    "Admin": "Every user, organization and session (superusers only).",
    "Health": "Liveness and database check.",
    "Keys": "The public keys that verify tokens (RS*/ES* algorithms), for other services.",
    "Social login": "Log in or link an account with Google, GitHub or any OpenID Connect provider.",
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
    if not openapi_enabled(app):
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
        INTROSPECTION_SCHEME,
        "http",
        scheme="basic",
        description="An introspection client of AUTH_INTROSPECTION_CLIENTS (id and secret).",
    )
    spec.add_security_scheme(
        OAUTH2_SCHEME,
        "oauth2",
        description="Email as username, and password; what Swagger UI's Authorize uses.",
        flows={"password": {"tokenUrl": token_url(settings), "scopes": {}}},
    )
    if settings.uses_cookies:
        spec.add_security_scheme(
            COOKIE_SCHEME,
            "apiKey",
            location="cookie",
            name=settings.cookie_access_name,
            description="The access cookie of a cookie login (AUTH_TRANSPORT); unsafe methods "
            "also need `X-CSRF-Token` equal to the CSRF cookie.",
        )
        secure_with_cookie(app)
    for name, text in TAGS.items():
        if name not in spec.tags:
            spec.tag(name, description=text)
    serve_document_under_prefix(app, settings)
    if not any(key in app.config for key in INFO_KEYS):
        app.config.update(
            {
                "API_TITLE": "Sanic Auth Sessions",
                "API_VERSION": __version__,
                "API_DESCRIPTION": DESCRIPTION,
            }
        )


def secure_with_cookie(app: Sanic[Any, Any]) -> None:
    """The app's bearer-secured operations accept the access cookie too."""
    store = OperationStore()  # type: ignore[no-untyped-call]
    for route in app.router.routes:
        handler = route.handler
        if handler not in store:
            continue
        operation = store[handler]
        if any(BEARER_SCHEME in gate for gate in operation.security) and not any(
            COOKIE_SCHEME in gate for gate in operation.security
        ):
            operation.secured(COOKIE_SCHEME)


def serve_document_under_prefix(app: Sanic[Any, Any], settings: AuthSettings) -> None:
    """``{prefix}/openapi.json``: the document of ``/docs/openapi.json``, where the original
    project's client generators look for it. Not itself part of the document."""

    async def openapi_document(request: Request) -> HTTPResponse:
        return json(SpecificationBuilder().build(request.app).serialize())  # type: ignore[no-untyped-call]

    uri = f"{settings.url_prefix.rstrip('/')}/openapi.json"
    app.add_route(exclude()(openapi_document), uri, methods=["GET"], name="auth_openapi_document")
