"""Passkeys (WebAuthn Level 3): registering them, logging in with them (usernameless) and
re-authenticating a session with them. No HTTP here.

Every WebAuthn check (client data, origin, RP id hash, flags, algorithm, signature) is the
``webauthn`` library's; this module keeps the rules around it:

- Challenges are 32 random bytes, stored with their purpose (``register``, ``login``,
  ``reauthenticate``), the user and session that asked (not for ``login``) and an expiry
  (``AUTH_WEBAUTHN_CHALLENGE_TTL_S``); a verification spends its challenge first, with a
  compare-and-swap, whatever its outcome, so a challenge works once.
- Each account has a random 32-byte user handle (never its id); an assertion must carry the
  handle of the account its credential belongs to.
- Sign counter: when the stored or the received counter is non-zero and the received one is
  not greater, the assertion is refused, the passkey is flagged (refused from then on) and
  ``passkey.counter_regression`` is recorded.
- A passkey login is a session-creating login (``UserManager.sign_in``) with ``amr``
  ``["pop", "mfa"]`` (user verified) or ``["pop"]``; it never asks for a TOTP code and does
  not touch the email lockout. An account with two-factor authentication needs a
  user-verified assertion.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from uuid import UUID

from tortoise.exceptions import IntegrityError
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    bytes_to_base64url,
    options_to_json_dict,
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.devices import DeviceInfo
from sanic_auth_sessions.core.models import (
    CREDENTIAL_ID_MAX_CHARS,
    Passkey,
    User,
    WebAuthnChallenge,
    WebAuthnPurpose,
    WebAuthnUserHandle,
)
from sanic_auth_sessions.db.connection import transaction

if TYPE_CHECKING:
    from sanic_auth_sessions.services.manager import AuthContext, LoginResult, UserManager

__all__ = [
    "MAX_PASSKEYS_PER_ACCOUNT",
    "PasskeyOptions",
    "PasskeyService",
]

MAX_PASSKEYS_PER_ACCOUNT = 20
CHALLENGE_BYTES = 32
USER_HANDLE_BYTES = 32
DEFAULT_PASSKEY_NAME = "Passkey"
# ES256, EdDSA, RS256: what the options offer and registration accepts.
ALGORITHMS = [
    COSEAlgorithmIdentifier.ECDSA_SHA_256,
    COSEAlgorithmIdentifier.EDDSA,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
]
VERIFIED_AMR = ("pop", "mfa")  # a user-verified passkey: something held and something known
UNVERIFIED_AMR = ("pop",)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class PasskeyOptions:
    """A challenge's id and the WebAuthn options (their JSON form) to pass to the browser."""

    challenge_id: UUID
    public_key: dict[str, Any]


logger = logging.getLogger("sanic_auth_sessions")


class AssertionRefused(Exception):
    """An assertion failed a check; each caller answers it its own way (401 or 400)."""


def _transports(values: list[str]) -> list[AuthenticatorTransport]:
    known = {transport.value for transport in AuthenticatorTransport}
    return [AuthenticatorTransport(value) for value in values if value in known]


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(passkey.credential_id), transports=_transports(passkey.transports)
    )


