"""Request bodies, queries and their parsing (the response bodies are in ``responses.py``)."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, TypeVar, cast
from uuid import UUID

from email_validator import EmailNotValidError
from email_validator import validate_email as check_email_format
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError
from sanic import Request

from sanic_auth_sessions.core.audit import STORED_TYPES, USER_VISIBLE_TYPES
from sanic_auth_sessions.core.emails import normalize_email
from sanic_auth_sessions.core.errors import (
    BadRequest,
    ErrorDetail,
    UnsupportedMediaType,
    ValidationFailed,
)
from sanic_auth_sessions.core.models import (
    EMAIL_MAX_CHARS,
    NAME_MAX_CHARS,
    OrganizationRole,
)
from sanic_auth_sessions.core.tokens import MAX_TOKEN_CHARS
from sanic_auth_sessions.db.pagination import KeysetPageQuery, PageQuery
from sanic_auth_sessions.services.organizations import (
    SLUG_MAX_CHARS,
    SLUG_PATTERN,
)

# Passwords are checked by the policy (length in bytes, strength) so the user learns why;
# this bound only keeps absurd inputs away from the strength estimator.
PASSWORD_MAX_CHARS = 1024
JSON_MEDIA_TYPE = "application/json"
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
MAX_JSON_DEPTH = 32  # the top-level value is level 1
MAX_FORM_FIELDS = 100


def _no_nul(text: str) -> str:
    # PostgreSQL cannot store NUL in text: refuse it here (422), not in the database (500).
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    return text


def _normalized(value: Any) -> Any:
    return normalize_email(value) if isinstance(value, str) else value


def _email_format(email: str) -> str:
    try:
        parts = check_email_format(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"value is not a valid email address: {exc}") from None
    return normalize_email(parts.normalized)


# Every free text that is stored or searched.
NoNul = AfterValidator(_no_nul)

# Normalized first (NFKC, trimmed, lower-cased); the length and format checks apply to that.
Email = Annotated[
    str,
    BeforeValidator(_normalized),
    StringConstraints(max_length=EMAIL_MAX_CHARS),
    AfterValidator(_email_format),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": EMAIL_MAX_CHARS}),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=NAME_MAX_CHARS), NoNul]
Password = Annotated[str, StringConstraints(min_length=1, max_length=PASSWORD_MAX_CHARS)]
Token = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TOKEN_CHARS)]

Body = TypeVar("Body", bound=BaseModel)


class RequestBody(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=False, frozen=True)


class StrictBody(RequestBody):
    """A body whose unknown fields are errors (e.g. ``is_superuser`` on PATCH /users/me)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RegisterBody(RequestBody):
    email: Email
    password: Password
    first_name: Name = ""
    last_name: Name = ""


class LoginBody(RequestBody):
    email: Email
    password: Password


class OAuthLoginForm(RequestBody):
    username: Email
    password: Password


class IntrospectionForm(RequestBody):
    token: Annotated[str, StringConstraints(max_length=MAX_TOKEN_CHARS)]
    token_type_hint: str | None = Field(
        None, description="`access_token` or `refresh_token`: which kind to try first."
    )


class RefreshBody(RequestBody):
    refresh_token: Token


class LogoutBody(RequestBody):
    # Any string: an unknown, malformed, empty or oversized token changes nothing (200).
    refresh_token: str


class PasswordResetRequestBody(RequestBody):
    email: Email


class PasswordResetConfirmBody(RequestBody):
    token: Token
    new_password: Password


class VerifyEmailRequestBody(RequestBody):
    email: Email


class VerifyEmailConfirmBody(RequestBody):
    token: Token


TotpCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
RecoveryCodeText = Annotated[str, StringConstraints(min_length=1, max_length=64)]
PASSWORD_PROOF = (
    "The account's password (accounts without two-factor authentication): needed unless the "
    "session is fresh; checked whenever it is sent."
)
CODE_PROOF = (
    "A code of the authenticator (accounts with two-factor authentication): needed unless "
    "the session is fresh; checked whenever it is sent."
)
RECOVERY_PROOF = "A recovery code, instead of `code`."


