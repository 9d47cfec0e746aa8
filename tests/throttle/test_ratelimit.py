"""Rate limits over real HTTP: 429 contract, headers, keys, strategies, storage failures."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from uuid import uuid4

import pytest
from sanic import Request, Sanic, json
from sanic.response import HTTPResponse
from sanic.views import HTTPMethodView

from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.core.errors import RateLimited
from sanic_auth_sessions.http.error_handler import install_error_handler
from sanic_auth_sessions.http.rate_limits import install_rate_limiting, rate_limit
from sanic_auth_sessions.http.routes.auth import login_email, oauth_username
from sanic_auth_sessions.http.runtime import auth_runtime, install_runtime
from sanic_auth_sessions.throttle.ratelimit import RateLimiter, RateLimitInfo

from ..redis_server import captured_errors, closed_port_url
from ..serving import serve

PROXY = {"X-Forwarded-For": "203.0.113.7"}


def settings(**overrides: Any) -> AuthSettings:
    return AuthSettings.from_defaults(environment="test", **overrides)


def make_app(**overrides: Any) -> Sanic[Any, Any]:
    """An app with ``/ping`` limited to 3/minute per IP and the login pair of limits."""
    app: Sanic[Any, Any] = Sanic(f"rl_{uuid4().hex[:8]}")
    auth_settings = settings(**overrides)
    install_error_handler(app, auth_settings)
    install_runtime(app, auth_settings)
    install_rate_limiting(app)

    @app.get("/ping")
    @rate_limit("3/minute")
    async def ping(request: Request) -> HTTPResponse:
        return json({"ok": True})

    # The login routes' pair of limits, with their key functions: the per-email key is the
    # email of the body the handler reads (parsed and normalized once).
    @app.post("/login")
    @rate_limit(lambda s: s.rate_limit_login, scope="login")
    @rate_limit(lambda s: s.rate_limit_login_email, scope="login_email", key=login_email)
    async def login(request: Request) -> HTTPResponse:
        return json({"ok": True})

    @app.post("/login/form")
    @rate_limit(lambda s: s.rate_limit_login, scope="login")
    @rate_limit(lambda s: s.rate_limit_login_email, scope="login_email", key=oauth_username)
    async def login_form(request: Request) -> HTTPResponse:
        return json({"ok": True})

    @app.post("/free")
    async def free(request: Request) -> HTTPResponse:
        return json({"ok": True})

    return app


def assert_rate_limited(response: Any, limit: int) -> None:
    assert response.status_code == 429
    assert response.json() == {
        "success": False,
        "errors": [
            {
                "code": "RATE_LIMITED",
                "message": "Too many requests. Try again later.",
                "field": None,
            }
        ],
    }
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["X-RateLimit-Reset"] == response.headers["Retry-After"]
    assert response.headers["X-RateLimit-Limit"] == str(limit)
    assert response.headers["X-RateLimit-Remaining"] == "0"


async def test_over_the_limit_gets_429_with_contract_body_and_headers() -> None:
    async with serve(make_app()) as client:
        for remaining in (2, 1, 0):
            response = await client.get("/ping")
            assert response.status_code == 200
            assert response.headers["X-RateLimit-Limit"] == "3"
            assert response.headers["X-RateLimit-Remaining"] == str(remaining)
            assert 59 <= int(response.headers["X-RateLimit-Reset"]) <= 60
        limited = await client.get("/ping")
        assert_rate_limited(limited, 3)
        assert limited.headers["Retry-After"] == limited.headers["X-RateLimit-Reset"]


async def test_unlimited_routes_get_no_headers() -> None:
    async with serve(make_app()) as client:
        response = await client.post("/free", json={})
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response.headers


async def test_clients_behind_a_trusted_proxy_are_counted_separately() -> None:
    app = make_app(trusted_proxies="127.0.0.1/32")
    async with serve(app) as client:
        for _ in range(3):
            assert (await client.get("/ping", headers=PROXY)).status_code == 200
        assert_rate_limited(await client.get("/ping", headers=PROXY), 3)
        other = await client.get("/ping", headers={"X-Forwarded-For": "198.51.100.1"})
        assert other.status_code == 200
        assert other.headers["X-RateLimit-Remaining"] == "2"


async def test_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    async with serve(make_app()) as client:
        for index in range(3):
            forged = {"X-Forwarded-For": f"198.51.100.{index}"}
            assert (await client.get("/ping", headers=forged)).status_code == 200
        assert_rate_limited(await client.get("/ping", headers={"X-Forwarded-For": "10.9.9.9"}), 3)


async def test_email_key_limits_one_account_across_ips() -> None:
    app = make_app(
        trusted_proxies="127.0.0.1/32",
        rate_limit_login="10/minute",
        rate_limit_login_email="2/minute",
    )
    async with serve(app) as client:
        first = await client.post(
            "/login",
            json={"email": "Victim@Example.com", "password": "x"},
            headers={"X-Forwarded-For": "1.1.1.1"},
        )
        assert first.status_code == 200
        # The tighter of the two limits is reported.
        assert first.headers["X-RateLimit-Limit"] == "2"
        assert first.headers["X-RateLimit-Remaining"] == "1"
        second = await client.post(
            "/login",
            json={"email": " victim@example.com ", "password": "x"},
            headers={"X-Forwarded-For": "2.2.2.2"},
        )
        assert second.status_code == 200
        third = await client.post(
            "/login",
            json={"email": "VICTIM@example.com", "password": "x"},
            headers={"X-Forwarded-For": "3.3.3.3"},
        )
        assert_rate_limited(third, 2)
        other = await client.post(
            "/login",
            json={"email": "other@example.com", "password": "x"},
            headers={"X-Forwarded-For": "3.3.3.3"},
        )
        assert other.status_code == 200
        # OAuth password flow: the form's username is the same account.
        form = await client.post(
            "/login/form",
            data={"username": "victim@example.com", "password": "x"},
            headers={"X-Forwarded-For": "4.4.4.4"},
        )
        assert_rate_limited(form, 2)


async def test_ip_limit_counts_before_the_body_is_read() -> None:
    """Order of checks: the per-IP limit first (even a body that fails validation counts),
    the per-email limit only once the body is valid."""
    app = make_app(rate_limit_login="2/minute", rate_limit_login_email="1/minute")
    async with serve(app) as client:
        for remaining in (1, 0):
            response = await client.post("/login", json={"password": "x"})
            assert response.status_code == 422
            assert response.headers["X-RateLimit-Limit"] == "2"
            assert response.headers["X-RateLimit-Remaining"] == str(remaining)
        assert_rate_limited(await client.post("/login", content=b"not json"), 2)


async def test_disabled_switch_turns_every_limit_off() -> None:
    async with serve(make_app(rate_limit_enabled=False)) as client:
        for _ in range(6):
            response = await client.get("/ping")
            assert response.status_code == 200
            assert "X-RateLimit-Limit" not in response.headers


@pytest.mark.parametrize("strategy", ["fixed-window", "moving-window"])
async def test_strategies_block_then_let_through_after_the_window(strategy: str) -> None:
    app: Sanic[Any, Any] = Sanic(f"rl_{uuid4().hex[:8]}")
    auth_settings = settings(rate_limit_strategy=strategy)
    install_error_handler(app, auth_settings)
    install_runtime(app, auth_settings)
    install_rate_limiting(app)

    @app.get("/fast")
    @rate_limit("2/second")
    async def fast(request: Request) -> HTTPResponse:
        return json({"ok": True})

    async with serve(app) as client:
        assert (
            auth_runtime(app)
            .limiter.strategy.__class__.__name__.lower()
            .startswith(strategy.split("-")[0])
        )
        for _attempt in range(5):
            started = time.monotonic()
            assert (await client.get("/fast")).status_code == 200
            assert (await client.get("/fast")).status_code == 200
            limited = await client.get("/fast")
            if limited.status_code == 200 and time.monotonic() - started >= 0.9:
                # a machine too busy to send three requests within the second: again,
                # after a whole window
                await asyncio.sleep(1.1)
                continue
            break
        assert_rate_limited(limited, 2)
        assert limited.headers["Retry-After"] == "1"
        await asyncio.sleep(1.1)
        assert (await client.get("/fast")).status_code == 200


async def test_decorator_on_host_routes_and_views() -> None:
    app: Sanic[Any, Any] = Sanic(f"rl_{uuid4().hex[:8]}")
    auth_settings = settings(rate_limit_session_list="2/minute")
    install_error_handler(app, auth_settings)
    install_runtime(app, auth_settings)
    install_rate_limiting(app)

    @app.get("/a")
    @rate_limit(lambda s: s.rate_limit_session_list, scope="shared")
    async def route_a(request: Request) -> HTTPResponse:
        return json({"route": "a"})

    @app.get("/b")
    @rate_limit("2/minute", scope="shared")
    async def route_b(request: Request) -> HTTPResponse:
        return json({"route": "b"})

    @app.get("/c/<name>")
    @rate_limit("1/minute", key=lambda request: request.headers.get("x-api-key"))
    async def route_c(request: Request, name: str) -> HTTPResponse:
        return json({"name": name})

    class ItemView(HTTPMethodView):
        @rate_limit("1/minute")
        async def get(self, request: Request) -> HTTPResponse:
            return json({"view": True})

    app.add_route(ItemView.as_view(), "/view")

    @app.get("/multi")
    @rate_limit("5/minute;2/hour")
    async def multi(request: Request) -> HTTPResponse:
        return json({"ok": True})

    async with serve(app) as client:
        assert (await client.get("/a")).json() == {"route": "a"}
        assert (await client.get("/b")).json() == {"route": "b"}
        assert_rate_limited(await client.get("/a"), 2)  # one counter for one scope
        # A key function returning None skips the limit; path parameters still arrive.
        for _ in range(3):
            assert (await client.get("/c/x")).json() == {"name": "x"}
        assert (await client.get("/c/x", headers={"x-api-key": "k1"})).status_code == 200
        assert_rate_limited(await client.get("/c/x", headers={"x-api-key": "k1"}), 1)
        assert (await client.get("/c/x", headers={"x-api-key": "k2"})).status_code == 200
        assert (await client.get("/view")).json() == {"view": True}
        assert_rate_limited(await client.get("/view"), 1)
        # Several limits in one string: the headers report the one with the least remaining.
        first = await client.get("/multi")
        assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == (
            "2",
            "1",
        )
        assert (await client.get("/multi")).headers["X-RateLimit-Remaining"] == "0"
        limited = await client.get("/multi")
        assert_rate_limited(limited, 2)
        assert 3500 < int(limited.headers["Retry-After"]) <= 3600


def test_a_bad_limit_string_fails_at_decoration() -> None:
    with pytest.raises(ValueError):
        rate_limit("many per fortnight")


async def test_unreachable_storage_fails_open_and_logs() -> None:
    app = make_app(rate_limit_storage_url=closed_port_url(), rate_limit_fail_open=True)
    with captured_errors() as records:
        async with serve(app) as client:
            for _ in range(5):
                response = await client.get("/ping")
                assert response.status_code == 200
                assert "X-RateLimit-Limit" not in response.headers
    failures = [r for r in records if "FAILING OPEN" in r.getMessage()]
    assert len(failures) == 1  # loud, but not once per request
    assert failures[0].levelno == logging.ERROR


async def test_unreachable_storage_fails_closed_with_503() -> None:
    app = make_app(rate_limit_storage_url=closed_port_url(), rate_limit_fail_open=False)
    async with serve(app) as client:
        response = await client.get("/ping")
        assert response.status_code == 503
        assert response.json()["success"] is False
        assert response.json()["errors"][0]["code"] == "SERVICE_UNAVAILABLE"


async def test_two_workers_share_counts_through_redis(redis_url: str) -> None:
    """Two apps (as two worker processes would) on one Redis count together."""
    url = redis_url
    scope = f"shared_{uuid4().hex}"
    apps = []
    for _ in range(2):
        app: Sanic[Any, Any] = Sanic(f"rl_{uuid4().hex[:8]}")
        auth_settings = settings(rate_limit_storage_url=url)
        install_error_handler(app, auth_settings)
        install_runtime(app, auth_settings)
        install_rate_limiting(app)

        @app.get("/ping")
        @rate_limit("3/minute", scope=scope)
        async def ping(request: Request) -> HTTPResponse:
            return json({"ok": True})

        apps.append(app)

    async with serve(apps[0]) as first, serve(apps[1]) as second:
        assert (await first.get("/ping")).headers["X-RateLimit-Remaining"] == "2"
        assert (await second.get("/ping")).headers["X-RateLimit-Remaining"] == "1"
        assert (await first.get("/ping")).headers["X-RateLimit-Remaining"] == "0"
        assert_rate_limited(await second.get("/ping"), 3)
        assert_rate_limited(await first.get("/ping"), 3)


@pytest.mark.parametrize("strategy", ["fixed-window", "moving-window"])
async def test_two_limiters_share_counts_through_redis(redis_url: str, strategy: str) -> None:
    auth_settings = settings(rate_limit_storage_url=redis_url, rate_limit_strategy=strategy)
    first, second = RateLimiter(auth_settings), RateLimiter(auth_settings)
    seen: list[RateLimitInfo] = []
    scope = f"direct_{uuid4().hex}"
    try:
        await first.hit(scope, "2/minute", "k", seen.append)
        await second.hit(scope, "2/minute", "k", seen.append)
        assert [info.remaining for info in seen] == [1, 0]
        with pytest.raises(RateLimited) as raised:
            await first.hit(scope, "2/minute", "k", seen.append)
        assert 1 <= raised.value.retry_after_s <= 60
        assert seen[-1].remaining == 0 and seen[-1].reset_after_s == raised.value.retry_after_s
        await second.hit(scope, "2/minute", "other-key")
    finally:
        await first.close()
        await second.close()
