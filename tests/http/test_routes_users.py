from __future__ import annotations

from sanic_auth_sessions.core.models import User, UserSession

from ..conftest import OTHER_STRONG_PASSWORD, STRONG_PASSWORD, RunningApp, bearer
from ..helpers import USER_FIELDS, assert_error


async def test_get_me(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("amy@example.com")
    response = await api.client.get(api.url("/users/me"), headers=bearer(tokens))
    assert response.status_code == 200
    assert set(response.json()) == USER_FIELDS
    assert response.json()["email"] == "amy@example.com"


async def test_me_requires_a_bearer_token(api: RunningApp) -> None:
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer"}):
        response = await api.client.get(api.url("/users/me"), headers=headers)
        assert_error(response, 401)


async def test_patch_me_changes_names(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("ben@example.com")
    response = await api.client.patch(
        api.url("/users/me"),
        json={"first_name": "Ben", "last_name": "Kenobi"},
        headers=bearer(tokens),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["first_name"], body["last_name"], body["email"]) == (
        "Ben",
        "Kenobi",
        "ben@example.com",
    )
    stored = await User.get(id=body["id"])
    assert (stored.first_name, stored.last_name) == ("Ben", "Kenobi")


async def test_patch_me_cannot_grant_privileges(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("cal@example.com")
    for field in ("is_superuser", "is_active"):
        response = await api.client.patch(
            api.url("/users/me"), json={field: True}, headers=bearer(tokens)
        )
        body = assert_error(response, 422)
        assert body["errors"][0]["field"] == field
    stored = await User.get(email="cal@example.com")
    assert stored.is_superuser is False


async def test_patch_me_no_longer_takes_an_email(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("eve@example.com")
    for body in (
        {"email": "new-eve@example.com", "current_password": STRONG_PASSWORD},
        {"email": "EVE@example.com"},
        {"first_name": "Eve", "email": "other-eve@example.com"},
    ):
        response = await api.client.patch(api.url("/users/me"), json=body, headers=bearer(tokens))
        errors = assert_error(response, 422, "VALIDATION_ERROR")["errors"]
        assert "email" in {error["field"] for error in errors}
    stored = await User.get(email="eve@example.com")
    assert stored.first_name == ""


async def test_change_password_keeps_only_the_current_session(api: RunningApp) -> None:
    await api.register("fay@example.com")
    current = await api.login("fay@example.com")
    other = await api.login("fay@example.com")
    response = await api.client.patch(
        api.url("/users/me/password"),
        json={"current_password": STRONG_PASSWORD, "new_password": OTHER_STRONG_PASSWORD},
        headers=bearer(current),
    )
    assert response.status_code == 200, response.text
    assert (await api.client.get(api.url("/users/me"), headers=bearer(current))).status_code == 200
    assert (await api.client.get(api.url("/users/me"), headers=bearer(other))).status_code == 401
    await api.login("fay@example.com", OTHER_STRONG_PASSWORD)


async def test_change_password_wrong_current_is_403(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("gus@example.com")
    response = await api.client.patch(
        api.url("/users/me/password"),
        json={"current_password": "not my password", "new_password": OTHER_STRONG_PASSWORD},
        headers=bearer(tokens),
    )
    body = assert_error(response, 403, "AUTH_WRONG_PASSWORD")
    assert body["errors"][0]["field"] == "current_password"


async def test_change_password_weak_new_password_is_422(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("hal@example.com")
    response = await api.client.patch(
        api.url("/users/me/password"),
        json={"current_password": STRONG_PASSWORD, "new_password": "password1234"},
        headers=bearer(tokens),
    )
    body = assert_error(response, 422, "PASSWORD_TOO_COMMON")
    assert body["errors"][0]["field"] == "new_password"


async def test_delete_me_deactivates_and_revokes(api: RunningApp) -> None:
    await api.register("ida@example.com")
    tokens = await api.login("ida@example.com")
    other = await api.login("ida@example.com")
    response = await api.client.delete(api.url("/users/me"), headers=bearer(tokens))
    assert response.status_code == 200
    user = await User.get(email="ida@example.com")
    assert user.is_active is False
    assert await UserSession.filter(user_id=user.id, is_active=True).count() == 0
    for t in (tokens, other):
        assert (await api.client.get(api.url("/users/me"), headers=bearer(t))).status_code == 401
    login = await api.client.post(
        api.url("/auth/login"), json={"email": "ida@example.com", "password": STRONG_PASSWORD}
    )
    assert_error(login, 403, "ACCOUNT_INACTIVE")


async def test_deactivated_user_token_dies_even_if_session_row_is_active(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("jon@example.com")
    await User.filter(email="jon@example.com").update(is_active=False)
    response = await api.client.get(api.url("/users/me"), headers=bearer(tokens))
    assert_error(response, 401, "AUTH_INVALID_TOKEN")