class StepUpBody(RequestBody):
    """The proofs of a sensitive route (all optional; at most one of ``code``,
    ``recovery_code``)."""

    current_password: Password | None = Field(None, description=PASSWORD_PROOF)
    code: TotpCode | None = Field(None, description=CODE_PROOF)
    recovery_code: RecoveryCodeText | None = Field(None, description=RECOVERY_PROOF)


class EmailChangeBody(RequestBody):
    new_email: Email = Field(description="The new address; it receives the confirmation token.")
    current_password: Password | None = Field(None, description=PASSWORD_PROOF)
    code: TotpCode | None = Field(None, description=CODE_PROOF)
    recovery_code: RecoveryCodeText | None = Field(None, description=RECOVERY_PROOF)


ChallengeId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
PasskeyName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX_CHARS), NoNul
]
CREDENTIAL_DESCRIPTION = (
    "The browser's PublicKeyCredential in its JSON form (`credential.toJSON()`): `id`, `rawId`, "
    "`type`, `response` with base64url values."
)


class PasskeyProofBody(RequestBody):
    """The answer of ``navigator.credentials.get`` to a challenge of ``POST
    /auth/passkeys/authenticate/options``."""

    challenge_id: ChallengeId = Field(description="The `challenge_id` of the options.")
    credential: dict[str, Any] = Field(description=CREDENTIAL_DESCRIPTION)


class ReauthenticateBody(RequestBody):
    """Exactly one proof: ``password`` (accounts without two-factor authentication), or
    ``code`` or ``recovery_code`` (accounts with it)."""

    password: Password | None = Field(None, description="The account's password.")
    code: TotpCode | None = Field(None, description="A code of the authenticator (6 digits).")
    recovery_code: RecoveryCodeText | None = Field(None, description="A recovery code.")
    passkey: PasskeyProofBody | None = Field(
        None, description="A passkey assertion to a `reauthenticate` challenge."
    )


class EmailChangeConfirmBody(RequestBody):
    token: Token


class UpdateMeBody(StrictBody):
    """The caller's names. The email changes through ``POST /users/me/email``."""

    first_name: Name | None = None
    last_name: Name | None = None


class ChangePasswordBody(RequestBody):
    current_password: Password | None = Field(None, description=PASSWORD_PROOF)
    new_password: Password
    code: TotpCode | None = Field(None, description=CODE_PROOF)
    recovery_code: RecoveryCodeText | None = Field(None, description=RECOVERY_PROOF)


class MfaConfirmBody(RequestBody):
    code: TotpCode = Field(description="A code of the new authenticator (6 digits).")
    current_password: Password | None = Field(None, description=PASSWORD_PROOF)


class MfaDisableBody(RequestBody):
    """The password (when the account has one) and exactly one of ``code``, ``recovery_code``."""

    current_password: Password | None = None
    code: TotpCode | None = None
    recovery_code: RecoveryCodeText | None = None


class MfaProofBody(StepUpBody):
    """At most one of ``code``, ``recovery_code``; with or without ``current_password``."""


class LoginMfaBody(RequestBody):
    """The ``mfa_token`` of the password step and exactly one of ``code``, ``recovery_code``."""

    mfa_token: Token
    code: TotpCode | None = None
    recovery_code: RecoveryCodeText | None = None


def _validation_failed(exc: ValidationError, model: type[BaseModel]) -> ValidationFailed:
    """One entry per field (its first failing check), in the order of the model's fields."""
    details: dict[str, ErrorDetail] = {}
    for error in exc.errors(include_url=False):
        # A rule about several fields is reported on the first field it names.
        field = str(error["loc"][0]) if error["loc"] else next(iter(model.model_fields), None)
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "This field cannot be set here."
        elif error["type"] == "missing":
            message = "This field is required."
        details.setdefault(field or "", ErrorDetail("VALIDATION_ERROR", message, field))
    return ValidationFailed(in_field_order(model, list(details.values())))


def in_field_order(model: type[BaseModel], details: list[ErrorDetail]) -> list[ErrorDetail]:
    """``details`` sorted by the position of their field in ``model`` (others last, stable)."""
    order = {name: index for index, name in enumerate(model.model_fields)}
    return sorted(details, key=lambda detail: order.get(detail.field or "", len(order)))


