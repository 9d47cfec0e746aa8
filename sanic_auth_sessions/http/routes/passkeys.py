"""Passkeys (WebAuthn): the caller's passkeys (``/users/me/passkeys``) and logging in with one
(``/auth/passkeys/authenticate``). Every route answers 404 while ``AUTH_WEBAUTHN_RP_ID`` is
unset. The options and verify routes are limited per client IP (``AUTH_RATE_LIMIT_PASSKEY``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar, cast
from uuid import UUID

from sanic import Blueprint, HTTPResponse, Request, json

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.models import WebAuthnPurpose
from sanic_auth_sessions.http.client import device_info
from sanic_auth_sessions.http.guards import authenticate, current_auth, manager_of, require_auth
from sanic_auth_sessions.http.openapi import route_docs
from sanic_auth_sessions.http.rate_limits import rate_limit
from sanic_auth_sessions.http.responses import (
    PasskeyListResponse,
    PasskeyOptionsResponse,
    PasskeyResponse,
    SuccessResponse,
    Token,
)
from sanic_auth_sessions.http.routes import AuthBlueprint
from sanic_auth_sessions.http.routes.auth import login_answer
from sanic_auth_sessions.http.routes.inputs import at_most_one_code
from sanic_auth_sessions.http.runtime import auth_runtime
from sanic_auth_sessions.http.schemas import (
    PasskeyAuthOptionsBody,
    PasskeyOptionsBody,
    PasskeyProofBody,
    PasskeyRegisterBody,
    StepUpBody,
    parse_json,
    parse_optional_json,
)
from sanic_auth_sessions.http.transport import check_cookie_login

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[HTTPResponse]])

users_doc = route_docs("Users")
auth_doc = route_docs("Auth", auth="public")
STEP_UP_ERRORS = (
    errors.ReauthenticationRequired,
    errors.WrongPassword,
    errors.MfaCodeInvalid,
    errors.AccountLocked,
)
CHALLENGE_ERRORS = (errors.WebAuthnChallengeInvalid, errors.WebAuthnVerificationFailed)


def passkeys_configured(handler: Handler) -> Handler:
    """404 ``NOT_FOUND`` before anything else while ``AUTH_WEBAUTHN_RP_ID`` is unset."""

    @wraps(handler)
    async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        if not auth_runtime(request).settings.passkeys_enabled:
            raise errors.NotFound("Passkeys are not configured.")
        return await handler(request, *args, **kwargs)

    return cast(Handler, guarded)


def passkey_limit(scope: str) -> Callable[[Handler], Handler]:
    return rate_limit(lambda s: s.rate_limit_passkey, scope=scope)


def create_passkeys_blueprint(url_prefix: str) -> Blueprint:
    bp = AuthBlueprint("auth_sessions_passkeys", url_prefix=url_prefix)

    @bp.post("/users/me/passkeys/register/options")
    @users_doc(
        "Start registering a passkey",
        operation_id="passkey_registration_options",
        ok=(200, PasskeyOptionsResponse),
        body=PasskeyOptionsBody,
        body_required=False,
        errors=(*STEP_UP_ERRORS, errors.PasskeyLimitReached, errors.NotFound, errors.RateLimited),
    )
    @passkeys_configured
    @passkey_limit("passkey_register_options")
    @require_auth
    async def passkey_registration_options(request: Request) -> HTTPResponse:
        """Options for `navigator.credentials.create()` (a discoverable credential, no
        attestation) and the id of their single-use challenge. Step-up: a fresh session, or a
        proof in the (optional) body. At most 20 passkeys per account."""
        body = parse_optional_json(request, PasskeyOptionsBody)
        at_most_one_code(body.code, body.recovery_code)
        options = await manager_of(request).passkeys.registration_options(
            current_auth(request),
            name=body.name,
            current_password=body.current_password,
            code=body.code,
            recovery_code=body.recovery_code,
        )
        return json(PasskeyOptionsResponse.dump(options))

    @bp.post("/users/me/passkeys/register/verify")
    @users_doc(
        "Register a passkey",
        operation_id="passkey_registration_verify",
        ok=(201, PasskeyResponse),
        body=PasskeyRegisterBody,
        errors=(
            *CHALLENGE_ERRORS,
            errors.PasskeyAlreadyRegistered,
            errors.PasskeyLimitReached,
            errors.NotFound,
            errors.RateLimited,
        ),
    )
    @passkeys_configured
    @passkey_limit("passkey_register_verify")
    @require_auth
    async def passkey_registration_verify(request: Request) -> HTTPResponse:
        """Store the passkey that `navigator.credentials.create()` made for the options of
        this same session (their `challenge_id`, used once)."""
        body = parse_json(request, PasskeyRegisterBody)
        passkey = await manager_of(request).passkeys.register(
            current_auth(request), body.challenge_id, body.credential, name=body.name
        )
        return json(PasskeyResponse.dump(passkey), status=201)

    @bp.get("/users/me/passkeys")
    @users_doc(
        "My passkeys",
        operation_id="list_my_passkeys",
        ok=(200, PasskeyListResponse),
        errors=(errors.NotFound,),
    )
    @passkeys_configured
    @require_auth
    async def list_my_passkeys(request: Request) -> HTTPResponse:
        """The caller's passkeys, newest first."""
        passkeys = await manager_of(request).passkeys.list(current_auth(request).user)
        return json(PasskeyListResponse.dump(passkeys=passkeys, total=len(passkeys)))

    @bp.delete("/users/me/passkeys/<passkey_id:uuid>")
    @users_doc(
        "Delete a passkey",
        operation_id="delete_my_passkey",
        body=StepUpBody,
        body_required=False,
        errors=(*STEP_UP_ERRORS, errors.NotFound, errors.LastLoginMethod),
    )
    @passkeys_configured
    @require_auth
    async def delete_my_passkey(request: Request, passkey_id: UUID) -> HTTPResponse:
        """Delete one of the caller's passkeys. Step-up: a fresh session, or a proof in the
        (optional) body. 409 `LAST_LOGIN_METHOD` when the account would have no way left to
        log in."""
        body = parse_optional_json(request, StepUpBody)
        at_most_one_code(body.code, body.recovery_code)
        await manager_of(request).passkeys.delete(
            current_auth(request),
            passkey_id,
            current_password=body.current_password,
            code=body.code,
            recovery_code=body.recovery_code,
        )
        return json(SuccessResponse.dump(success=True, message="Passkey deleted."))

    @bp.post("/auth/passkeys/authenticate/options")
    @auth_doc(
        "Start a passkey login",
        operation_id="passkey_authentication_options",
        ok=(200, PasskeyOptionsResponse),
        body=PasskeyAuthOptionsBody,
        body_required=False,
        errors=(errors.Unauthenticated, errors.NotFound, errors.RateLimited),
    )
    @passkeys_configured
    @passkey_limit("passkey_authenticate_options")
    async def passkey_authentication_options(request: Request) -> HTTPResponse:
        """Options for `navigator.credentials.get()` and the id of their single-use challenge.
        `purpose` `login` (the default): public and usernameless (`allowCredentials` empty;
        an `Authorization` header is ignored). `reauthenticate`: for the authenticated caller,
        listing their passkeys; its answer goes to `POST /auth/reauthenticate` (`passkey`)."""
        body = parse_optional_json(request, PasskeyAuthOptionsBody)
        purpose = WebAuthnPurpose(body.purpose)
        ctx = await authenticate(request) if purpose is WebAuthnPurpose.REAUTHENTICATE else None
        options = await manager_of(request).passkeys.authentication_options(purpose, ctx)
        return json(PasskeyOptionsResponse.dump(options))

    @bp.post("/auth/passkeys/authenticate/verify")
    @auth_doc(
        "Log in with a passkey",
        operation_id="passkey_authentication_verify",
        ok=(200, Token),
        body=PasskeyProofBody,
        errors=(
            errors.WebAuthnChallengeInvalid,
            errors.InvalidCredentials,
            errors.AccountInactive,
            errors.EmailNotVerified,
            errors.NotFound,
            errors.RateLimited,
        ),
    )
    @passkeys_configured
    @passkey_limit("passkey_authenticate_verify")
    async def passkey_authentication_verify(request: Request) -> HTTPResponse:
        """Log in with the answer of `navigator.credentials.get()` to a `login` challenge:
        starts a session for the passkey's account, answered as `/auth/login` (tokens in the
        body, or in cookies for a cookie request; never a second factor step: a user-verified
        passkey is two factors). Any failed check is 401."""
        check_cookie_login(request)
        body = parse_json(request, PasskeyProofBody)
        device = device_info(request, auth_runtime(request).settings.trusted_proxies)
        result = await manager_of(request).passkeys.login(
            body.challenge_id, body.credential, device
        )
        return login_answer(request, result)

    return bp
