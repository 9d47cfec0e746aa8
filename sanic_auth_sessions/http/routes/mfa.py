"""Two-factor authentication: the caller's TOTP and recovery codes (``/users/me/mfa``), the
admin's reset (``/admin/users/{user_id}/mfa/reset``) and a login's second step
(``/auth/login/mfa``).

Confirming a setup and regenerating recovery codes follow the step-up rule (a fresh session,
or a proof in the body: ``current_password`` to confirm a setup; ``code`` or ``recovery_code``
to regenerate recovery codes). Disabling always needs both proofs.
"""

from __future__ import annotations

from uuid import UUID

from sanic import Blueprint, HTTPResponse, Request, json

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.errors import ErrorDetail, ValidationFailed
from sanic_auth_sessions.http.client import device_info
from sanic_auth_sessions.http.guards import (
    current_auth,
    manager_of,
    require_auth,
    require_superuser,
)
from sanic_auth_sessions.http.openapi import route_docs
from sanic_auth_sessions.http.rate_limits import rate_limit
from sanic_auth_sessions.http.responses import (
    MfaStatusResponse,
    RecoveryCodesResponse,
    SuccessResponse,
    Token,
    TotpSetupResponse,
    UserStatusResponse,
)
from sanic_auth_sessions.http.routes import AuthBlueprint
from sanic_auth_sessions.http.routes.auth import LOGIN_ERRORS, login_answer
from sanic_auth_sessions.http.routes.inputs import user_key
from sanic_auth_sessions.http.runtime import auth_runtime
from sanic_auth_sessions.http.schemas import (
    LoginMfaBody,
    MfaConfirmBody,
    MfaDisableBody,
    MfaProofBody,
    parse_json,
    parse_optional_json,
)
from sanic_auth_sessions.http.transport import check_cookie_login, token_response

users_doc = route_docs("Users")
admin_doc = route_docs("Admin", auth="superuser")
auth_doc = route_docs("Auth", auth="public")

MANAGE_SCOPE = "mfa_manage"  # the four routes that change MFA share one counter per user
PROOF_ERRORS = (errors.WrongPassword, errors.MfaCodeInvalid, errors.AccountLocked)


manage_limit = rate_limit(lambda s: s.rate_limit_mfa_manage, scope=MANAGE_SCOPE, key=user_key)


def required(field: str, message: str) -> ValidationFailed:
    return ValidationFailed([ErrorDetail("VALIDATION_ERROR", message, field)])


def one_code(code: str | None, recovery_code: str | None, *, required_one: bool) -> None:
    """422 on ``code`` unless the body has at most (or, ``required_one``, exactly) one of
    ``code`` and ``recovery_code``."""
    both = code is not None and recovery_code is not None
    neither = code is None and recovery_code is None
    if both or (required_one and neither):
        raise required("code", "Give exactly one of code or recovery_code.")


def has_password(request: Request) -> bool:
    return bool(current_auth(request).user.hashed_password)