def validate(model: type[Body], data: Any) -> Body:
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _validation_failed(exc, model) from None


def _media_type(request: Request) -> tuple[str, dict[str, str]] | None:
    """The ``Content-Type`` as (lower-cased media type, parameters), or None without one."""
    header = request.headers.get("content-type", "").strip()
    if not header:
        return None
    media_type, *raw_params = header.split(";")
    params: dict[str, str] = {}
    for raw in raw_params:
        name, _, value = raw.partition("=")
        params[name.strip().lower()] = value.strip().strip('"')
    return media_type.strip().lower(), params


def require_media_type(request: Request, expected: str) -> None:
    """415 unless the body is ``expected`` (UTF-8 when a charset is named).

    An empty body without ``Content-Type`` passes: routes whose body is optional accept it,
    and the others find no object in it (400).
    """
    found = _media_type(request)
    if found is None:
        if request.body:
            raise UnsupportedMediaType(f"Send the body with 'Content-Type: {expected}'.")
        return
    media_type, params = found
    charset = params.get("charset")
    if media_type != expected or (charset is not None and charset.lower() != "utf-8"):
        raise UnsupportedMediaType(f"Send the body as {expected}, in UTF-8.")


def _too_deep(value: dict[str, Any] | list[Any], limit: int) -> bool:
    """True when objects and arrays nest deeper than ``limit`` (``value`` is level 1)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _parsed(request: Request) -> dict[Any, Any]:
    """What this request's body was parsed into: the limiter, the lockout and the handler
    read the same values."""
    cache: dict[Any, Any] | None = getattr(request.ctx, "auth_parsed", None)
    if cache is None:
        cache = request.ctx.auth_parsed = {}
    return cache


def read_json(request: Request) -> Any:
    """The request's JSON value, parsed once per request (415, then 400 when unusable)."""
    cache = _parsed(request)
    if "json" in cache:
        return cache["json"]
    require_media_type(request, JSON_MEDIA_TYPE)
    try:
        # Strictly UTF-8: a byte-order mark or another encoding is not JSON of this API.
        text = (request.body or b"").decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The request body is not valid UTF-8.") from None
    data: Any = None
    if text.strip():
        try:
            data = json.loads(text)
        except RecursionError:
            raise BadRequest(f"The JSON is nested deeper than {MAX_JSON_DEPTH} levels.") from None
        except ValueError:
            raise BadRequest("The request body is not valid JSON.") from None
    if isinstance(data, dict | list) and _too_deep(data, MAX_JSON_DEPTH):
        raise BadRequest(f"The JSON is nested deeper than {MAX_JSON_DEPTH} levels.")
    cache["json"] = data
    return data


def parse_json(request: Request, model: type[Body]) -> Body:
    """The JSON body validated against ``model``, once per request: 415 for another media
    type, 400 if it is not a JSON object, 422 with one entry per bad field."""
    cache = _parsed(request)
    parsed = cache.get(model)
    if parsed is None:
        parsed = cache[model] = validate(model, read_json(request))
    return cast(Body, parsed)


def parse_optional_json(request: Request, model: type[Body]) -> Body:
    """Like :func:`parse_json` for a body that may be left out: none is the model's defaults."""
    if read_json(request) is None:
        return model.model_validate({})
    return parse_json(request, model)


def read_form(request: Request) -> dict[str, str]:
    """The form-encoded body (the last value of a repeated field), parsed once per request."""
    cache = _parsed(request)
    if "form" not in cache:
        require_media_type(request, FORM_MEDIA_TYPE)
        try:
            text = (request.body or b"").decode("utf-8")
            pairs = urllib.parse.parse_qsl(
                text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS
            )
        except (UnicodeDecodeError, ValueError):
            raise BadRequest("The request body is not a valid form.") from None
        cache["form"] = dict(pairs)
    form: dict[str, str] = cache["form"]
    return form


