"""The refresh grace window (``AUTH_REFRESH_REUSE_GRACE_S``) against a running server, on SQLite
and PostgreSQL: within it the token the latest rotation replaced refreshes to the session's
current ``jti`` (one rotation, no revocation); outside it, or for any older token, reuse revokes
the session as without a grace."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt
import pytest

from sanic_auth_sessions import AuthSettings, ConfigurationError, UserSession

from ..conftest import RunningApp, bearer
from ..helpers import assert_error, session_id


async def refresh(api: RunningApp, token: str) -> Any:
    return await api.client.post(api.url("/auth/refresh"), json={"refresh_token": token})


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


async def test_twenty_concurrent_refreshes_in_the_grace_all_succeed_with_one_rotation(
    make_app: Any,
) -> None:
    api: RunningApp = await make_app(refresh_reuse_grace_s=10)
    tokens = await api.user_with_tokens("tabs@example.com")
    session = await UserSession.get(id=session_id(tokens))

    responses = await asyncio.gather(*(refresh(api, tokens["refresh_token"]) for _ in range(20)))

    assert [r.status_code for r in responses] == [200] * 20, [r.text for r in responses]
    after = await UserSession.get(id=session.id)
    assert after.is_active
    assert after.previous_refresh_jti == session.refresh_token_jti  # exactly one rotation
    returned = {claims(r.json()["refresh_token"])["jti"] for r in responses}
    assert returned == {after.refresh_token_jti}
    # Every returned pair works: each access token, and each refresh token once more.
    for response in responses:
        me = await api.client.get(api.url("/users/me"), headers=bearer(response.json()))
        assert me.status_code == 200
    again = await asyncio.gather(*(refresh(api, r.json()["refresh_token"]) for r in responses))
    assert [r.status_code for r in again] == [200] * 20
    assert (await UserSession.get(id=session.id)).is_active


async def test_a_graced_refresh_keeps_the_session_end_and_does_not_rotate(
    make_app: Any,
) -> None:
    api: RunningApp = await make_app(refresh_reuse_grace_s=10)
    tokens = await api.user_with_tokens("retry@example.com")
    first = await refresh(api, tokens["refresh_token"])
    assert first.status_code == 200
    rotated = await UserSession.get(id=session_id(tokens))

    retried = await refresh(api, tokens["refresh_token"])  # a retried request

    assert retried.status_code == 200
    same = await UserSession.get(id=session_id(tokens))
    assert same.refresh_token_jti == rotated.refresh_token_jti
    assert same.expires_at == rotated.expires_at
    assert claims(retried.json()["refresh_token"])["exp"] == int(rotated.expires_at.timestamp())
    assert claims(retried.json()["refresh_token"])["jti"] == rotated.refresh_token_jti


async def test_after_the_grace_the_replaced_token_is_reuse(make_app: Any) -> None:
    api: RunningApp = await make_app(refresh_reuse_grace_s=5)
    tokens = await api.user_with_tokens("late@example.com")
    assert (await refresh(api, tokens["refresh_token"])).status_code == 200
    long_ago = datetime.now(timezone.utc) - timedelta(seconds=6)
    await UserSession.filter(id=session_id(tokens)).update(rotated_at=long_ago)

    body = assert_error(await refresh(api, tokens["refresh_token"]), 401)

    assert body["errors"][0]["code"] == "AUTH_TOKEN_REUSED"
    assert not (await UserSession.get(id=session_id(tokens))).is_active


async def test_an_older_token_is_reuse_even_in_the_grace(make_app: Any) -> None:
    api: RunningApp = await make_app(refresh_reuse_grace_s=10)
    tokens = await api.user_with_tokens("old@example.com")
    second = await refresh(api, tokens["refresh_token"])
    third = await refresh(api, second.json()["refresh_token"])
    assert third.status_code == 200

    body = assert_error(await refresh(api, tokens["refresh_token"]), 401)

    assert body["errors"][0]["code"] == "AUTH_TOKEN_REUSED"
    assert not (await UserSession.get(id=session_id(tokens))).is_active
    assert_error(await refresh(api, third.json()["refresh_token"]), 401)


async def test_no_grace_by_default_a_replaced_token_revokes(make_app: Any) -> None:
    api: RunningApp = await make_app()
    tokens = await api.user_with_tokens("strict@example.com")
    assert (await refresh(api, tokens["refresh_token"])).status_code == 200

    body = assert_error(await refresh(api, tokens["refresh_token"]), 401)

    assert body["errors"][0]["code"] == "AUTH_TOKEN_REUSED"
    assert not (await UserSession.get(id=session_id(tokens))).is_active


async def test_the_grace_never_revives_a_revoked_session(make_app: Any) -> None:
    api: RunningApp = await make_app(refresh_reuse_grace_s=10)
    tokens = await api.user_with_tokens("gone@example.com")
    rotated = await refresh(api, tokens["refresh_token"])
    logout = await api.client.post(
        api.url("/auth/logout"),
        headers=bearer(rotated.json()),
        json={"refresh_token": rotated.json()["refresh_token"]},
    )
    assert logout.status_code == 200

    assert_error(await refresh(api, tokens["refresh_token"]), 401)


@pytest.mark.parametrize("value", [-1, 61])
def test_the_grace_is_at_most_a_minute(value: int) -> None:
    with pytest.raises(ConfigurationError, match="AUTH_REFRESH_REUSE_GRACE_S"):
        AuthSettings.from_defaults(environment="test", refresh_reuse_grace_s=value)
