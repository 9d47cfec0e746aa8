"""Control over one's sessions: sign out the other devices, at most N sessions per account, an
idle timeout and an absolute lifetime — each ending a session on its next request."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt
import pytest

from sanic_auth_sessions import UserSession
from sanic_auth_sessions.core.config import AuthSettings, ConfigurationError

from ..conftest import STRONG_PASSWORD, RunningApp, bearer
from ..helpers import assert_error, session_id

DAY_S = 24 * 60 * 60


def ago(seconds: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(seconds=seconds)


async def me(api: RunningApp, tokens: dict[str, Any]) -> int:
    return (await api.client.get(api.url("/users/me"), headers=bearer(tokens))).status_code


async def refresh(api: RunningApp, tokens: dict[str, Any]) -> Any:
    return await api.client.post(
        api.url("/auth/refresh"), json={"refresh_token": tokens["refresh_token"]}
    )


async def listed(api: RunningApp, tokens: dict[str, Any]) -> list[str]:
    response = await api.client.get(api.url("/sessions/me"), headers=bearer(tokens))
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()["sessions"]]


# --- sign out the other devices ---------------------------------------------------------------


async def test_revoke_others_keeps_exactly_the_calling_session(api: RunningApp) -> None:
    phone = await api.user_with_tokens("ann@example.com")
    laptop = await api.login("ann@example.com")
    tablet = await api.login("ann@example.com")
    other_user = await api.user_with_tokens("bob@example.com")

    response = await api.client.post(api.url("/sessions/revoke-others"), headers=bearer(laptop))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "success": True,
        "message": "Signed out of 2 other sessions",
        "sessions_revoked": 2,
    }
    assert [await me(api, t) for t in (phone, laptop, tablet, other_user)] == [401, 200, 401, 200]
    assert_error(await refresh(api, phone), 401)
    assert await listed(api, laptop) == [session_id(laptop)]
    again = await api.client.post(api.url("/sessions/revoke-others"), headers=bearer(laptop))
    assert again.json()["sessions_revoked"] == 0
    assert_error(await api.client.post(api.url("/sessions/revoke-others")), 401)


# --- at most N sessions per account -----------------------------------------------------------


async def test_a_login_beyond_the_limit_ends_the_least_recently_used_session(
    make_app: Any,
) -> None:
    api: RunningApp = await make_app(max_sessions_per_user=2)
    first = await api.user_with_tokens("ann@example.com")
    second = await api.login("ann@example.com")
    # The first session was used more recently than the second: the second goes first.
    await UserSession.filter(id=session_id(second)).update(last_used_at=ago(600))
    third = await api.login("ann@example.com")
    assert [await me(api, t) for t in (first, second, third)] == [200, 401, 200]
    assert_error(await refresh(api, second), 401)
    # Ties on last_used_at: the oldest created goes.
    same = ago(30)
    await UserSession.filter(id__in=[session_id(first), session_id(third)]).update(
        last_used_at=same
    )
    await UserSession.filter(id=session_id(first)).update(created_at=ago(3600))
    fourth = await api.login("ann@example.com")
    assert [await me(api, t) for t in (first, third, fourth)] == [401, 200, 200]
    assert sorted(await listed(api, fourth)) == sorted([session_id(third), session_id(fourth)])
    # Another account's sessions are not counted.
    assert await me(api, await api.user_with_tokens("bob@example.com")) == 200
    assert await me(api, third) == 200


async def test_concurrent_logins_never_leave_more_than_the_limit(make_app: Any) -> None:
    api: RunningApp = await make_app(max_sessions_per_user=2)
    await api.register("ann@example.com")

    async def login() -> int:
        response = await api.client.post(
            api.url("/auth/login"), json={"email": "ann@example.com", "password": STRONG_PASSWORD}
        )
        return response.status_code

    assert await asyncio.gather(*(login() for _ in range(8))) == [200] * 8
    active = await UserSession.filter(is_active=True).count()
    assert active == 2
    assert await UserSession.filter(is_active=False).count() == 6


# --- idle timeout -----------------------------------------------------------------------------


async def test_an_idle_session_is_dead_on_its_next_use(make_app: Any) -> None:
    api: RunningApp = await make_app(session_idle_timeout_s=120, session_touch_interval_s=60)
    idle = await api.user_with_tokens("ann@example.com")
    busy = await api.login("ann@example.com")
    await UserSession.filter(id=session_id(idle)).update(last_used_at=ago(121))
    await UserSession.filter(id=session_id(busy)).update(last_used_at=ago(100))

    assert_error(await api.client.get(api.url("/users/me"), headers=bearer(idle)), 401)
    assert_error(await refresh(api, idle), 401, "AUTH_INVALID_TOKEN")
    assert await me(api, busy) == 200  # 100 s idle: alive, and this use touches it
    assert await listed(api, busy) == [session_id(busy)]
    # A refresh counts as use.
    await UserSession.filter(id=session_id(busy)).update(last_used_at=ago(100))
    refreshed = await refresh(api, busy)
    assert refreshed.status_code == 200, refreshed.text
    row = await UserSession.get(id=session_id(busy))
    assert row.last_used_at > ago(5)
    # The idle session counts as expired for the clean-up.
    deleted = await api.client.delete(
        api.url("/sessions/me/expired"), headers=bearer(refreshed.json())
    )
    assert deleted.json()["deleted"] == 1
    assert not await UserSession.filter(id=session_id(idle)).exists()


def test_an_idle_timeout_must_outlast_the_touch_interval() -> None:
    with pytest.raises(ConfigurationError, match="AUTH_SESSION_IDLE_TIMEOUT_S"):
        AuthSettings.from_defaults(
            environment="test", session_idle_timeout_s=60, session_touch_interval_s=60
        )
    settings = AuthSettings.from_defaults(
        environment="test", session_idle_timeout_s=61, session_touch_interval_s=60
    )
    assert settings.session_idle_timeout_s == 61


# --- absolute lifetime ------------------------------------------------------------------------


async def test_a_session_never_outlives_its_absolute_lifetime(make_app: Any) -> None:
    api: RunningApp = await make_app(session_absolute_ttl_s=3600, refresh_token_ttl_s=DAY_S)
    tokens = await api.user_with_tokens("ann@example.com")
    row = await UserSession.get(id=session_id(tokens))
    assert row.expires_at <= row.created_at + timedelta(seconds=3601)
    claims = jwt.decode(tokens["refresh_token"], options={"verify_signature": False})
    assert claims["exp"] <= (row.created_at + timedelta(seconds=3601)).timestamp()

    # Half-way through, a refresh does not extend it past the end.
    await UserSession.filter(id=row.id).update(created_at=ago(1800))
    refreshed = await refresh(api, tokens)
    assert refreshed.status_code == 200, refreshed.text
    row = await UserSession.get(id=row.id)
    end = row.created_at + timedelta(seconds=3600)
    assert abs((row.expires_at - end).total_seconds()) < 1
    claims = jwt.decode(refreshed.json()["refresh_token"], options={"verify_signature": False})
    assert abs(claims["exp"] - end.timestamp()) < 2
    sessions = await api.client.get(api.url("/sessions/me"), headers=bearer(refreshed.json()))
    assert sessions.json()["sessions"][0]["expires_at"] == row.expires_at.isoformat()

    # Past the end: the access token and the refresh token are dead on their next use.
    await UserSession.filter(id=row.id).update(created_at=ago(3601))
    assert_error(await api.client.get(api.url("/users/me"), headers=bearer(refreshed.json())), 401)
    assert_error(await refresh(api, refreshed.json()), 401, "AUTH_INVALID_TOKEN")
    # Not reuse: the session was not revoked as stolen, it ended.
    assert (await UserSession.get(id=row.id)).is_active is True


async def test_without_policies_sessions_last_their_refresh_lifetime(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("ann@example.com")
    await UserSession.filter(id=session_id(tokens)).update(
        created_at=ago(30 * DAY_S), last_used_at=ago(DAY_S)
    )
    assert await me(api, tokens) == 200
    assert (await refresh(api, tokens)).status_code == 200
