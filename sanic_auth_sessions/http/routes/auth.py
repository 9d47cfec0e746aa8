from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from sanic import Blueprint, HTTPResponse, Request, json

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.http.client import device_info
from sanic_auth_sessions.http.guards import current_auth, manager_of, require_auth
from sanic_auth_sessions.http.openapi import route_docs
from sanic_auth_sessions.http.rate_limits import rate_limit
from sanic_auth_sessions.http.responses import (
    LogoutAllResponse,
    MfaRequiredResponse,
    ReauthenticateResponse,
    SuccessResponse,
    Token,
    TokenPairResponse,
    UserResponse,
)
from sanic_auth_sessions.http.routes import AuthBlueprint
from sanic_auth_sessions.http.routes.inputs import parse_json_with_password, user_key
from sanic_auth_sessions.http.runtime import auth_runtime
from sanic_auth_sessions.http.schemas import (
    EmailChangeConfirmBody,
    LoginBody,
    LogoutBody,
    OAuthLoginForm,
    PasswordResetConfirmBody,
    PasswordResetRequestBody,
    ReauthenticateBody,
    RefreshBody,
    RegisterBody,
    VerifyEmailConfirmBody,
    VerifyEmailRequestBody,
    parse_form,
    parse_json,
    read_json,
)
from sanic_auth_sessions.http.transport import (
    answers_in_cookies,
    asks_for_cookies,
    check_cookie_login,
    clear_token_cookies,
    cookie_body,
    refresh_cookie,
    require_csrf,
    set_access_cookie,
    token_answer,
    token_response,
)
from sanic_auth_sessions.services.manager import InvalidResetToken, LoginResult
from sanic_auth_sessions.services.mfa import MfaChallengeResult

doc = route_docs("Auth", auth="public")
LOGIN_ERRORS = (
    errors.InvalidCredentials,
    errors.AccountInactive,
    errors.EmailNotVerified,
    errors.RateLimited,
    errors.AccountLocked,
)
PASSWORD_RESET_DONE = (
    "Password has been reset successfully. All devices have been logged out for security. "
    "You can now log in with your new password."
)
VERIFICATION_REQUESTED = (
    "If this address belongs to an account that is not verified yet, a verification link "
    "is on its way."
)


def login_email(request: Request) -> str:
    """The per-email limit's key: the email of the body the handler reads (parsed once)."""
    return parse_json(request, LoginBody).email


def oauth_username(request: Request) -> str:
    return parse_form(request, OAuthLoginForm).username


def login_body(result: LoginResult) -> dict[str, object]:
    return Token.dump(result.tokens, token_type="bearer", user=result.user)


def login_answer(
    request: Request, result: LoginResult | MfaChallengeResult, **extra: object
) -> HTTPResponse:
    """Tokens (in the body or in cookies), or for an account with MFA the ``mfa_token`` of
    the second step."""
    if isinstance(result, MfaChallengeResult):
        return token_response(
            MfaRequiredResponse.dump(result, methods=list(result.methods), **extra)
        )
    return token_answer(
        request,
        {**login_body(result), **extra},
        tokens=result.tokens,
        session_id=result.session.id,
    )


def cookie_refresh(request: Request) -> tuple[str, UUID | None] | None:
    """The refresh cookie (cookie transports) and the session it names (``None`` when it is
    not a valid refresh token); ``None`` without a refresh cookie. A request that carries one
    passes the CSRF check first, before its body is read: a page's cookie is sent along with
    every request to the auth routes, whoever makes them."""
    token = refresh_cookie(request)
    if token is None:
        return None
    try:
        session_id: UUID | None = manager_of(request).codec.decode(token, "refresh").session_id
    except errors.InvalidToken:
        session_id = None
    return token, session_id


def refresh_token_of(
    request: Request, model: type[RefreshBody] | type[LogoutBody], cookie: str | None
) -> tuple[str, bool]:
    """The body's refresh token or, when the body has none, the refresh ``cookie``; and
    whether it is the cookie."""
    if cookie is not None:
        data = read_json(request)
        if data is None or (isinstance(data, dict) and "refresh_token" not in data):
            return cookie, True
    return parse_json(request, model).refresh_token, False


