"""Request bodies (pydantic) and response bodies (plain dicts) of the HTTP contract."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationError,
)
from sanic import Request

from .errors import BadRequest, ErrorDetail, ValidationFailed
from .models import (
    EMAIL_MAX_CHARS,
    NAME_MAX_CHARS,
    Membership,
    Organization,
    OrganizationRole,
    User,
    UserSession,
)
from .organizations import SLUG_MAX_CHARS, SLUG_PATTERN, OrganizationView
from .pagination import KeysetPageQuery, PageQuery
from .tokens import MAX_TOKEN_CHARS

# Passwords are checked by the policy (length in bytes, strength) so the user learns why;
# this bound only keeps absurd inputs away from the strength estimator.
PASSWORD_MAX_CHARS = 1024


def _no_nul(text: str) -> str:
    # PostgreSQL cannot store NUL in text: refuse it here (422), not in the database (500).
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    return text


# Every free text that is stored or searched.
NoNul = AfterValidator(_no_nul)

Email = Annotated[EmailStr, StringConstraints(max_length=EMAIL_MAX_CHARS)]
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


class UpdateMeBody(StrictBody):
    first_name: Name | None = None
    last_name: Name | None = None
    email: Email | None = None


class ChangePasswordBody(RequestBody):
    current_password: Password
    new_password: Password


def _validation_failed(exc: ValidationError) -> ValidationFailed:
    details = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(part) for part in error["loc"]) or None
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "This field cannot be set here."
        elif error["type"] == "missing":
            message = "This field is required."
        details.append(ErrorDetail("VALIDATION_ERROR", message, field))
    return ValidationFailed(details)


def validate(model: type[Body], data: Any) -> Body:
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _validation_failed(exc) from None


def parse_json(request: Request, model: type[Body]) -> Body:
    """The JSON body validated against ``model``: 400 if it is not JSON, 422 per bad field."""
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The request body is not valid JSON.") from None
    return validate(model, data)


def parse_form(request: Request, model: type[Body]) -> Body:
    form = request.get_form(keep_blank_values=True)
    return validate(model, {key: form.get(key) for key in form} if form else {})


def parse_query(request: Request, model: type[Body]) -> Body:
    args = request.get_args(keep_blank_values=True)
    return validate(model, {key: args.get(key) for key in args})


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def user_out(user: User) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": user.is_active,
        "is_superuser": user.is_superuser,
        "created_at": iso(user.created_at),
        "updated_at": iso(user.updated_at),
    }


def session_out(session: UserSession, current_session_id: UUID | None = None) -> dict[str, Any]:
    return {
        "id": str(session.id),
        "device_name": session.device_name,
        "device_id": session.device_id,
        "ip_address": session.ip_address,
        "user_agent": session.user_agent,
        "location_city": session.location_city,
        "location_country": session.location_country,
        "last_used_at": iso(session.last_used_at),
        "created_at": iso(session.created_at),
        "expires_at": iso(session.expires_at),
        "is_current": session.id == current_session_id,
    }


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


class AddMemberBody(StrictBody):
    email: Email
    role: OrganizationRole = OrganizationRole.MEMBER


class ChangeRoleBody(StrictBody):
    role: OrganizationRole


class AdminCreateUserBody(StrictBody):
    email: Email
    password: Password
    first_name: Name = ""
    last_name: Name = ""
    is_active: bool = True
    is_superuser: bool = False


class AdminUpdateUserBody(StrictBody):
    email: Email | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    is_active: bool | None = None
    is_superuser: bool | None = None
    password: Password | None = None


class BulkActionBody(StrictBody):
    action: Literal["activate", "deactivate", "delete"]
    user_ids: list[UUID] = Field(min_length=1, max_length=MAX_BULK_IDS)


class AdminCreateOrganizationBody(CreateOrganizationBody):
    owner_email: Email | None = None


class AdminUpdateOrganizationBody(UpdateOrganizationBody):
    is_active: bool | None = None


class AdminUserQuery(KeysetPageQuery):
    search: Search | None = None
    is_active: bool | None = None
    is_superuser: bool | None = None
    sort_by: UserSortField = "created_at"
    sort_order: Literal["asc", "desc"] = "desc"


class AdminOrganizationQuery(PageQuery):
    search: Search | None = None
    is_active: bool | None = None


class AdminSessionQuery(KeysetPageQuery):
    is_active: bool = True
    user_id: UUID | None = None
    search: Search | None = None


def changes_of(body: BaseModel, *, nullable: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields a PATCH body sets; ``null`` is 422 except for ``nullable`` fields."""
    changes = body.model_dump(exclude_unset=True)
    nulls = [key for key, value in changes.items() if value is None and key not in nullable]
    if nulls:
        raise ValidationFailed(
            [ErrorDetail("VALIDATION_ERROR", "This field cannot be null.", key) for key in nulls]
        )
    return changes


def organization_out(organization: Organization, *, member_count: int) -> dict[str, Any]:
    return {
        "id": str(organization.id),
        "name": organization.name,
        "slug": organization.slug,
        "description": organization.description,
        "is_active": organization.is_active,
        "member_count": member_count,
        "created_at": iso(organization.created_at),
        "updated_at": iso(organization.updated_at),
    }


def organization_view_out(view: OrganizationView) -> dict[str, Any]:
    """An organization as its member sees it: with the caller's ``role``."""
    body = organization_out(view.organization, member_count=view.member_count)
    body["role"] = view.role.value if view.role else None
    return body


def member_out(membership: Membership) -> dict[str, Any]:
    user = membership.user
    return {
        "user_id": str(user.id),
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": membership.role.value,
        "joined_at": iso(membership.joined_at),
    }


def admin_session_out(session: UserSession) -> dict[str, Any]:
    """A session row of ``/admin/sessions``; ``session.user`` must be fetched with it."""
    body = session_out(session)
    del body["is_current"]
    user = session.user
    body.update(
        {
            "is_active": session.is_active and session.expires_at > datetime.now(timezone.utc),
            "user_id": str(user.id),
            "user_email": user.email,
            "user_full_name": user.full_name,
        }
    )
    return body