class PasskeyService:
    """The passkeys of ``manager``'s accounts (``manager.passkeys``)."""

    def __init__(self, manager: UserManager) -> None:
        self.manager = manager
        self.settings = manager.settings

    # --- settings -------------------------------------------------------------------------

    @property
    def rp_id(self) -> str:
        if not self.settings.webauthn_rp_id:
            raise errors.NotFound("Passkeys are not configured.")
        return self.settings.webauthn_rp_id

    @property
    def uv_required(self) -> bool:
        return self.settings.webauthn_user_verification == "required"

    def _user_verification(self) -> UserVerificationRequirement:
        return UserVerificationRequirement(self.settings.webauthn_user_verification)

    # --- the account's user handle and passkeys ---------------------------------------------

    async def user_handle(self, user: User) -> bytes:
        """The account's WebAuthn user handle, made (32 random bytes) on first use."""
        row = await WebAuthnUserHandle.get_or_none(user_id=user.id)
        if row is None:
            handle = bytes_to_base64url(secrets.token_bytes(USER_HANDLE_BYTES))
            try:
                row = await WebAuthnUserHandle.create(user_id=user.id, handle=handle)
            except IntegrityError:  # a concurrent request made it first
                row = await WebAuthnUserHandle.get(user_id=user.id)
        return base64url_to_bytes(row.handle)

    async def list(self, user: User) -> list[Passkey]:
        """The account's passkeys, newest first."""
        return await Passkey.filter(user_id=user.id).order_by("-created_at", "-id")

    # --- challenges -----------------------------------------------------------------------

    async def _new_challenge(
        self,
        purpose: WebAuthnPurpose,
        ctx: AuthContext | None = None,
        *,
        name: str | None = None,
    ) -> tuple[WebAuthnChallenge, bytes]:
        challenge = secrets.token_bytes(CHALLENGE_BYTES)
        row = await WebAuthnChallenge.create(
            challenge=bytes_to_base64url(challenge),
            purpose=purpose,
            user_id=ctx.user.id if ctx else None,
            session_id=ctx.session.id if ctx else None,
            name=name,
            expires_at=utcnow() + timedelta(seconds=self.settings.webauthn_challenge_ttl_s),
        )
        return row, challenge

    async def _spend_challenge(
        self, challenge_id: str, purpose: WebAuthnPurpose, ctx: AuthContext | None = None
    ) -> WebAuthnChallenge:
        """The challenge, now spent: unknown, expired, used, of another purpose, or (except
        for a login) of another user or session is 400 ``WEBAUTHN_CHALLENGE_INVALID``."""
        try:
            wanted = UUID(challenge_id)
        except ValueError:
            raise errors.WebAuthnChallengeInvalid(field="challenge_id") from None
        now = utcnow()
        query = WebAuthnChallenge.filter(
            id=wanted, purpose=purpose, used_at__isnull=True, expires_at__gt=now
        )
        if ctx is not None:
            query = query.filter(user_id=ctx.user.id, session_id=ctx.session.id)
        row = await query.first()
        if row is None:
            raise errors.WebAuthnChallengeInvalid(field="challenge_id")
        spent = await WebAuthnChallenge.filter(id=row.id, used_at__isnull=True).update(used_at=now)
        if spent != 1:  # a concurrent request spent it first
            raise errors.WebAuthnChallengeInvalid(field="challenge_id")
        return row

    # --- registration ---------------------------------------------------------------------

    async def registration_options(
        self,
        ctx: AuthContext,
        *,
        name: str | None = None,
        current_password: str | None = None,
        code: str | None = None,
        recovery_code: str | None = None,
    ) -> PasskeyOptions:
        """Options for ``navigator.credentials.create``. Step-up (a fresh session, or a proof
        in the body); 409 ``PASSKEY_LIMIT_REACHED`` at 20 passkeys."""
        rp_id = self.rp_id
        await self.manager.require_step_up(
            ctx, current_password=current_password, code=code, recovery_code=recovery_code
        )
        user = ctx.user
        existing = await self.list(user)
        if len(existing) >= MAX_PASSKEYS_PER_ACCOUNT:
            raise errors.PasskeyLimitReached()
        handle = await self.user_handle(user)
        row, challenge = await self._new_challenge(WebAuthnPurpose.REGISTER, ctx, name=name)
        options = generate_registration_options(
            rp_id=rp_id,
            rp_name=self.settings.webauthn_rp_label,
            user_id=handle,
            user_name=user.email,
            user_display_name=user.full_name or user.email,
            challenge=challenge,
            timeout=self.settings.webauthn_challenge_ttl_s * 1000,
            attestation=AttestationConveyancePreference.NONE,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                require_resident_key=True,
                user_verification=self._user_verification(),
            ),
            exclude_credentials=[_descriptor(passkey) for passkey in existing],
            supported_pub_key_algs=ALGORITHMS,
        )
        return PasskeyOptions(row.id, options_to_json_dict(options))

    async def register(
        self,
        ctx: AuthContext,
        challenge_id: str,
        credential: Mapping[str, Any],
        *,
        name: str | None = None,
    ) -> Passkey:
        """Verify a ``navigator.credentials.create`` answer to the caller's (same session's)
        registration challenge and store the passkey. 400 ``WEBAUTHN_CHALLENGE_INVALID`` or
        ``WEBAUTHN_VERIFICATION_FAILED``; 409 ``PASSKEY_ALREADY_REGISTERED`` (the credential is
        known for any account) or ``PASSKEY_LIMIT_REACHED``."""
        rp_id = self.rp_id
        row = await self._spend_challenge(challenge_id, WebAuthnPurpose.REGISTER, ctx)
        try:
            parsed = parse_registration_credential_json(dict(credential))
            verified = verify_registration_response(
                credential=parsed,
                expected_challenge=base64url_to_bytes(row.challenge),
                expected_rp_id=rp_id,
                expected_origin=list(self.settings.webauthn_origins),
                require_user_verification=self.uv_required,
                supported_pub_key_algs=ALGORITHMS,
            )
        except Exception as exc:  # every malformed or refused answer of the library
            # The library's reason stays in the log: it may name the configured origins.
            logger.info("A passkey registration was refused: %s", exc)
            raise errors.WebAuthnVerificationFailed(field="credential") from None
        credential_id = bytes_to_base64url(verified.credential_id)
        if len(credential_id) > CREDENTIAL_ID_MAX_CHARS:  # WebAuthn allows up to 1023 bytes
            raise errors.WebAuthnVerificationFailed(field="credential")
        user = ctx.user
        async with transaction():
            # The account's row, locked: concurrent registrations count each other.
            await User.filter(id=user.id).select_for_update().only("id").first()
            if await Passkey.filter(credential_id=credential_id).exists():
                raise errors.PasskeyAlreadyRegistered()
            if await Passkey.filter(user_id=user.id).count() >= MAX_PASSKEYS_PER_ACCOUNT:
                raise errors.PasskeyLimitReached()
            try:
                passkey = await Passkey.create(
                    user_id=user.id,
                    credential_id=credential_id,
                    public_key=bytes_to_base64url(verified.credential_public_key),
                    sign_count=verified.sign_count,
                    transports=[t.value for t in parsed.response.transports or []],
                    device_type=verified.credential_device_type.value,
                    backed_up=verified.credential_backed_up,
                    name=name or row.name or DEFAULT_PASSKEY_NAME,
                )
            except IntegrityError:  # registered a moment ago, by another request
                raise errors.PasskeyAlreadyRegistered() from None
        await self.manager.audit(
            "passkey.added",
            user_id=user.id,
            session_id=ctx.session.id,
            passkey_id=passkey.id,
            passkey_name=passkey.name,
        )
        return passkey

    async def delete(
        self,
        ctx: AuthContext,
        passkey_id: UUID,
        *,
        current_password: str | None = None,
        code: str | None = None,
        recovery_code: str | None = None,
    ) -> None:
        """Step-up, then delete one of the caller's passkeys; 404 for another's or an unknown
        one; 409 ``LAST_LOGIN_METHOD`` when the account could not log in without it."""
        self.rp_id  # noqa: B018 -- 404 while passkeys are not configured
        await self.manager.require_step_up(
            ctx, current_password=current_password, code=code, recovery_code=recovery_code
        )
        user = ctx.user
        async with transaction():
            # Locked: two deletions at once cannot both leave the other passkey as the last.
            await User.filter(id=user.id).select_for_update().only("id").first()
            passkey = await Passkey.get_or_none(id=passkey_id, user_id=user.id)
            if passkey is None:
                raise errors.NotFound("Passkey not found.")
            # A flagged passkey no longer signs in: removing it takes no way in away.
            # (this passkey, unflagged, is one of the account's login methods)
            if not passkey.flagged and await self.manager.social.login_methods(user) <= 1:
                raise errors.LastLoginMethod()
            await Passkey.filter(id=passkey.id).delete()
        await self.manager.audit(
            "passkey.removed",
            user_id=user.id,
            session_id=ctx.session.id,
            passkey_id=passkey.id,
            passkey_name=passkey.name,
        )

    # --- authentication -------------------------------------------------------------------

    async def authentication_options(
        self, purpose: WebAuthnPurpose, ctx: AuthContext | None = None
    ) -> PasskeyOptions:
        """Options for ``navigator.credentials.get``: for a login, usernameless (no
        ``allowCredentials``, no account); to re-authenticate ``ctx``'s session, its passkeys."""
        rp_id = self.rp_id
        allowed: list[PublicKeyCredentialDescriptor] = []
        if purpose is WebAuthnPurpose.REAUTHENTICATE:
            if ctx is None:
                raise errors.Unauthenticated()
            passkeys = await Passkey.filter(user_id=ctx.user.id, flagged=False)
            allowed = [_descriptor(passkey) for passkey in passkeys]
        else:
            ctx = None
        row, challenge = await self._new_challenge(purpose, ctx)
        options = generate_authentication_options(
            rp_id=rp_id,
            challenge=challenge,
            timeout=self.settings.webauthn_challenge_ttl_s * 1000,
            allow_credentials=allowed,
            user_verification=self._user_verification(),
        )
        return PasskeyOptions(row.id, options_to_json_dict(options))

    async def _verify_assertion(
        self, row: WebAuthnChallenge, credential: Mapping[str, Any], user_id: UUID | None
    ) -> tuple[Passkey, bool]:
        """The passkey of a valid assertion answering ``row`` and whether the user was
        verified; ``AssertionRefused`` otherwise. ``user_id``: the account it must belong to
        (re-authentication)."""
        try:
            parsed: AuthenticationCredential = parse_authentication_credential_json(
                dict(credential)
            )
            credential_id = bytes_to_base64url(parsed.raw_id)
        except Exception as exc:
            raise AssertionRefused(f"malformed credential: {exc}") from None
        passkey = await Passkey.get_or_none(credential_id=credential_id).select_related("user")
        if passkey is None:
            raise AssertionRefused("unknown credential")
        if user_id is not None and UUID(str(passkey.user_id)) != user_id:
            raise AssertionRefused("another account's credential")
        if passkey.flagged:
            raise AssertionRefused("flagged passkey")
        handle = await WebAuthnUserHandle.get_or_none(user_id=passkey.user_id)
        given_handle = parsed.response.user_handle
        if handle is None or given_handle is None:
            raise AssertionRefused("no user handle")
        if not secrets.compare_digest(given_handle, base64url_to_bytes(handle.handle)):
            raise AssertionRefused("user handle of another account")
        user = passkey.user
        try:
            verified = verify_authentication_response(
                credential=parsed,
                expected_challenge=base64url_to_bytes(row.challenge),
                expected_rp_id=self.rp_id,
                expected_origin=list(self.settings.webauthn_origins),
                credential_public_key=base64url_to_bytes(passkey.public_key),
                # The counter rule is applied below, where a regression flags the passkey.
                credential_current_sign_count=0,
                require_user_verification=self.uv_required or user.mfa_enabled,
            )
        except Exception as exc:
            raise AssertionRefused(f"verification failed: {exc}") from None
        stored, received = passkey.sign_count, verified.new_sign_count
        if (stored or received) and received <= stored:
            await Passkey.filter(id=passkey.id).update(flagged=True)
            await self.manager.audit(
                "passkey.counter_regression",
                user_id=user.id,
                passkey_id=passkey.id,
                stored_count=stored,
                received_count=received,
            )
            raise AssertionRefused("signature counter went backwards")
        updated = await Passkey.filter(id=passkey.id, sign_count=stored, flagged=False).update(
            sign_count=received,
            last_used_at=utcnow(),
            backed_up=verified.credential_backed_up,
            device_type=(
                verified.credential_device_type.value
                if verified.credential_device_type
                else CredentialDeviceType.SINGLE_DEVICE.value
            ),
        )
        if updated != 1:  # a concurrent assertion moved the counter first
            raise AssertionRefused("concurrent use")
        return passkey, verified.user_verified

    async def login(
        self, challenge_id: str, credential: Mapping[str, Any], device: DeviceInfo
    ) -> LoginResult:
        """``POST /auth/passkeys/authenticate/verify``: a session for the passkey's account.
        400 ``WEBAUTHN_CHALLENGE_INVALID``; 401 ``AUTH_INVALID_CREDENTIALS`` for any failed
        check; 403 ``ACCOUNT_INACTIVE``, ``EMAIL_NOT_VERIFIED``."""
        self.rp_id  # noqa: B018 -- 404 while passkeys are not configured
        row = await self._spend_challenge(challenge_id, WebAuthnPurpose.LOGIN)
        try:
            passkey, user_verified = await self._verify_assertion(row, credential, None)
        except AssertionRefused as refused:
            await self.manager.audit("login.failed", reason="passkey", detail=str(refused))
            raise errors.InvalidCredentials("The passkey was not accepted.") from None
        user = passkey.user
        if not user.is_active:
            await self.manager.audit("login.failed", user_id=user.id, reason="inactive")
            raise errors.AccountInactive()
        if self.settings.require_verified_email and not user.is_verified:
            await self.manager.audit("login.failed", user_id=user.id, reason="unverified")
            raise errors.EmailNotVerified()
        amr = VERIFIED_AMR if user_verified else UNVERIFIED_AMR
        return await self.manager.sign_in(
            user, device, method="passkey", mfa=user_verified, amr=amr
        )

    async def reauthenticate(
        self, ctx: AuthContext, challenge_id: str, credential: Mapping[str, Any]
    ) -> tuple[str, datetime]:
        """A passkey proof for ``POST /auth/reauthenticate``: the session becomes fresh; a new
        access token for it and the time. 400 ``WEBAUTHN_CHALLENGE_INVALID`` or
        ``WEBAUTHN_VERIFICATION_FAILED`` (an authenticated route never answers 401 for a
        proof); 422 on ``passkey`` while passkeys are not configured (a proof this server
        cannot use)."""
        if not self.settings.passkeys_enabled:
            why = "Passkeys are not configured: give another proof."
            raise errors.ValidationFailed([errors.ErrorDetail("VALIDATION_ERROR", why, "passkey")])
        row = await self._spend_challenge(challenge_id, WebAuthnPurpose.REAUTHENTICATE, ctx)
        try:
            _, user_verified = await self._verify_assertion(row, credential, ctx.user.id)
        except AssertionRefused as refused:
            logger.info("A passkey re-authentication was refused: %s", refused)
            raise errors.WebAuthnVerificationFailed(field="credential") from None
        amr = VERIFIED_AMR if user_verified else UNVERIFIED_AMR
        auth_time = await self.manager.mark_reauthenticated(ctx, amr, "passkey")
        token = self.manager.codec.issue_access(
            user_id=ctx.user.id, session_id=ctx.session.id, auth_time=auth_time, amr=amr
        )
        return token, auth_time