def create_auth_blueprint(url_prefix: str) -> Blueprint:
    bp = AuthBlueprint("auth_sessions_auth", url_prefix=f"{url_prefix}/auth")

    @bp.post("/register")
    @doc(
        "Register an account",
        operation_id="register",
        ok=(201, UserResponse),
        body=RegisterBody,
        errors=(
            errors.RegistrationClosed,
            errors.EmailTaken,
            errors.WeakPassword,
            errors.RateLimited,
        ),
    )
    @rate_limit(lambda s: s.rate_limit_register, scope="register")
    async def register(request: Request) -> HTTPResponse:
        """Create an account. With ``AUTH_REGISTER_RETURNS_TOKENS`` the answer also signs the
        device in: the user's fields plus a login's (``access_token``, ``refresh_token``,
        ``token_type``, ``expires_in``, ``user``)."""
        if auth_runtime(request).settings.register_returns_tokens:
            check_cookie_login(request)
        body = await parse_json_with_password(
            request,
            RegisterBody,
            password_field="password",
            input_fields=("email", "first_name", "last_name"),
        )
        settings = auth_runtime(request).settings
        device = device_info(request, settings.trusted_proxies)
        manager = manager_of(request)
        user = await manager.register(
            email=body.email,
            password=body.password,
            first_name=body.first_name,
            last_name=body.last_name,
            device=device,
        )
        if not settings.register_returns_tokens:
            return json(UserResponse.dump(user), status=201)
        result = await manager.sign_in(user, device)
        return token_answer(
            request,
            {**UserResponse.dump(user), **login_body(result)},
            tokens=result.tokens,
            session_id=result.session.id,
            status=201,
        )

    @bp.post("/login")
    @doc(
        "Log in",
        operation_id="login",
        ok=(200, Token),
        ok_alternatives=(MfaRequiredResponse,),
        body=LoginBody,
        errors=LOGIN_ERRORS,
    )
    @rate_limit(lambda s: s.rate_limit_login, scope="login")
    @rate_limit(lambda s: s.rate_limit_login_email, scope="login_email", key=login_email)
    async def login(request: Request) -> HTTPResponse:
        """Sign in with email and password; starts a session for this device. For an account
        with two-factor authentication the answer is ``mfa_required`` with an ``mfa_token``
        instead (no session yet): send a code to ``/auth/login/mfa``."""
        check_cookie_login(request)
        body = parse_json(request, LoginBody)
        device = device_info(request, auth_runtime(request).settings.trusted_proxies)
        result = await manager_of(request).login(body.email, body.password, device)
        return login_answer(request, result)

    @bp.post("/login/oauth")
    @doc(
        "Log in (OAuth2 password flow)",
        operation_id="login_oauth",
        ok=(200, Token),
        ok_alternatives=(MfaRequiredResponse,),
        form=OAuthLoginForm,
        errors=LOGIN_ERRORS,
    )
    @rate_limit(lambda s: s.rate_limit_login, scope="login")
    @rate_limit(lambda s: s.rate_limit_login_email, scope="login_email", key=oauth_username)
    async def login_oauth(request: Request) -> HTTPResponse:
        """OAuth2 password flow (form-encoded ``username``/``password``), for Swagger UI."""
        check_cookie_login(request)
        form = parse_form(request, OAuthLoginForm)
        device = device_info(request, auth_runtime(request).settings.trusted_proxies)
        result = await manager_of(request).login(form.username, form.password, device)
        return login_answer(request, result)

    @bp.post("/refresh")
    @doc(
        "Refresh the tokens",
        operation_id="refresh_token",
        ok=(200, TokenPairResponse),
        body=RefreshBody,
        errors=(errors.InvalidToken, errors.TokenReused, errors.RateLimited),
    )
    @rate_limit(lambda s: s.rate_limit_refresh, scope="refresh")
    async def refresh(request: Request) -> HTTPResponse:
        """Rotate a refresh token; reusing an old one revokes its session. With a cookie
        transport the body may be left out: the refresh cookie is used (with the CSRF check)."""
        check_cookie_login(request)
        cookie = cookie_refresh(request)
        if cookie is not None and cookie[1] is not None:
            require_csrf(request, cookie[1])
        token, from_cookie = refresh_token_of(request, RefreshBody, cookie and cookie[0])
        manager = manager_of(request)
        if not from_cookie and not asks_for_cookies(request):  # a bearer client
            tokens = await manager.refresh(token)
            return token_response(TokenPairResponse.dump(tokens, token_type="bearer"))
        session_id = manager.codec.decode(token, "refresh").session_id  # 401 when invalid
        tokens = await manager.refresh(token)
        return token_answer(
            request,
            TokenPairResponse.dump(tokens, token_type="bearer"),
            tokens=tokens,
            session_id=session_id,
            cookies=True,
        )

    @bp.post("/reauthenticate")
    @doc(
        "Re-authenticate",
        operation_id="reauthenticate",
        auth="user",
        ok=(200, ReauthenticateResponse),
        body=ReauthenticateBody,
        errors=(
            errors.WrongPassword,
            errors.MfaCodeInvalid,
            errors.WebAuthnChallengeInvalid,
            errors.WebAuthnVerificationFailed,
            errors.RateLimited,
            errors.AccountLocked,
        ),
    )
    @require_auth
    @rate_limit(lambda s: s.rate_limit_reauthenticate, scope="reauthenticate", key=user_key)
    async def reauthenticate(request: Request) -> HTTPResponse:
        """Prove again who you are, to make the calling session fresh for the sensitive routes
        (`AUTH_FRESH_AUTH_MAX_AGE_S`): exactly one of `password` (an account without two-factor
        authentication), `code` or `recovery_code` (an account with it), or `passkey` (the answer
        of `navigator.credentials.get()` to a `reauthenticate` challenge of
        `POST /auth/passkeys/authenticate/options`). The answer carries a
        new access token for the same session, with the new `auth_time` and `amr`. A wrong proof
        is 403 and counts toward the lockout; a proof the account cannot use is 422."""
        body = parse_json(request, ReauthenticateBody)
        given = [
            name
            for name in ("password", "code", "recovery_code", "passkey")
            if getattr(body, name) is not None
        ]
        if len(given) != 1:
            message = "Give exactly one of password, code, recovery_code or passkey."
            raise errors.ValidationFailed(
                [errors.ErrorDetail("VALIDATION_ERROR", message, "password")]
            )
        manager = manager_of(request)
        if body.passkey is not None:
            token, auth_time = await manager.passkeys.reauthenticate(
                current_auth(request), body.passkey.challenge_id, body.passkey.credential
            )
        else:
            token, auth_time = await manager.reauthenticate(
                current_auth(request),
                password=body.password,
                code=body.code,
                recovery_code=body.recovery_code,
            )
        fresh_until = auth_time + timedelta(seconds=manager.settings.fresh_auth_max_age_s)
        answer = ReauthenticateResponse.dump(
            success=True,
            message="Re-authenticated: this session is fresh again.",
            access_token=token,
            token_type="bearer",
            expires_in=manager.settings.access_token_ttl_s,
            auth_time=auth_time,
            fresh_until=fresh_until,
        )
        if not answers_in_cookies(request):
            return token_response(answer)
        response = token_response(cookie_body(answer))
        set_access_cookie(response, manager.settings, token)
        return response

    @bp.post("/logout")
    @doc("Log out", operation_id="logout", auth="user", body=LogoutBody)
    @require_auth
    async def logout(request: Request) -> HTTPResponse:
        """End the session of a refresh token (idempotent). With a cookie transport the body
        may be left out (the refresh cookie is used) and the answer clears the cookies."""
        cookie = cookie_refresh(request)
        if cookie is not None:
            require_csrf(request, cookie[1] or current_auth(request).session.id)
        token, _ = refresh_token_of(request, LogoutBody, cookie and cookie[0])
        await manager_of(request).logout(current_auth(request), token)
        response = json(SuccessResponse.dump(success=True, message="Logged out successfully"))
        clear_token_cookies(request, response)
        return response

    @bp.post("/logout-all")
    @doc(
        "Log out of every session",
        operation_id="logout_all",
        auth="user",
        ok=(200, LogoutAllResponse),
        errors=(errors.RateLimited,),
    )
    @rate_limit(lambda s: s.rate_limit_logout_all, scope="logout_all")
    @require_auth
    async def logout_all(request: Request) -> HTTPResponse:
        """End every session of the caller, the current one included."""
        revoked = await manager_of(request).logout_all(current_auth(request))
        response = json(
            LogoutAllResponse.dump(
                success=True,
                message=(
                    f"Successfully logged out from all devices ({revoked} sessions terminated)"
                ),
                sessions_revoked=revoked,
            )
        )
        clear_token_cookies(request, response)
        return response

    @bp.post("/password-reset/request")
    @doc(
        "Request a password reset",
        operation_id="request_password_reset",
        body=PasswordResetRequestBody,
        errors=(errors.RateLimited,),
    )
    @rate_limit(lambda s: s.rate_limit_password_reset_request, scope="password_reset_request")
    async def password_reset_request(request: Request) -> HTTPResponse:
        """Mail a reset token; the answer is the same whether or not the account exists.

        The account is looked up, and the token made and mailed, after the answer: every
        email costs the same before it.
        """
        body = parse_json(request, PasswordResetRequestBody)
        manager = manager_of(request)
        manager.run_in_background(manager.forgot_password(body.email), "A password-reset request")
        return json(
            SuccessResponse.dump(
                success=True,
                message=(
                    "If your email is registered, you will receive a password reset link shortly"
                ),
            )
        )

    @bp.post("/password-reset/confirm")
    @doc(
        "Reset the password",
        operation_id="confirm_password_reset",
        body=PasswordResetConfirmBody,
        errors=(InvalidResetToken, errors.WeakPassword, errors.RateLimited),
    )
    @rate_limit(lambda s: s.rate_limit_password_reset_confirm, scope="password_reset_confirm")
    async def password_reset_confirm(request: Request) -> HTTPResponse:
        """Set a new password with a reset token; every session is revoked."""
        body = await parse_json_with_password(
            request, PasswordResetConfirmBody, password_field="new_password"
        )
        await manager_of(request).reset_password(body.token, body.new_password)
        return json(SuccessResponse.dump(success=True, message=PASSWORD_RESET_DONE))

    @bp.post("/verify-email/request")
    @doc(
        "Request an email verification",
        operation_id="request_email_verification",
        body=VerifyEmailRequestBody,
        errors=(errors.RateLimited,),
    )
    @rate_limit(lambda s: s.rate_limit_verify_email_request, scope="verify_email_request")
    async def verify_email_request(request: Request) -> HTTPResponse:
        """Mail a verification token to an active, unverified account (at most one message
        per address per minute). The answer is the same for every well-formed email: the
        account is looked up, and the token made and mailed, after it."""
        body = parse_json(request, VerifyEmailRequestBody)
        manager = manager_of(request)
        manager.run_in_background(
            manager.request_email_verification(body.email), "A verification request"
        )
        return json(SuccessResponse.dump(success=True, message=VERIFICATION_REQUESTED))

    @bp.post("/verify-email/confirm")
    @doc(
        "Verify an email address",
        operation_id="confirm_email_verification",
        body=VerifyEmailConfirmBody,
        errors=(errors.VerificationTokenInvalid, errors.RateLimited),
    )
    @rate_limit(lambda s: s.rate_limit_verify_email_confirm, scope="verify_email_confirm")
    async def verify_email_confirm(request: Request) -> HTTPResponse:
        """Mark the token's account verified (single use; no session is made)."""
        body = parse_json(request, VerifyEmailConfirmBody)
        await manager_of(request).confirm_email_verification(body.token)
        return json(SuccessResponse.dump(success=True, message="Email verified successfully."))

    @bp.post("/email-change/confirm")
    @doc(
        "Confirm an email change",
        operation_id="confirm_email_change",
        body=EmailChangeConfirmBody,
        errors=(errors.EmailChangeTokenInvalid, errors.EmailTaken, errors.RateLimited),
    )
    @rate_limit(lambda s: s.rate_limit_email_change_confirm, scope="email_change_confirm")
    async def email_change_confirm(request: Request) -> HTTPResponse:
        """Make the token's new address the account's (verified); every other single-use
        token of the account dies, sessions are kept, the old address gets a notice. 409 if
        another account took the address meanwhile (the token is spent)."""
        body = parse_json(request, EmailChangeConfirmBody)
        await manager_of(request).confirm_email_change(body.token)
        return json(SuccessResponse.dump(success=True, message="Email changed successfully."))

    return bp
