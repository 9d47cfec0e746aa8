"""CORS through sanic-ext, configured from AUTH_CORS_ORIGINS, over real HTTP."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx
import pytest
from sanic import HTTPResponse, Request, Sanic, json
from sanic_ext import Extend
from sanic_ext.extensions.base import Extension

from sanic_auth_sessions.core.config import AuthSettings, ConfigurationError
from sanic_auth_sessions.http.middleware.cors import (
    ALLOWED_HEADERS,
    EXPOSED_HEADERS,
    configure_cors,
)

from ..serving import serve

ALLOWED = "https://app.example.com"
OTHER = "https://evil.example.net"


def make_app(*origins: str, host_config: dict[str, Any] | None = None) -> Sanic[Any, Any]:
    app: Sanic[Any, Any] = Sanic(f"cors_{uuid4().hex[:8]}")
    app.config.update(host_config or {})

    @app.route("/api/v1/things", methods=["GET", "POST"])
    async def things(request: Request) -> HTTPResponse:
        return json({"success": True}, headers={"X-RateLimit-Limit": "10"})

    configure_cors(app, AuthSettings.from_defaults(environment="test", cors_origins=origins))
    Extend(app)
    return app


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


def preflight(client: httpx.AsyncClient, origin: str) -> Any:
    return client.options(
        "/api/v1/things",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-device-id",
        },
    )


async def test_allowed_origin_gets_origin_credentials_and_exposed_headers() -> None:
    async with serve(make_app(ALLOWED, "https://admin.example.com")) as client:
        response = await client.get("/api/v1/things", headers={"Origin": ALLOWED})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert response.headers["access-control-allow-credentials"] == "true"
    exposed = set(response.headers["access-control-expose-headers"].split(","))
    assert exposed == {header.lower() for header in EXPOSED_HEADERS}
    assert "origin" in response.headers["vary"].lower()


async def test_preflight_answers_methods_headers_and_max_age() -> None:
    async with serve(make_app(ALLOWED)) as client:
        response = await preflight(client, ALLOWED)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert response.headers["access-control-allow-credentials"] == "true"
    methods = set(response.headers["access-control-allow-methods"].split(","))
    assert {"GET", "POST"} <= methods
    assert methods <= {"GET", "POST", "PATCH", "DELETE", "OPTIONS"}
    allowed = set(response.headers["access-control-allow-headers"].split(","))
    assert allowed == {"authorization", "content-type", "x-device-id"}
    assert int(response.headers["access-control-max-age"]) > 0


async def test_preflight_does_not_allow_unlisted_headers() -> None:
    async with serve(make_app(ALLOWED)) as client:
        response = await client.options(
            "/api/v1/things",
            headers={
                "Origin": ALLOWED,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-custom-thing",
            },
        )
    assert "access-control-allow-headers" not in response.headers
    assert {h.lower() for h in ALLOWED_HEADERS} == {
        "authorization",
        "content-type",
        "x-device-id",
        "x-request-id",
    }


async def test_disallowed_origin_gets_no_cors_headers() -> None:
    async with serve(make_app(ALLOWED)) as client:
        simple = await client.get("/api/v1/things", headers={"Origin": OTHER})
        options = await preflight(client, OTHER)
        prefix = await client.get("/api/v1/things", headers={"Origin": ALLOWED + ".evil.net"})
    for response in (simple, options, prefix):
        assert cors_headers(response) == {}


async def test_request_without_origin_gets_no_cors_headers() -> None:
    async with serve(make_app(ALLOWED)) as client:
        response = await client.get("/api/v1/things")
    assert cors_headers(response) == {}


async def test_no_origins_configured_means_no_cors_headers() -> None:
    async with serve(make_app()) as client:
        simple = await client.get("/api/v1/things", headers={"Origin": ALLOWED})
        options = await preflight(client, ALLOWED)
        plain = await client.get("/api/v1/things")
    for response in (simple, options, plain):
        assert cors_headers(response) == {}


async def test_host_cors_settings_win() -> None:
    host = {"CORS_ORIGINS": "https://host.example.com", "CORS_MAX_AGE": 42}
    async with serve(make_app(ALLOWED, host_config=host)) as client:
        ours = await client.get("/api/v1/things", headers={"Origin": ALLOWED})
        theirs = await preflight(client, "https://host.example.com")
    assert cors_headers(ours) == {}
    assert theirs.headers["access-control-allow-origin"] == "https://host.example.com"
    assert theirs.headers["access-control-max-age"] == "42"
    # The keys the host left alone still come from our settings.
    assert theirs.headers["access-control-allow-credentials"] == "true"


class CorsFirst(Extension):  # type: ignore[no-untyped-call]
    """Mimics the core extension: listed first, so its startup runs before sanic-ext's HTTP."""

    name = "corsfirstprobe"

    def startup(self, bootstrap: Extend) -> None:
        origins = self.app.config.get("PROBE_ORIGINS", ())
        configure_cors(
            self.app, AuthSettings.from_defaults(environment="test", cors_origins=origins)
        )