def parse_form(request: Request, model: type[Body]) -> Body:
    cache = _parsed(request)
    parsed = cache.get(model)
    if parsed is None:
        parsed = cache[model] = validate(model, read_form(request))
    return cast(Body, parsed)


def parse_query(request: Request, model: type[Body]) -> Body:
    args = request.get_args(keep_blank_values=True)
    return validate(model, {key: args.get(key) for key in args})


# --- organizations and admin ----------------------------------------------------------------

DESCRIPTION_MAX_CHARS = 2000
SEARCH_MAX_CHARS = 100
MAX_BULK_IDS = 100

OrganizationName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX_CHARS), NoNul
]
Slug = Annotated[str, StringConstraints(max_length=SLUG_MAX_CHARS, pattern=SLUG_PATTERN)]
Description = Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX_CHARS), NoNul]
Search = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=SEARCH_MAX_CHARS), NoNul
]
UserSortField = Literal["created_at", "email", "first_name", "last_name", "updated_at"]


class CreateOrganizationBody(StrictBody):
    name: OrganizationName
    slug: Slug | None = None
    description: Description | None = None


class UpdateOrganizationBody(StrictBody):
    name: OrganizationName | None = None
    slug: Slug | None = None
    description: Description | None = None


class AddMemberRequest(StrictBody):
    """Exactly one of ``email`` or ``user_id`` names the user (else 422 on ``email``)."""

    email: Email | None = None
    user_id: UUID | None = None
    role: OrganizationRole = OrganizationRole.MEMBER

    @model_validator(mode="after")
    def _one_user(self) -> AddMemberRequest:
        if (self.email is None) == (self.user_id is None):
            raise PydanticCustomError("one_of", "Give exactly one of email or user_id.")
        return self


class ChangeRoleBody(StrictBody):
    role: OrganizationRole


class UserCreate(StrictBody):
    email: Email
    password: Password
    first_name: Name = ""
    last_name: Name = ""
    is_active: bool = True
    is_superuser: bool = False
    is_verified: bool = False


class UserUpdate(StrictBody):
    email: Email | None = Field(
        None, description="A new email is unverified unless `is_verified` is set too."
    )
    first_name: Name | None = None
    last_name: Name | None = None
    is_active: bool | None = None
    is_superuser: bool | None = None
    is_verified: bool | None = None
    password: Password | None = None


class BulkActionBody(StrictBody):
    action: Literal["activate", "deactivate", "delete"]
    user_ids: list[UUID] = Field(min_length=1, max_length=MAX_BULK_IDS)


class OrganizationCreate(CreateOrganizationBody):
    owner_email: Email | None = None


class OrganizationUpdate(UpdateOrganizationBody):
    is_active: bool | None = None


class AdminUserQuery(KeysetPageQuery):
    search: Search | None = None
    is_active: bool | None = None
    is_superuser: bool | None = None
    is_verified: bool | None = None
    sort_by: UserSortField = "created_at"
    sort_order: Literal["asc", "desc"] = "desc"


class AdminOrganizationQuery(PageQuery):
    search: Search | None = None
    is_active: bool | None = None


class AdminSessionQuery(KeysetPageQuery):
    is_active: bool = True
    user_id: UUID | None = None
    search: Search | None = None


# --- security events --------------------------------------------------------------------------

EVENT_TYPES_MAX_CHARS = 2000


