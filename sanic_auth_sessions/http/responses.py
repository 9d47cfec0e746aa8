"""Every response body of the HTTP contract, declared once.

Each body is a pydantic model: its fields are what the OpenAPI document shows (``openapi.py``
registers the models as components under their class names, the names generated clients use)
and what the handlers answer. Models built from ORM objects read their attributes
(``from_attributes``), a field named differently in the source says where to read it with
``validation_alias`` (``AliasPath("user", "email")``), and values the source does not have
(``is_current``, ``member_count``) are given as keywords.

The handlers answer ``Model.dump(source, **values)``: the model's own JSON form, like
``Model.model_validate(source).model_dump(mode="json")``, but read by a function generated
from the fields once per model, as fast as a hand-written dict (``GET /users/me`` is the
authenticated hot path). A test keeps the two equal. Timestamps are written by
``datetime.isoformat`` (``+00:00``, as the contract has always answered).
"""

from __future__ import annotations

import enum
import types
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin
from uuid import UUID

from pydantic import (
    AliasPath,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    RootModel,
    WithJsonSchema,
)

from sanic_auth_sessions.core.models import OrganizationRole


def _isoformat(value: datetime) -> str:
    return value.isoformat()


Timestamp = Annotated[
    datetime,
    PlainSerializer(_isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]

Converter = Callable[[Any], Any]
ATOMS = (str, int, float, bool)


def _converter(annotation: Any) -> Converter | None:
    """How a value of ``annotation`` becomes JSON; None when it already is."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _converter(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        options = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(options) != 1:
            raise TypeError(f"unsupported union in a response: {annotation!r}")
        inner = _converter(options[0])
        if inner is None:
            return None
        return lambda value: None if value is None else inner(value)
    if origin is list:
        item = _converter(get_args(annotation)[0])
        if item is None:
            return list
        return lambda values: [item(value) for value in values]
    if origin is Literal or origin is dict:
        return None
    if origin is dict:
        key, value = get_args(annotation)
        if key is not str or _converter(value) is not None:
            raise TypeError(f"unsupported mapping in a response: {annotation!r}")
        return dict  # of JSON values already
    if isinstance(annotation, type):
        if issubclass(annotation, ResponseModel):
            nested = annotation.dump
            # A nested body may be given already dumped (per-item values, see the routes).
            return lambda value: value if type(value) is dict else nested(value)
        if issubclass(annotation, enum.Enum):
            return lambda value: value.value
        if issubclass(annotation, UUID):
            return str
        if issubclass(annotation, datetime):
            return _isoformat
        if issubclass(annotation, ATOMS):
            return None
    raise TypeError(f"unsupported type in a response: {annotation!r}")


def _source_path(name: str, alias: Any) -> str:
    """``o.<path>``: where the field is read on the source object."""
    if alias is None:
        return f"o.{name}"
    if isinstance(alias, str):
        return f"o.{alias}"
    if isinstance(alias, AliasPath) and all(isinstance(step, str) for step in alias.path):
        return "o." + ".".join(str(step) for step in alias.path)
    raise TypeError(f"unsupported validation_alias for {name!r}: {alias!r}")


# Conversions written into the generated code (no call of a converter): the hot fields.
INLINE: tuple[tuple[type[Any], str], ...] = (
    (UUID, "str({})"),
    (datetime, "{}.isoformat()"),
    (enum.Enum, "{}.value"),
)


def _inline(annotation: Any) -> str | None:
    if isinstance(annotation, type):
        for kind, template in INLINE:
            if issubclass(annotation, kind):
                return template
    return None


def _generate_dump(model: type[ResponseModel]) -> Callable[[Any, dict[str, Any]], dict[str, Any]]:
    """``dump(o, v)``: one dict literal reading each field of ``o`` (or ``v``, when given)."""
    names: dict[str, Any] = {}
    plain, merged = [], []
    for index, (name, field) in enumerate(model.model_fields.items()):
        attribute = _source_path(name, field.validation_alias)
        given = f'(v["{name}"] if "{name}" in v else {attribute})'
        template = _inline(field.annotation)
        if template is None:
            template = "{}"
            convert = _converter(field.annotation)
            if convert is not None:
                names[f"c{index}"] = convert
                template = f"c{index}({{}})"
        plain.append(f'"{name}": {template.format(attribute)}')
        merged.append(f'"{name}": {template.format(given)}')
    source = (
        "def dump(o, v):\n"
        f"    if not v:\n        return {{{', '.join(plain)}}}\n"
        f"    return {{{', '.join(merged)}}}\n"
    )
    exec(compile(source, f"<dump of {model.__name__}>", "exec"), names)
    dump: Callable[[Any, dict[str, Any]], dict[str, Any]] = names["dump"]
    return dump


class ResponseModel(BaseModel):
    """A response body: documents itself, and ``dump`` answers it."""

    model_config = ConfigDict(from_attributes=True)
    _dump: ClassVar[Callable[[Any, dict[str, Any]], dict[str, Any]]]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._dump = None  # type: ignore[assignment]  # generated on first use

    @classmethod
    def dump(cls, source: Any = None, /, **values: Any) -> dict[str, Any]:
        """The JSON-ready body of ``source`` (attributes), ``values`` winning over them."""
        dump = cls.__dict__.get("_dump")
        if dump is None:
            dump = _generate_dump(cls)
            type.__setattr__(cls, "_dump", dump)
        return dump(source, values)


# --- shared ----------------------------------------------------------------------------------


class ErrorDetail(ResponseModel):
    code: str = Field(description="Stable UPPER_SNAKE error code, e.g. AUTH_INVALID_CREDENTIALS.")
    message: str = Field(description="A human-readable explanation.")
    field: str | None = Field(description="The input field at fault (422), else null.")


class ErrorResponse(ResponseModel):
    """The body of every error answer."""

    success: Literal[False]
    errors: list[ErrorDetail] = Field(validation_alias="details")


class SuccessResponse(ResponseModel):
    success: Literal[True]
    message: str


class PaginationMeta(ResponseModel):
    total: int
    page: int
    page_size: int
    total_pages: int
    has_next: bool
    has_prev: bool


class KeysetPaginationMeta(PaginationMeta):
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null last.")
    total_is_estimate: bool = Field(description="True when `total` is the database's estimate.")


class PageResponse(ResponseModel):
    """A page of a list: ``dump(page)`` reads the rows from ``items``, the rest from the page."""

    @classmethod
    def dump(cls, source: Any = None, /, **values: Any) -> dict[str, Any]:
        return super().dump(source, pagination=source, **values)


# --- users, tokens, sessions -----------------------------------------------------------------


class UserResponse(ResponseModel):
    id: UUID
    email: str = Field(json_schema_extra={"format": "email"})
    first_name: str
    last_name: str
    is_active: bool
    is_superuser: bool
    is_verified: bool
    mfa_enabled: bool = Field(description="True when a second factor (TOTP) is on.")
    has_password: bool = Field(
        description="False for an account made by a social login until it sets a password."
    )
    created_at: Timestamp
    updated_at: Timestamp


class TokenPairResponse(ResponseModel):
    """The answer of ``/auth/refresh``."""

    access_token: str = Field(description="JWT for 'Authorization: Bearer <access_token>'.")
    refresh_token: str = Field(description="JWT for /auth/refresh; replaced at every refresh.")
    token_type: Literal["bearer"]
    expires_in: int = Field(description="Lifetime of the access token, in seconds.")


class ReauthenticateResponse(SuccessResponse):
    """The answer of ``/auth/reauthenticate``: a new access token for the same session."""

    access_token: str = Field(description="JWT carrying the new `auth_time` and `amr`.")
    token_type: Literal["bearer"]
    expires_in: int = Field(description="Lifetime of the access token, in seconds.")
    auth_time: Timestamp = Field(description="When the session was re-authenticated (now).")
    fresh_until: Timestamp = Field(
        description="Until then the session is fresh (`auth_time` + AUTH_FRESH_AUTH_MAX_AGE_S)."
    )


class Token(TokenPairResponse):
    """The answer of a login: the tokens and the user."""

    user: UserResponse


class JwksResponse(ResponseModel):
    """A JWK Set (RFC 7517): each key has ``kty, use, alg, kid`` and ``n, e`` (RSA) or
    ``crv, x, y`` (EC); ``kid`` is its RFC 7638 thumbprint."""

    keys: list[dict[str, str]]


class MfaRequiredResponse(ResponseModel):
    """The answer of a login's password step for an account with two-factor authentication:
    no session yet; complete it with ``POST /auth/login/mfa``."""

    mfa_required: Literal[True]
    mfa_token: str = Field(description="Send to /auth/login/mfa from this same device.")
    methods: list[Literal["totp", "recovery_code"]]
    expires_in: int = Field(description="Seconds the mfa_token stays valid.")


class MfaStatusResponse(ResponseModel):
    enabled: bool
    methods: list[Literal["totp", "recovery_code"]] = Field(
        description='["totp", "recovery_code"] when enabled, else [].'
    )
    recovery_codes_remaining: int
    enabled_at: Timestamp | None


class TotpSetupResponse(ResponseModel):
    secret: str = Field(description="The new secret, unpadded base32 (shown this once).")
    otpauth_uri: str = Field(description="otpauth://totp/... for authenticator apps.")
    qr_svg: str = Field(description="An SVG document (text) of a QR code of otpauth_uri.")
    expires_in: int = Field(description="Seconds left to confirm this setup.")


class RecoveryCodesResponse(SuccessResponse):
    recovery_codes: list[str] = Field(
        description="10 single-use codes, xxxxx-xxxxx, shown only in this answer."
    )


class PasskeyResponse(ResponseModel):
    """A passkey of the caller; never its public key or credential id."""

    id: UUID
    name: str
    created_at: Timestamp
    last_used_at: Timestamp | None
    device_type: Literal["single_device", "multi_device"] = Field(
        description="multi_device when the passkey can be backed up (synced)."
    )
    backed_up: bool
    transports: list[str]
    flagged: bool = Field(
        description="Its signature counter went backwards: refused until deleted and registered "
        "again."
    )


class PasskeyListResponse(ResponseModel):
    passkeys: list[PasskeyResponse] = Field(description="Newest first.")
    total: int


class PasskeyOptionsResponse(ResponseModel):
    challenge_id: UUID = Field(description="Send it back with the browser's answer.")
    public_key: dict[str, Any] = Field(
        description="WebAuthn options in their JSON form (PublicKeyCredentialCreationOptionsJSON "
        "or PublicKeyCredentialRequestOptionsJSON): pass them to "
        "PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON."
    )


class IntrospectionResponse(ResponseModel):
    """RFC 7662: ``{"active": false}`` alone, or the active token's claims."""

    active: bool
    token_type: Literal["access_token", "refresh_token"] | None = None
    sub: str | None = Field(None, description="The user id.")
    sid: str | None = Field(None, description="The session id.")
    jti: str | None = None
    iat: int | None = None
    exp: int | None = None
    iss: str | None = None
    aud: str | None = None
    username: str | None = Field(None, description="The user's email.")
    auth_time: int | None = Field(None, description="Access tokens: the session's last sign-in.")
    amr: list[str] | None = Field(None, description="Access tokens: how it signed in.")


class LogoutAllResponse(SuccessResponse):
    sessions_revoked: int


class RevokedOthersResponse(SuccessResponse):
    sessions_revoked: int = Field(description="Other sessions this call ended.")


class SessionFields(ResponseModel):
    """The fields of a session that its owner and the admin list both see."""

    id: UUID
    device_name: str = Field(description='Parsed from the User-Agent, e.g. "Chrome on macOS".')
    device_id: str | None = Field(description="The X-Device-Id header sent at login.")
    ip_address: str | None
    user_agent: str | None
    location_city: str | None
    location_country: str | None
    last_used_at: Timestamp
    created_at: Timestamp
    expires_at: Timestamp
    auth_time: Timestamp = Field(
        validation_alias="authenticated_at",
        description="The session's latest authentication: its login or latest re-authentication.",
    )
    amr: list[str] = Field(
        validation_alias="amr_list",
        description='RFC 8176 methods of that authentication, e.g. ["pwd"], ["pwd", "otp", "mfa"].',
    )


class SessionResponse(SessionFields):
    is_current: bool = Field(description="True exactly for the session of the calling token.")


class SessionListResponse(ResponseModel):
    sessions: list[SessionResponse]
    total: int


class DeletedSessionsResponse(SuccessResponse):
    deleted: int


class AdminSessionResponse(SessionFields):
    """A session row of ``/admin/sessions``; ``user`` must be fetched with the session."""

    is_active: bool = Field(description="Neither revoked nor expired.")
    user_id: UUID = Field(validation_alias=AliasPath("user", "id"))
    user_email: str = Field(validation_alias=AliasPath("user", "email"))
    user_full_name: str = Field(validation_alias=AliasPath("user", "full_name"))


class UserPage(PageResponse):
    data: list[UserResponse] = Field(validation_alias="items")
    pagination: KeysetPaginationMeta


class AdminSessionPage(PageResponse):
    data: list[AdminSessionResponse] = Field(validation_alias="items")
    pagination: KeysetPaginationMeta


class SecurityEventResponse(ResponseModel):
    """A stored security event, as its user sees it."""

    id: UUID
    type: str = Field(description='e.g. "login.succeeded"; the types are in the docs.')
    created_at: Timestamp
    ip_address: str | None
    user_agent: str | None
    device_name: str | None
    location_city: str | None
    location_country: str | None
    session_id: UUID | None
    data: dict[str, Any] = Field(
        description="Details of the event type; never a password, hash, token, code or secret."
    )


class AdminAuditEventResponse(SecurityEventResponse):
    """A row of ``/admin/audit-events``."""

    user_id: UUID | None = Field(description="The account the event is about.")
    user_email: str | None = Field(description="Its email; null once the account is deleted.")
    actor_id: UUID | None = Field(
        description="Who acted: the user, a superuser, or null when anonymous."
    )


class SecurityEventPage(PageResponse):
    data: list[SecurityEventResponse] = Field(validation_alias="items")
    pagination: KeysetPaginationMeta


class AdminAuditEventPage(PageResponse):
    data: list[AdminAuditEventResponse] = Field(validation_alias="items")
    pagination: KeysetPaginationMeta


class UserStatusResponse(SuccessResponse):
    user: UserResponse


class BulkActionResult(SuccessResponse):
    affected_count: int = Field(description="Users this call changed.")
    failed_count: int = Field(description="Requested users it did not change.")
    failed_ids: list[UUID] = Field(
        description="Each requested id (duplicates removed) this call did not change: unknown, "
        "the caller, already in that state, or the last owner of an organization."
    )


class UserGrowthData(ResponseModel):
    date: str = Field(description='UTC day, e.g. "Nov 05".')
    total_users: int = Field(description="Users created before the end of that day.")
    active_users: int = Field(description="Of those, the ones active now.")


class OrgDistributionData(ResponseModel):
    name: str
    value: int


class RegistrationActivityData(ResponseModel):
    date: str = Field(description='UTC day, e.g. "Nov 22".')
    registrations: int


class UserStatusData(ResponseModel):
    name: Literal["Active", "Inactive"]
    value: int


class AdminStatsResponse(ResponseModel):
    """The admin dashboard's charts: days are UTC calendar days, oldest first, today last."""

    user_growth: list[UserGrowthData] = Field(description="30 days.")
    organization_distribution: list[OrgDistributionData] = Field(
        description="The organizations with the most members (at most 6), most first."
    )
    registration_activity: list[RegistrationActivityData] = Field(description="14 days.")
    user_status: list[UserStatusData] = Field(description="Active, then Inactive.")


# --- organizations ---------------------------------------------------------------------------


class OrganizationResponse(ResponseModel):
    """An organization, read from an ``OrganizationView``."""

    id: UUID = Field(validation_alias=AliasPath("organization", "id"))
    name: str = Field(validation_alias=AliasPath("organization", "name"))
    slug: str = Field(validation_alias=AliasPath("organization", "slug"))
    description: str | None = Field(validation_alias=AliasPath("organization", "description"))
    is_active: bool = Field(validation_alias=AliasPath("organization", "is_active"))
    member_count: int
    created_at: Timestamp = Field(validation_alias=AliasPath("organization", "created_at"))
    updated_at: Timestamp = Field(validation_alias=AliasPath("organization", "updated_at"))


class MyOrganizationResponse(OrganizationResponse):
    """An organization as its member sees it: with the caller's ``role``."""

    role: OrganizationRole | None = Field(
        description="The caller's role; null for a superuser who is not a member."
    )


class OrganizationMemberResponse(ResponseModel):
    """A member, read from a ``Membership`` fetched with its ``user``."""

    user_id: UUID = Field(validation_alias=AliasPath("user", "id"))
    email: str = Field(validation_alias=AliasPath("user", "email"))
    first_name: str = Field(validation_alias=AliasPath("user", "first_name"))
    last_name: str = Field(validation_alias=AliasPath("user", "last_name"))
    role: OrganizationRole
    joined_at: Timestamp


class MyOrganizationList(RootModel[list[MyOrganizationResponse]]):
    """``GET /organizations/me``: a bare list (the route dumps each item)."""


class OrganizationPage(PageResponse):
    data: list[OrganizationResponse] = Field(validation_alias="items")
    pagination: PaginationMeta


class OrganizationMemberPage(PageResponse):
    data: list[OrganizationMemberResponse] = Field(validation_alias="items")
    pagination: PaginationMeta


# --- health ----------------------------------------------------------------------------------


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


class HealthResponse(BaseModel):
    """``/health``; checks that do not apply are left out (not null), so it is dumped with
    ``exclude_unset`` (it is not a hot path)."""

    status: Literal["healthy", "unhealthy"]
    version: str
    environment: str
    timestamp: Timestamp
    checks: HealthChecks

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


# --- social login ---------------------------------------------------------------------------


class OAuthProviderInfo(ResponseModel):
    provider: str = Field(description="The name used in the /oauth paths.")
    name: str = Field(description="What a button shows: Google, GitHub, or the display name.")
    icon: str | None


class OAuthProvidersResponse(ResponseModel):
    enabled: bool = Field(description="True when at least one provider is configured.")
    providers: list[OAuthProviderInfo]


class OAuthAuthorizationResponse(ResponseModel):
    authorization_url: str = Field(description="Send the browser there.")
    state: str = Field(description="The URL's own `state` parameter.")


class OAuthCallbackResponse(Token):
    """A social login (a new session), or a link (tokens for the calling session)."""

    is_new_user: bool = Field(description="True when this login created the account.")


class OAuthMfaRequiredResponse(MfaRequiredResponse):
    """A social login of an account with two-factor authentication: complete it with
    ``POST /auth/login/mfa``."""

    is_new_user: Literal[False]


class OAuthAccountResponse(ResponseModel):
    id: UUID
    provider: str
    provider_email: str | None
    created_at: Timestamp


class OAuthAccountsListResponse(ResponseModel):
    accounts: list[OAuthAccountResponse]