async def test_works_from_an_extension_started_before_the_http_extension() -> None:
    app: Sanic[Any, Any] = Sanic(f"cors_{uuid4().hex[:8]}")
    app.config.PROBE_ORIGINS = (ALLOWED,)

    @app.get("/api/v1/things")
    async def things(request: Request) -> HTTPResponse:
        return json({"success": True})

    app.extend(extensions=[CorsFirst])
    async with serve(app) as client:
        allowed = await client.get("/api/v1/things", headers={"Origin": ALLOWED})
        other = await client.get("/api/v1/things", headers={"Origin": OTHER})
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert cors_headers(other) == {}
    assert app.ext.config.CORS_ORIGINS == [ALLOWED]


def test_wildcard_origin_is_refused() -> None:
    app: Sanic[Any, Any] = Sanic(f"cors_{uuid4().hex[:8]}")
    settings = AuthSettings.from_defaults(environment="test", cors_origins=["*"])
    with pytest.raises(ConfigurationError):
        configure_cors(app, settings)


def test_a_cookie_transport_allows_the_csrf_and_transport_headers_with_credentials() -> None:
    from sanic_auth_sessions.http.middleware.cors import COOKIE_HEADERS, cors_config

    bearer_only = cors_config(AuthSettings.from_defaults(environment="test", cors_origins=ALLOWED))
    assert "X-CSRF-Token" not in bearer_only["CORS_ALLOW_HEADERS"]
    for transport in ("cookie", "both"):
        config = cors_config(
            AuthSettings.from_defaults(
                environment="test", cors_origins=ALLOWED, transport=transport
            )
        )
        allowed = config["CORS_ALLOW_HEADERS"].split(",")
        assert set(COOKIE_HEADERS) <= set(allowed) and set(ALLOWED_HEADERS) <= set(allowed)
        assert config["CORS_SUPPORTS_CREDENTIALS"] is True


async def test_a_cookie_preflight_is_answered_with_the_csrf_header() -> None:
    app: Sanic[Any, Any] = Sanic(f"cors_{uuid4().hex[:8]}")

    @app.route("/api/v1/things", methods=["GET", "POST"])
    async def things(request: Request) -> HTTPResponse:
        return json({"success": True})

    configure_cors(
        app, AuthSettings.from_defaults(environment="test", cors_origins=ALLOWED, transport="both")
    )
    Extend(app)
    async with serve(app) as client:
        response = await client.options(
            "/api/v1/things",
            headers={
                "Origin": ALLOWED,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-csrf-token, x-auth-transport, content-type",
            },
        )
    assert response.status_code == 204
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "x-csrf-token" in allowed and "x-auth-transport" in allowed
    assert response.headers["access-control-allow-credentials"] == "true"
