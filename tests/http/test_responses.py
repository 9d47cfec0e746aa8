"""Response models: ``dump`` answers exactly what the model documents."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.models import OrganizationRole
from sanic_auth_sessions.db.pagination import Page
from sanic_auth_sessions.http import responses
from sanic_auth_sessions.http.responses import (
    AdminSessionResponse,
    BulkActionResult,
    ErrorResponse,
    MyOrganizationList,
    MyOrganizationResponse,
    OrganizationMemberPage,
    OrganizationResponse,
    ResponseModel,
    SessionResponse,
    Token,
    UserPage,
    UserResponse,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)


def a_user(**changes: Any) -> SimpleNamespace:
    user = SimpleNamespace(
        id=uuid4(),
        email="ann@example.com",
        first_name="Ann",
        last_name="Lee",
        is_active=True,
        is_superuser=False,
        is_verified=False,
        mfa_enabled=False,
        has_password=True,
        created_at=NOW,
        updated_at=NOW + timedelta(seconds=1),
        hashed_password="not answered",
        **changes,
    )
    user.full_name = f"{user.first_name} {user.last_name}"
    return user


def a_session(user: SimpleNamespace) -> SimpleNamespace:
    return SimpleNamespace(
        id=uuid4(),
        user=user,
        device_name="Firefox on Linux",
        device_id=None,
        ip_address="203.0.113.9",
        user_agent="Mozilla/5.0",
        location_city=None,
        location_country=None,
        last_used_at=NOW,
        created_at=NOW,
        expires_at=NOW + timedelta(days=7),
        is_active=True,
        authenticated_at=NOW,
        amr_list=["pwd"],
    )


def an_organization() -> SimpleNamespace:
    return SimpleNamespace(
        id=uuid4(),
        name="Acme",
        slug="acme",
        description=None,
        is_active=True,
        created_at=NOW,
        updated_at=NOW,
    )


def test_a_user_dumps_as_pydantic_serializes_it() -> None:
    user = a_user()
    body = UserResponse.dump(user)

    assert body == UserResponse.model_validate(user).model_dump(mode="json")
    assert body["id"] == str(user.id)
    assert body["created_at"] == "2026-01-02T03:04:05.678901+00:00"  # isoformat, not "Z"
    assert "hashed_password" not in body


def test_nested_and_aliased_fields_dump_as_pydantic_serializes_them() -> None:
    user = a_user()
    tokens = SimpleNamespace(access_token="a", refresh_token="r", expires_in=900)
    token = Token.dump(tokens, token_type="bearer", user=user)
    assert token == Token.model_validate(
        SimpleNamespace(**vars(tokens), token_type="bearer", user=user)
    ).model_dump(mode="json")

    membership = SimpleNamespace(user=user, role=OrganizationRole.ADMIN, joined_at=NOW)
    page: Page[Any] = Page(items=[membership], total=1, page=1, limit=20, has_next=False)
    members = OrganizationMemberPage.dump(page)
    assert members == OrganizationMemberPage.model_validate(
        SimpleNamespace(items=[membership], pagination=page)
    ).model_dump(mode="json")
    assert members["data"][0]["role"] == "admin"
    assert members["pagination"]["total_pages"] == 1

    view = SimpleNamespace(organization=an_organization(), member_count=3, role=None)
    assert OrganizationResponse.dump(view) == OrganizationResponse.model_validate(view).model_dump(
        mode="json"
    )
    mine = SimpleNamespace(
        organization=an_organization(), member_count=1, role=OrganizationRole.GUEST
    )
    assert [MyOrganizationResponse.dump(mine)] == MyOrganizationList.model_validate(
        [mine]
    ).model_dump(mode="json")

    users: Page[Any] = Page(
        items=[user], total=1, page=1, limit=20, has_next=False, keyset=True, next_cursor="c"
    )
    listed = UserPage.dump(users)
    assert listed == UserPage.model_validate(
        SimpleNamespace(items=[user], pagination=users)
    ).model_dump(mode="json")
    assert listed["pagination"]["next_cursor"] == "c"


def test_values_given_win_over_the_source() -> None:
    user = a_user()
    session = a_session(user)
    body = SessionResponse.dump(session, is_current=True)
    assert body == SessionResponse.model_validate(
        SimpleNamespace(**vars(session), is_current=True)
    ).model_dump(mode="json")

    row = AdminSessionResponse.dump(session, is_active=False)
    assert row["is_active"] is False
    assert (row["user_id"], row["user_email"]) == (str(user.id), user.email)
    assert row["user_full_name"] == "Ann Lee"

    ids = [uuid4()]
    result = BulkActionResult.dump(
        success=True, message="m", affected_count=0, failed_count=1, failed_ids=ids
    )
    assert result["failed_ids"] == [str(ids[0])]


def test_an_error_dumps_its_details() -> None:
    error = errors.EmailTaken()
    body = ErrorResponse.dump(error, success=False)

    assert body == {
        "success": False,
        "errors": [{"code": "EMAIL_TAKEN", "message": error.message, "field": None}],
    }
    assert body == ErrorResponse.model_validate(
        SimpleNamespace(success=False, details=error.details)
    ).model_dump(mode="json")


def test_every_response_model_has_a_dump() -> None:
    models = [
        value
        for value in vars(responses).values()
        if isinstance(value, type) and issubclass(value, ResponseModel) and value.model_fields
    ]
    assert len(models) > 15
    for model in models:
        assert callable(responses._generate_dump(model)), model


def test_an_unsupported_field_type_is_refused() -> None:
    class Odd(ResponseModel):
        value: set[int]

    with pytest.raises(TypeError, match="unsupported type"):
        Odd.dump(SimpleNamespace(value={1}))

    class Either(ResponseModel):
        value: int | str

    with pytest.raises(TypeError, match="unsupported union"):
        Either.dump(SimpleNamespace(value=1))
