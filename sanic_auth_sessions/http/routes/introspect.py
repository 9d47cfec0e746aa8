"""``POST {prefix}/auth/introspect``: token introspection (RFC 7662) for other services.

Clients authenticate with HTTP Basic (RFC 6749 §2.3.1) against ``AUTH_INTROSPECTION_CLIENTS``;
without any configured client the route answers 404.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from urllib.parse import unquote_plus

from sanic import Blueprint, HTTPResponse, Request, json

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.http.openapi import client_secured, route_docs
from sanic_auth_sessions.http.rate_limits import rate_limit
from sanic_auth_sessions.http.responses import IntrospectionResponse
from sanic_auth_sessions.http.routes import AuthBlueprint
from sanic_auth_sessions.http.runtime import auth_runtime
from sanic_auth_sessions.http.schemas import IntrospectionForm, parse_form
from sanic_auth_sessions.services.introspection import introspect

doc = route_docs("Auth", auth="public")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_DUMMY_SECRET = "x" * 64  # compared against when the client id is unknown: the same work


def client_credentials(request: Request) -> tuple[str, str] | None:
    """``(client_id, client_secret)`` of an ``Authorization: Basic`` header, or None."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None
    return unquote_plus(client_id), unquote_plus(secret)


def authenticated_client(request: Request) -> str:
    """The introspection client of the request; 401 ``INVALID_CLIENT`` otherwise."""
    clients = auth_runtime(request).settings.introspection_clients
    credentials = client_credentials(request)
    if credentials is not None:
        client_id, secret = credentials
        expected = clients.get(client_id, _DUMMY_SECRET)
        if hmac.compare_digest(secret.encode(), expected.encode()) and client_id in clients:
            return client_id
    raise errors.InvalidClient()


@rate_limit(
    lambda s: s.rate_limit_introspect,
    scope="introspect",
    key=lambda request: str(request.ctx.introspection_client),
)
async def answer(request: Request) -> HTTPResponse:
    form = parse_form(request, IntrospectionForm)
    hint = (
        form.token_type_hint if form.token_type_hint in ("access_token", "refresh_token") else None
    )
    state = await introspect(auth_runtime(request).manager, form.token, hint)  # type: ignore[arg-type]
    body = IntrospectionResponse.model_validate(state).model_dump(mode="json", exclude_none=True)
    return json(body, headers=NO_STORE)


def create_introspection_blueprint(url_prefix: str) -> Blueprint:
    bp = AuthBlueprint("auth_sessions_introspection", url_prefix=f"{url_prefix}/auth")

    @bp.post("/introspect")
    @doc(
        "Introspect a token (RFC 7662)",
        operation_id="introspect_token",
        ok=(200, IntrospectionResponse),
        form=IntrospectionForm,
        errors=(errors.NotFound, errors.InvalidClient, errors.RateLimited),
    )
    @client_secured
    async def introspect_token(request: Request) -> HTTPResponse:
        """For resource servers: whether an access or refresh token is usable now (its session
        active, its user active, not expired), and its claims. Clients authenticate with HTTP
        Basic (``AUTH_INTROSPECTION_CLIENTS``); 404 when none is configured."""
        if not auth_runtime(request).settings.introspection_clients:
            raise errors.NotFound("Token introspection is not configured.")
        request.ctx.introspection_client = authenticated_client(request)
        return await answer(request)

    return bp
