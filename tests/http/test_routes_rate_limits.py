"""The extension's own routes under the default limits and the login lockout."""

from __future__ import annotations

from typing import Any

import pytest

from ..conftest import STRONG_PASSWORD, RunningApp, bearer
from ..helpers import assert_error


async def test_eleventh_login_in_a_minute_is_429(make_app: Any) -> None:
    api: RunningApp = await make_app(rate_limit_enabled=True)
    statuses = []
    for i in range(11):
        response = await api.client.post(
            api.url("/auth/login"), json={"email": f"u{i}@example.com", "password": "x" * 12}
        )
        statuses.append(response.status_code)
        assert response.headers["x-ratelimit-limit"] == "10"
    assert statuses == [401] * 10 + [429]
    body = assert_error(response, 429, "RATE_LIMITED")
    assert body["errors"][0]["field"] is None
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.headers["x-ratelimit-remaining"] == "0"


async def test_login_limit_by_email_holds_across_ips(make_app: Any) -> None:
    api: RunningApp = await make_app(
        rate_limit_enabled=True,
        trusted_proxies="127.0.0.1",
        rate_limit_login_email="3/minute",
        lockout_enabled=False,
    )
    statuses = []
    for i in range(4):
        response = await api.client.post(
            api.url("/auth/login"),
            json={"email": "target@example.com", "password": "wrong password!"},
            headers={"X-Forwarded-For": f"198.51.100.{i}"},
        )
        statuses.append(response.status_code)
    assert statuses == [401, 401, 401, 429]


async def test_register_limit(make_app: Any) -> None:
    api: RunningApp = await make_app(rate_limit_enabled=True, rate_limit_register="2/minute")
    await api.register("r1@example.com")
    await api.register("r2@example.com")
    third = await api.client.post(
        api.url("/auth/register"), json={"email": "r3@example.com", "password": STRONG_PASSWORD}
    )
    assert_error(third, 429, "RATE_LIMITED")


async def test_lockout_after_repeated_failures_whatever_the_password(make_app: Any) -> None:
    api: RunningApp = await make_app(lockout_enabled=True, lockout_max_failures=3)
    await api.register("locked@example.com")
    for _ in range(3):
        wrong = await api.client.post(
            api.url("/auth/login"), json={"email": "locked@example.com", "password": "bad" * 5}
        )
        assert wrong.status_code == 401
    right = await api.client.post(
        api.url("/auth/login"), json={"email": "LOCKED@example.com", "password": STRONG_PASSWORD}
    )
    assert_error(right, 429, "ACCOUNT_LOCKED")
    assert int(right.headers["retry-after"]) > 0
    # Another account is not affected.
    await api.user_with_tokens("free@example.com")


async def test_successful_login_resets_the_failure_count(make_app: Any) -> None:
    api: RunningApp = await make_app(lockout_enabled=True, lockout_max_failures=3)
    await api.register("reset@example.com")
    for _ in range(2):
        await api.client.post(
            api.url("/auth/login"), json={"email": "reset@example.com", "password": "bad" * 5}
        )
    await api.login("reset@example.com")
    for _ in range(2):
        wrong = await api.client.post(
            api.url("/auth/login"), json={"email": "reset@example.com", "password": "bad" * 5}
        )
        assert wrong.status_code == 401
    await api.login("reset@example.com")


# Every other limited route, its limit set to 1/minute: the second call is 429. A route that
# lost its @rate_limit would answer the second call like the first.
LIMITED_ROUTES = [
    (
        "rate_limit_login",
        "POST",
        "/auth/login/oauth",
        {"data": {"username": "a@b.co", "password": "x"}},
    ),
    ("rate_limit_refresh", "POST", "/auth/refresh", {"json": {"refresh_token": "x"}}),
    ("rate_limit_logout_all", "POST", "/auth/logout-all", {}),
    (
        "rate_limit_password_reset_request",
        "POST",
        "/auth/password-reset/request",
        {"json": {"email": "a@b.co"}},
    ),
    (
        "rate_limit_password_reset_confirm",
        "POST",
        "/auth/password-reset/confirm",
        {"json": {"token": "x", "new_password": STRONG_PASSWORD}},
    ),
    ("rate_limit_session_list", "GET", "/sessions/me", {}),
    ("rate_limit_session_revoke", "DELETE", "/sessions/00000000-0000-4000-8000-000000000000", {}),
]


@pytest.mark.parametrize(("setting", "method", "path", "request_kwargs"), LIMITED_ROUTES)
async def test_each_limited_route_answers_429_past_its_limit(
    make_app: Any, setting: str, method: str, path: str, request_kwargs: dict[str, Any]
) -> None:
    api: RunningApp = await make_app(rate_limit_enabled=True, **{setting: "1/minute"})
    # Logging in counts against the login limit itself: the login route goes without.
    login_route = setting == "rate_limit_login"
    headers = {} if login_route else bearer(await api.user_with_tokens("limited@example.com"))
    first = await api.client.request(method, api.url(path), headers=headers, **request_kwargs)
    assert first.status_code != 429, first.text
    second = await api.client.request(method, api.url(path), headers=headers, **request_kwargs)
    assert_error(second, 429, "RATE_LIMITED")


async def test_failures_for_an_unknown_email_lock_it_too(make_app: Any) -> None:
    """Otherwise the lockout would tell which accounts exist."""
    api: RunningApp = await make_app(lockout_enabled=True, lockout_max_failures=3)
    login = {"email": "ghost@example.com", "password": "wrong password!"}
    for _ in range(3):
        assert_error(await api.client.post(api.url("/auth/login"), json=login), 401)
    assert_error(await api.client.post(api.url("/auth/login"), json=login), 429, "ACCOUNT_LOCKED")