def _event_types(allowed: tuple[str, ...], kind: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        names = list(dict.fromkeys(name.strip() for name in value.split(",") if name.strip()))
        if not names:
            raise ValueError("name at least one event type")
        unknown = [name for name in names if name not in allowed]
        if unknown:
            raise ValueError(f"not {kind} event types: {', '.join(unknown)[:200]}")
        return ",".join(names)

    return check


def _aware_time(value: Any) -> Any:
    """ISO 8601 with a UTC offset (``Z`` or ``±hh:mm``); a ``+`` that the query string turned
    into a space is read back as ``+``."""
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 time with a UTC offset")
    text = re.sub(r" (\d\d(:?\d\d)?)$", r"+\1", value.strip())
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("must be an ISO 8601 time with a UTC offset") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("must have a UTC offset (Z or +hh:mm)")
    # In UTC: SQLite compares the stored text, which is always in UTC.
    return parsed.astimezone(timezone.utc)


EventTypes = Annotated[
    str,
    StringConstraints(max_length=EVENT_TYPES_MAX_CHARS),
    AfterValidator(_event_types(USER_VISIBLE_TYPES, "user-visible")),
    WithJsonSchema({"type": "string", "description": "Comma-separated user-visible event types."}),
]
StoredEventTypes = Annotated[
    str,
    StringConstraints(max_length=EVENT_TYPES_MAX_CHARS),
    AfterValidator(_event_types(STORED_TYPES, "stored")),
    WithJsonSchema({"type": "string", "description": "Comma-separated event types."}),
]
AwareTime = Annotated[
    datetime,
    BeforeValidator(_aware_time),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


def event_types(value: str | None) -> list[str] | None:
    """The names of a validated ``type`` parameter."""
    return value.split(",") if value else None


class SecurityEventQuery(KeysetPageQuery):
    type: EventTypes | None = None


class AdminAuditEventQuery(KeysetPageQuery):
    user_id: UUID | None = Field(None, description="The event's account or its actor.")
    type: StoredEventTypes | None = None
    since: AwareTime | None = Field(None, description="From this time (inclusive).")
    until: AwareTime | None = Field(None, description="Before this time (exclusive).")

    def check_period(self) -> None:
        """422 on ``since`` unless it is before ``until`` (checked once every field is valid)."""
        if self.since is not None and self.until is not None and self.since >= self.until:
            message = "since must be earlier than until."
            raise ValidationFailed([ErrorDetail("VALIDATION_ERROR", message, "since")])


# What ``null`` means in an update body, for the optional text fields: it clears them.
CLEARED_BY_NULL: dict[str, str | None] = {"first_name": "", "last_name": "", "description": None}


def changes_of(body: BaseModel) -> dict[str, Any]:
    """The fields an update body (PATCH or PUT) sets. ``null`` clears an optional text field
    (``first_name``, ``last_name`` become ``""``, ``description`` null) and is 422 elsewhere."""
    changes = body.model_dump(exclude_unset=True)
    for key, value in changes.items():
        if value is None and key in CLEARED_BY_NULL:
            changes[key] = CLEARED_BY_NULL[key]
    nulls = [key for key, value in changes.items() if value is None and key not in CLEARED_BY_NULL]
    if nulls:
        raise ValidationFailed(
            [ErrorDetail("VALIDATION_ERROR", "This field cannot be null.", key) for key in nulls]
        )
    return changes


# --- social login ---------------------------------------------------------------------------

REDIRECT_URI_MAX_CHARS = 2000
OAUTH_CODE_MAX_CHARS = 2048
OAUTH_STATE_MAX_CHARS = 512


class OAuthRedirectQuery(RequestBody):
    redirect_uri: Annotated[
        str, StringConstraints(min_length=1, max_length=REDIRECT_URI_MAX_CHARS), NoNul
    ] = Field(
        description="The front-end page the provider returns to: one of AUTH_OAUTH_REDIRECT_URIS."
    )


class OAuthCallbackRequest(RequestBody):
    code: Annotated[str, StringConstraints(min_length=1, max_length=OAUTH_CODE_MAX_CHARS)]
    state: Annotated[str, StringConstraints(min_length=1, max_length=OAUTH_STATE_MAX_CHARS)]


class PasskeyOptionsBody(StepUpBody):
    """The new passkey's name (optional) and the step-up proofs of a sensitive route."""

    name: PasskeyName | None = Field(None, description='1 to 100 characters; "Passkey" if none.')


class PasskeyRegisterBody(RequestBody):
    challenge_id: ChallengeId = Field(description="The `challenge_id` of the options.")
    credential: dict[str, Any] = Field(description=CREDENTIAL_DESCRIPTION)
    name: PasskeyName | None = Field(None, description="Overrides the name given to the options.")


class PasskeyAuthOptionsBody(RequestBody):
    purpose: Literal["login", "reauthenticate"] = Field(
        "login",
        description="`login` (public, usernameless) or `reauthenticate` (the caller's session).",
    )
