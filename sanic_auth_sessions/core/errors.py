"""Domain exceptions raised by the services.

Services know nothing about HTTP: they raise these, and one error handler
(``sanic_auth_sessions.http.error_handler``) turns them into the contract's error body and
status. Every exception carries a stable UPPER_SNAKE ``code``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorDetail:
    code: str
    message: str
    field: str | None = None


class AuthSessionsError(Exception):
    """Base of every domain error; ``code`` and ``message`` reach the client."""

    code = "ERROR"
    message = "The request could not be completed."

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = message or self.message
        self.field = field
        super().__init__(self.message)

    @property
    def details(self) -> list[ErrorDetail]:
        return [ErrorDetail(self.code, self.message, self.field)]


# 400
class BadRequest(AuthSessionsError):
    code = "BAD_REQUEST"
    message = "The request is malformed."


class VerificationTokenInvalid(BadRequest):
    code = "VERIFICATION_TOKEN_INVALID"
    message = "The verification token is invalid, used, expired or outdated."


class EmailChangeTokenInvalid(BadRequest):
    code = "EMAIL_CHANGE_TOKEN_INVALID"
    message = "The email-change token is invalid, used, expired or replaced."


class OAuthStateInvalid(BadRequest):
    code = "OAUTH_STATE_INVALID"
    message = "The social login state is unknown, expired, used or does not match."


class OAuthCodeInvalid(BadRequest):
    code = "OAUTH_CODE_INVALID"
    message = "The provider refused the authorization code."


class WebAuthnChallengeInvalid(BadRequest):
    code = "WEBAUTHN_CHALLENGE_INVALID"
    message = "The passkey challenge is unknown, expired, used or not for this request."


class WebAuthnVerificationFailed(BadRequest):
    code = "WEBAUTHN_VERIFICATION_FAILED"
    message = "The passkey response could not be verified."


# 401
class Unauthenticated(AuthSessionsError):
    code = "AUTH_REQUIRED"
    message = "Authentication is required."


class InvalidCredentials(Unauthenticated):
    code = "AUTH_INVALID_CREDENTIALS"
    message = "Incorrect email or password."


class InvalidToken(Unauthenticated):
    code = "AUTH_INVALID_TOKEN"
    message = "The token is invalid, expired or revoked."


class InvalidClient(Unauthenticated):
    """An introspection client unknown, or its secret wrong (HTTP Basic, RFC 6749 §2.3.1)."""

    code = "INVALID_CLIENT"
    message = "Unknown client or wrong client secret."
    challenge = 'Basic realm="introspection"'


class TokenReused(Unauthenticated):
    code = "AUTH_TOKEN_REUSED"
    message = "This refresh token was already used; the session has been revoked."


class InvalidMfaCode(Unauthenticated):
    code = "AUTH_INVALID_MFA_CODE"
    message = "The code is wrong, or was already used."


class InvalidMfaToken(Unauthenticated):
    code = "MFA_TOKEN_INVALID"
    message = "The sign-in has expired or was already completed: log in again."


class OAuthIdTokenInvalid(Unauthenticated):
    code = "OAUTH_ID_TOKEN_INVALID"
    message = "The provider's ID token failed verification."


# 403
class PermissionDenied(AuthSessionsError):
    code = "PERMISSION_DENIED"
    message = "You are not allowed to do this."


class CsrfFailed(PermissionDenied):
    """A request authenticated by a cookie, or asking for cookies, without the CSRF proof."""

    code = "CSRF_FAILED"
    message = "Missing or wrong X-CSRF-Token, or an origin that is not allowed."


class AccountInactive(PermissionDenied):
    code = "ACCOUNT_INACTIVE"
    message = "This account is inactive."


class EmailNotVerified(PermissionDenied):
    code = "EMAIL_NOT_VERIFIED"
    message = "Verify your email address before signing in."


class OrganizationCreationClosed(PermissionDenied):
    code = "ORGANIZATION_CREATION_DISABLED"
    message = "Creating organizations is disabled."


class CannotTargetSelf(PermissionDenied):
    code = "CANNOT_TARGET_SELF"
    message = "You cannot do this to your own account."


class RegistrationClosed(PermissionDenied):
    code = "REGISTRATION_DISABLED"
    message = "Registration is disabled."


class WrongPassword(PermissionDenied):
    code = "AUTH_WRONG_PASSWORD"
    message = "The current password is incorrect."


class MfaCodeInvalid(PermissionDenied):
    code = "MFA_CODE_INVALID"
    message = "The code is wrong, or was already used."


class ReauthenticationRequired(PermissionDenied):
    code = "REAUTHENTICATION_REQUIRED"
    message = (
        "This action needs a recent authentication: re-authenticate (POST /auth/reauthenticate) "
        "or send a proof in the body."
    )


class OAuthEmailNotVerified(PermissionDenied):
    code = "OAUTH_EMAIL_NOT_VERIFIED"
    message = (
        "The provider did not confirm a verified email address, and no account is linked to "
        "this identity."
    )


# 404
class NotFound(AuthSessionsError):
    code = "NOT_FOUND"
    message = "The resource was not found."


# 409
class Conflict(AuthSessionsError):
    code = "CONFLICT"
    message = "The request conflicts with the current state."


class EmailTaken(Conflict):
    code = "EMAIL_TAKEN"
    message = "An account with this email already exists."


class SlugTaken(Conflict):
    code = "SLUG_TAKEN"
    message = "An organization with this slug already exists."


class AlreadyMember(Conflict):
    code = "ALREADY_MEMBER"
    message = "This user is already a member of the organization."


class LastOwner(Conflict):
    code = "LAST_OWNER"
    message = "An organization must keep at least one owner."


class LastSuperuser(Conflict):
    code = "LAST_SUPERUSER"
    message = "You are the only active superuser: promote another account first."


class MfaAlreadyEnabled(Conflict):
    code = "MFA_ALREADY_ENABLED"
    message = "Two-factor authentication is already on."


class MfaNotEnabled(Conflict):
    code = "MFA_NOT_ENABLED"
    message = "Two-factor authentication is off."


class MfaSetupNotStarted(Conflict):
    code = "MFA_SETUP_NOT_STARTED"
    message = "No two-factor setup is waiting for confirmation: start it again."


class OAuthAccountExists(Conflict):
    code = "OAUTH_ACCOUNT_EXISTS"
    message = (
        "An account with this email already exists. Log in to it, then link this provider "
        "from your account settings."
    )


class OAuthAlreadyLinked(Conflict):
    code = "OAUTH_ALREADY_LINKED"
    message = "This provider account is already linked."


class PasskeyAlreadyRegistered(Conflict):
    code = "PASSKEY_ALREADY_REGISTERED"
    message = "This passkey is already registered."


class PasskeyLimitReached(Conflict):
    code = "PASSKEY_LIMIT_REACHED"
    message = "This account has the most passkeys it can have: delete one first."


class LastLoginMethod(Conflict):
    code = "LAST_LOGIN_METHOD"
    message = "This is the account's last way to log in: add another one first."


# 413
class PayloadTooLarge(AuthSessionsError):
    code = "PAYLOAD_TOO_LARGE"
    message = "The request body is too large."


# 415
class UnsupportedMediaType(AuthSessionsError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    message = "Send the body as application/json (UTF-8)."


# 422
class ValidationFailed(AuthSessionsError):
    """One or more invalid input fields; ``errors`` holds one entry per bad field."""

    code = "VALIDATION_ERROR"
    message = "The input is invalid."

    def __init__(self, errors: list[ErrorDetail]) -> None:
        super().__init__(errors[0].message if errors else None)
        self.errors = errors

    @property
    def details(self) -> list[ErrorDetail]:
        return self.errors


class WeakPassword(ValidationFailed):
    code = "PASSWORD_TOO_WEAK"

    def __init__(self, message: str, *, field: str = "password", code: str | None = None) -> None:
        super().__init__([ErrorDetail(code or self.code, message, field)])


# 431
class HeadersTooLarge(AuthSessionsError):
    code = "HEADERS_TOO_LARGE"
    message = "The request headers are too large."


# 429
class RateLimited(AuthSessionsError):
    code = "RATE_LIMITED"
    message = "Too many requests. Try again later."

    def __init__(
        self, retry_after_s: int, message: str | None = None, *, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, retry_after_s)
        if code:
            self.code = code


class AccountLocked(RateLimited):
    """Too many attempts with one account's credentials (see ``lockout.py``)."""

    code = "ACCOUNT_LOCKED"

    def __init__(self, retry_after_s: int, *, newly_locked: bool = False) -> None:
        minutes = max(1, -(-retry_after_s // 60))
        super().__init__(
            retry_after_s,
            "Too many failed sign-in attempts: this account is locked. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
        )
        self.newly_locked = newly_locked  # this attempt set the lock (not one already set)


# 503
class ServiceUnavailable(AuthSessionsError):
    code = "SERVICE_UNAVAILABLE"
    message = "The service is temporarily unavailable. Try again shortly."


class DatabaseUnavailable(ServiceUnavailable):
    code = "DATABASE_UNAVAILABLE"
    message = "The database is unreachable. Nothing was changed; try again shortly."


# 502
class BadGateway(AuthSessionsError):
    code = "BAD_GATEWAY"
    message = "An upstream service answered unexpectedly."


class OAuthProviderUnavailable(BadGateway):
    code = "OAUTH_PROVIDER_UNAVAILABLE"
    message = "The login provider could not be reached or answered unexpectedly. Try again."
