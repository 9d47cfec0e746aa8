"""Social login: ``{prefix}/oauth`` (providers, authorize, callback, linked accounts, link).

The routes and bodies are the original project's, so that its front end's buttons and callback
page work; the rules are in ``services/social.py``. A route of a provider that is not
configured answers 404; the provider list and the caller's linked accounts always answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar, cast

from pydantic import BaseModel
from sanic import Blueprint, HTTPResponse, Request, json

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.errors import ErrorDetail, ValidationFailed
from sanic_auth_sessions.http.client import device_info
from sanic_auth_sessions.http.guards import authenticate, current_auth, manager_of, require_auth
from sanic_auth_sessions.http.openapi import route_docs
from sanic_auth_sessions.http.rate_limits import rate_limit
from sanic_auth_sessions.http.responses import (
    OAuthAccountResponse,
    OAuthAccountsListResponse,
    OAuthAuthorizationResponse,
    OAuthCallbackResponse,
    OAuthMfaRequiredResponse,
    OAuthProviderInfo,
    OAuthProvidersResponse,
    SuccessResponse,
)
from sanic_auth_sessions.http.routes import AuthBlueprint
from sanic_auth_sessions.http.routes.inputs import at_most_one_code, user_key
from sanic_auth_sessions.http.runtime import auth_runtime
from sanic_auth_sessions.http.schemas import (
    OAuthCallbackRequest,
    OAuthRedirectQuery,
    StepUpBody,
    parse_json,
    parse_optional_json,
    parse_query,
)
from sanic_auth_sessions.http.transport import (
    authenticated_by_cookie,
    check_cookie_login,
    token_answer,
    token_response,
)
from sanic_auth_sessions.services.social import SocialLoginService

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[HTTPResponse]])
public_doc = route_docs("Social login", auth="public")
doc = route_docs("Social login")

START_ERRORS = (errors.NotFound, errors.OAuthProviderUnavailable, errors.RateLimited)
CALLBACK_ERRORS = (
    errors.NotFound,
    errors.OAuthStateInvalid,
    errors.OAuthCodeInvalid,
    errors.Unauthenticated,
    errors.OAuthIdTokenInvalid,
    errors.OAuthEmailNotVerified,
    errors.RegistrationClosed,
    errors.AccountInactive,
    errors.EmailNotVerified,
    errors.OAuthAccountExists,
    errors.OAuthAlreadyLinked,
    errors.OAuthProviderUnavailable,
    errors.RateLimited,
)


def social_of(request: Request) -> SocialLoginService:
    return manager_of(request).social


def configured_social(request: Request) -> SocialLoginService:
    """The service, or 404 while no provider is configured (before any other check)."""
    social = social_of(request)
    if not social.providers:
        raise errors.NotFound("Social login is not configured.")
    return social


def social_configured(handler: Handler) -> Handler:
    """404 on a route of social login while no provider is configured, before any other
    check but the per-IP rate limit (the feature does not exist until then)."""

    @wraps(handler)
    async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        configured_social(request)
        return await handler(request, *args, **kwargs)

    return cast(Handler, guarded)


def parse_all(
    request: Request, query: type[BaseModel], body: type[BaseModel]
) -> tuple[BaseModel, BaseModel]:
    """The query and the JSON body together: one 422 lists the invalid fields of both."""
    details: list[ErrorDetail] = []
    parsed_query = parsed_body = None
    try:
        parsed_body = parse_json(request, body)
    except ValidationFailed as invalid:
        details += invalid.errors
    try:
        parsed_query = parse_query(request, query)
    except ValidationFailed as invalid:
        details += invalid.errors
    if details or parsed_query is None or parsed_body is None:
        raise ValidationFailed(details)
    return parsed_query, parsed_body


def create_oauth_blueprint(url_prefix: str) -> Blueprint:
    bp = AuthBlueprint("auth_sessions_oauth", url_prefix=f"{url_prefix}/oauth")

    @bp.get("/providers")
    @public_doc(
        "List the social login providers",
        operation_id="list_oauth_providers",
        ok=(200, OAuthProvidersResponse),
    )
    async def list_oauth_providers(request: Request) -> HTTPResponse:
        """The configured providers, in order: Google, GitHub, then `AUTH_OIDC_PROVIDERS`.
        `enabled` is true when there is at least one."""
        providers = [
            OAuthProviderInfo.dump(provider=p.name, name=p.display_name, icon=p.icon)
            for p in social_of(request).providers.values()
        ]
        return json(OAuthProvidersResponse.dump(enabled=bool(providers), providers=providers))

    @bp.get("/authorize/<provider:str>")
    @public_doc(
        "Start a social login",
        operation_id="get_oauth_authorization_url",
        ok=(200, OAuthAuthorizationResponse),
        query=OAuthRedirectQuery,
        errors=START_ERRORS,
    )
    @rate_limit(lambda s: s.rate_limit_oauth, scope="oauth_authorize")
    async def get_oauth_authorization_url(request: Request, provider: str) -> HTTPResponse:
        """The provider's authorization URL (PKCE S256; for OpenID Connect providers a
        `nonce`) and its `state`, valid `AUTH_OAUTH_STATE_TTL_S`. Always a login or a
        registration, whatever `Authorization` header is sent; linking starts at
        `POST /oauth/link/{provider}`. `redirect_uri` must be one of `AUTH_OAUTH_REDIRECT_URIS`
        (422 otherwise)."""
        social = configured_social(request)
        social.provider(provider)  # 404 for an unknown provider, before the input
        query = parse_query(request, OAuthRedirectQuery)
        started = await social.start(provider, query.redirect_uri)
        return json(OAuthAuthorizationResponse.dump(started))

    @bp.post("/callback/<provider:str>")
    @public_doc(
        "Finish a social login or link",
        operation_id="handle_oauth_callback",
        ok=(200, OAuthCallbackResponse),
        ok_alternatives=(OAuthMfaRequiredResponse,),
        query=OAuthRedirectQuery,
        body=OAuthCallbackRequest,
        errors=CALLBACK_ERRORS,
    )
    @rate_limit(lambda s: s.rate_limit_oauth, scope="oauth_callback")
    async def handle_oauth_callback(request: Request, provider: str) -> HTTPResponse:
        """Send the `code` and `state` the provider returned, with the same `redirect_uri`.
        A login creates a session like a password login (an account with two-factor
        authentication gets the `mfa_required` body instead); `is_new_user` is true when it
        created the account. A link (started by `POST /oauth/link/{provider}`) needs the
        bearer token of the user who started it (401 without it, the state staying usable),
        creates no session, and answers tokens for the calling session."""
        social = configured_social(request)
        social.provider(provider)  # 404 for an unknown provider, before the input
        check_cookie_login(request)
        query, body = parse_all(request, OAuthRedirectQuery, OAuthCallbackRequest)
        assert isinstance(query, OAuthRedirectQuery) and isinstance(body, OAuthCallbackRequest)
        device = device_info(request, auth_runtime(request).settings.trusted_proxies)

        outcome = await social.callback(
            provider,
            query.redirect_uri,
            body.code,
            body.state,
            device=device,
            authenticate=lambda: authenticate(request),
        )
        if outcome.mfa is not None:
            mfa = outcome.mfa
            return token_response(
                OAuthMfaRequiredResponse.dump(mfa, methods=list(mfa.methods), is_new_user=False)
            )
        assert outcome.tokens is not None and outcome.session_id is not None
        answer = OAuthCallbackResponse.dump(
            outcome.tokens, token_type="bearer", user=outcome.user, is_new_user=outcome.is_new_user
        )
        # A link answers like the caller authenticated: in cookies when by the access cookie.
        return token_answer(
            request,
            answer,
            tokens=outcome.tokens,
            session_id=outcome.session_id,
            cookies=authenticated_by_cookie(request),
        )

    @bp.get("/accounts")
    @doc(
        "List my linked accounts",
        operation_id="list_oauth_accounts",
        ok=(200, OAuthAccountsListResponse),
    )
    @require_auth
    async def list_oauth_accounts(request: Request) -> HTTPResponse:
        """The social accounts linked to the caller, oldest first."""
        accounts = await social_of(request).accounts(current_auth(request).user)
        return json({"accounts": [OAuthAccountResponse.dump(a) for a in accounts]})

    @bp.delete("/accounts/<provider:str>")
    @doc(
        "Unlink a social account",
        operation_id="unlink_oauth_account",
        body=StepUpBody,
        body_required=False,
        errors=(
            errors.ReauthenticationRequired,
            errors.WrongPassword,
            errors.MfaCodeInvalid,
            errors.NotFound,
            errors.LastLoginMethod,
            errors.RateLimited,
            errors.AccountLocked,
        ),
    )
    @social_configured
    @require_auth
    @rate_limit(lambda s: s.rate_limit_oauth_unlink, scope="oauth_unlink", key=user_key)
    async def unlink_oauth_account(request: Request, provider: str) -> HTTPResponse:
        """Remove the caller's link to this provider. Step-up: a fresh session, or a proof in
        the (optional) body. 409 `LAST_LOGIN_METHOD` when it is the account's last way to log
        in (no password and no other link); 404 when not linked."""
        social = social_of(request)
        body = parse_optional_json(request, StepUpBody)
        at_most_one_code(body.code, body.recovery_code)
        name = await social.unlink(
            current_auth(request),
            provider,
            current_password=body.current_password,
            code=body.code,
            recovery_code=body.recovery_code,
        )
        return json(
            SuccessResponse.dump(success=True, message=f"{name} account unlinked successfully")
        )

    @bp.post("/link/<provider:str>")
    @doc(
        "Start linking a social account",
        operation_id="start_oauth_link",
        ok=(200, OAuthAuthorizationResponse),
        query=OAuthRedirectQuery,
        errors=(errors.ReauthenticationRequired, errors.OAuthAlreadyLinked, *START_ERRORS),
    )
    @rate_limit(lambda s: s.rate_limit_oauth, scope="oauth_link")
    async def start_oauth_link(request: Request, provider: str) -> HTTPResponse:
        """Like `GET /oauth/authorize/{provider}`, bound to the caller: the callback then links
        the provider's identity to this account (sent with the caller's bearer token). Linking
        is sensitive: the session must be fresh (`AUTH_FRESH_AUTH_MAX_AGE_S`). 409 when the
        caller already has this provider."""
        social = configured_social(request)
        ctx = await authenticate(request)
        social.provider(provider)
        query = parse_query(request, OAuthRedirectQuery)
        started = await social.start(provider, query.redirect_uri, ctx=ctx)
        return json(OAuthAuthorizationResponse.dump(started))

    return bp
