"""``/.well-known/jwks.json`` (``AUTH_JWKS_PATH``): the public keys that verify our tokens.

Only with ``RS*``/``ES*`` algorithms (404 with ``HS*``): the signing key first, then each key of
``AUTH_VERIFICATION_KEYS``, as RFC 7517 JWKs with their RFC 7638 thumbprints as ``kid``.
"""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse, Request, json

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.http.openapi import route_docs
from sanic_auth_sessions.http.responses import JwksResponse
from sanic_auth_sessions.http.routes import AuthBlueprint
from sanic_auth_sessions.http.runtime import auth_runtime

doc = route_docs("Keys", auth="public")
JWKS_CACHE_CONTROL = "public, max-age=300"


def create_keys_blueprint(path: str) -> Blueprint:
    bp = AuthBlueprint("auth_sessions_keys")

    @bp.get(path)
    @doc(
        "Public keys (JWK Set)",
        operation_id="get_jwks",
        ok=(200, JwksResponse),
        errors=(errors.NotFound,),
    )
    async def jwks(request: Request) -> HTTPResponse:
        """The public keys that verify this server's tokens, for other services: the signing
        key first, then the older keys still accepted. 404 with an ``HS*`` algorithm."""
        keys = auth_runtime(request).manager.codec.jwks
        if not keys:
            raise errors.NotFound("No public keys: tokens are signed with a shared secret.")
        return json(JwksResponse.dump(keys=keys), headers={"Cache-Control": JWKS_CACHE_CONTROL})

    return bp