def create_mfa_blueprint(url_prefix: str) -> Blueprint:
    bp = AuthBlueprint("auth_sessions_mfa", url_prefix=url_prefix)

    @bp.get("/users/me/mfa")
    @users_doc("My two-factor status", operation_id="get_mfa_status", ok=(200, MfaStatusResponse))
    @require_auth
    async def get_mfa_status(request: Request) -> HTTPResponse:
        """Whether two-factor authentication is on, its methods and the unused recovery codes."""
        status = await manager_of(request).mfa.status(current_auth(request).user)
        return json(MfaStatusResponse.dump(status))

    @bp.post("/users/me/mfa/totp/setup")
    @users_doc(
        "Start a TOTP setup",
        operation_id="start_totp_setup",
        ok=(200, TotpSetupResponse),
        errors=(errors.MfaAlreadyEnabled, errors.RateLimited),
    )
    @require_auth
    @manage_limit
    async def start_totp_setup(request: Request) -> HTTPResponse:
        """A new secret for an authenticator app (replacing any setup not yet confirmed),
        valid ``AUTH_MFA_SETUP_TTL_S``: its ``otpauth://`` URI and a QR code of it (SVG)."""
        setup = await manager_of(request).mfa.start_setup(current_auth(request).user)
        return token_response(TotpSetupResponse.dump(setup))

    @bp.post("/users/me/mfa/totp/confirm")
    @users_doc(
        "Confirm the TOTP setup",
        operation_id="confirm_totp_setup",
        ok=(200, RecoveryCodesResponse),
        body=MfaConfirmBody,
        errors=(
            errors.ReauthenticationRequired,
            errors.WrongPassword,
            errors.MfaCodeInvalid,
            errors.MfaSetupNotStarted,
            errors.MfaAlreadyEnabled,
            errors.RateLimited,
            errors.AccountLocked,
        ),
    )
    @require_auth
    @manage_limit
    async def confirm_totp_setup(request: Request) -> HTTPResponse:
        """Turn two-factor authentication on with a code of the new authenticator; the answer
        holds the first 10 recovery codes (shown only here). Step-up: a fresh session, or
        the account's ``current_password``."""
        body = parse_json(request, MfaConfirmBody)
        codes = await manager_of(request).mfa.confirm_setup(
            current_auth(request), body.code, body.current_password
        )
        message = "Two-factor authentication is on. Keep these recovery codes somewhere safe."
        return token_response(
            RecoveryCodesResponse.dump(success=True, message=message, recovery_codes=codes)
        )

    @bp.post("/users/me/mfa/disable")
    @users_doc(
        "Turn two-factor authentication off",
        operation_id="disable_mfa",
        body=MfaDisableBody,
        errors=(*PROOF_ERRORS, errors.MfaNotEnabled, errors.RateLimited),
    )
    @require_auth
    @manage_limit
    async def disable_mfa(request: Request) -> HTTPResponse:
        """Remove the authenticator and every recovery code. Always needs both proofs: the
        ``current_password`` (when the account has one) and a ``code`` or ``recovery_code``."""
        body = parse_json(request, MfaDisableBody)
        missing = []
        if body.current_password is None and has_password(request):
            message = "This field is required."
            missing.append(ErrorDetail("VALIDATION_ERROR", message, "current_password"))
        if (body.code is None) == (body.recovery_code is None):
            message = "Give exactly one of code or recovery_code."
            missing.append(ErrorDetail("VALIDATION_ERROR", message, "code"))
        if missing:
            raise ValidationFailed(missing)
        await manager_of(request).mfa.disable(
            current_auth(request),
            current_password=body.current_password,
            code=body.code,
            recovery_code=body.recovery_code,
        )
        message = "Two-factor authentication is off."
        return json(SuccessResponse.dump(success=True, message=message))

    @bp.post("/users/me/mfa/recovery-codes")
    @users_doc(
        "New recovery codes",
        operation_id="regenerate_recovery_codes",
        ok=(200, RecoveryCodesResponse),
        body=MfaProofBody,
        body_required=False,
        errors=(
            errors.ReauthenticationRequired,
            *PROOF_ERRORS,
            errors.MfaNotEnabled,
            errors.RateLimited,
        ),
    )
    @require_auth
    @manage_limit
    async def regenerate_recovery_codes(request: Request) -> HTTPResponse:
        """A new set of 10 recovery codes; every previous one stops working. Step-up: a fresh
        session, or a ``code`` or ``recovery_code`` in the (optional) body."""
        body = parse_optional_json(request, MfaProofBody)
        one_code(body.code, body.recovery_code, required_one=False)
        codes = await manager_of(request).mfa.regenerate_recovery_codes(
            current_auth(request),
            current_password=body.current_password,
            code=body.code,
            recovery_code=body.recovery_code,
        )
        message = "New recovery codes: the previous ones no longer work."
        return token_response(
            RecoveryCodesResponse.dump(success=True, message=message, recovery_codes=codes)
        )

    @bp.post("/admin/users/<user_id:uuid>/mfa/reset")
    @admin_doc(
        "Reset a user's two-factor authentication",
        operation_id="admin_reset_user_mfa",
        ok=(200, UserStatusResponse),
        errors=(errors.CannotTargetSelf, errors.NotFound, errors.MfaNotEnabled),
    )
    @require_superuser
    async def admin_reset_user_mfa(request: Request, user_id: UUID) -> HTTPResponse:
        """Remove a user's authenticator and recovery codes and revoke all their sessions (for
        a user who lost their device); never yourself."""
        user = await manager_of(request).mfa.admin_reset(current_auth(request).user, user_id)
        message = f"Two-factor authentication of {user.email} has been reset"
        return json(UserStatusResponse.dump(success=True, message=message, user=user))

    @bp.post("/auth/login/mfa")
    @auth_doc(
        "Log in: the second factor",
        operation_id="login_mfa",
        ok=(200, Token),
        body=LoginMfaBody,
        errors=(
            errors.InvalidMfaToken,
            errors.InvalidMfaCode,
            *LOGIN_ERRORS,
        ),
    )
    @rate_limit(lambda s: s.rate_limit_login_mfa, scope="login_mfa")
    async def login_mfa(request: Request) -> HTTPResponse:
        """Complete a login that answered ``mfa_required``: its ``mfa_token``, from the same
        device, and a ``code`` of the authenticator or a ``recovery_code``. Answers as
        ``/auth/login``."""
        check_cookie_login(request)
        body = parse_json(request, LoginMfaBody)
        one_code(body.code, body.recovery_code, required_one=True)
        device = device_info(request, auth_runtime(request).settings.trusted_proxies)
        result = await manager_of(request).mfa.complete_login(
            body.mfa_token, device, code=body.code, recovery_code=body.recovery_code
        )
        return login_answer(request, result)

    return bp
