"""Security headers and CSP over real HTTP, per mode, on API, health, host and docs routes."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any
from uuid import uuid4

import httpx
from sanic import HTTPResponse, Request, Sanic, json, text
from sanic_ext import Extend

from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.http.error_handler import install_error_handler
from sanic_auth_sessions.http.middleware.security_headers import (
    HSTS_VALUE,
    RELAXED_CSP,
    STRICT_CSP,
    inline_hashes,
    install_security_headers,
)

from ..serving import serve

MFA_KEY = base64.b64encode(b"m" * 32).decode()

BASE = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
    "cross-origin-opener-policy": "same-origin",
}
CDN = "https://assets.example.net/swagger-ui"
REDOC_CDN = "https://redoc.example.org/bundles/redoc.standalone.js"


def make_app(**overrides: Any) -> Sanic[Any, Any]:
    app: Sanic[Any, Any] = Sanic(f"sh_{uuid4().hex[:8]}")
    app.config.OAS_UI_SWAGGER_CDN_URL = CDN
    app.config.OAS_UI_REDOC_CDN_URL = REDOC_CDN
    settings = AuthSettings.from_defaults(**{"environment": "test", **overrides})

    @app.get("/api/v1/things")
    async def things(request: Request) -> HTTPResponse:
        return json({"success": True})

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        return json({"status": "ok"})

    @app.get("/host/page")
    async def host_page(request: Request) -> HTTPResponse:
        return text("hello")

    @app.get("/host/framed")
    async def host_framed(request: Request) -> HTTPResponse:
        return text(
            "mine",
            headers={
                "X-Frame-Options": "SAMEORIGIN",
                "Content-Security-Policy": "default-src 'self' https://host.example",
            },
        )

    Extend(app)
    install_error_handler(app, settings)
    install_security_headers(app, settings)
    return app


def assert_base_headers(response: httpx.Response) -> None:
    for name, value in BASE.items():
        assert response.headers[name] == value, name
    policy = response.headers["permissions-policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in policy


async def test_strict_mode_on_api_health_host_and_errors() -> None:
    async with serve(make_app()) as client:
        for path in ("/api/v1/things", "/health", "/host/page", "/api/v1/missing"):
            response = await client.get(path)
            assert_base_headers(response)
            assert response.headers["content-security-policy"] == STRICT_CSP
            assert "strict-transport-security" not in response.headers
    assert STRICT_CSP == "default-src 'none'; frame-ancestors 'none'"


async def test_hsts_only_in_production() -> None:
    app = make_app(environment="production", secret_key="s" * 40, mfa_encryption_key=MFA_KEY)
    async with serve(app) as client:
        response = await client.get("/api/v1/things")
    assert response.headers["strict-transport-security"] == HSTS_VALUE
    assert HSTS_VALUE == "max-age=63072000; includeSubDomains"
    assert_base_headers(response)


async def test_relaxed_mode() -> None:
    async with serve(make_app(csp_mode="relaxed")) as client:
        response = await client.get("/host/page")
    assert response.headers["content-security-policy"] == RELAXED_CSP
    assert "default-src 'self'" in RELAXED_CSP
    assert "frame-ancestors 'none'" in RELAXED_CSP
    assert_base_headers(response)


async def test_disabled_csp_keeps_other_headers() -> None:
    async with serve(make_app(csp_mode="disabled")) as client:
        for path in ("/api/v1/things", "/docs/swagger"):
            response = await client.get(path)
            assert "content-security-policy" not in response.headers
            assert_base_headers(response)


async def test_switched_off_adds_nothing() -> None:
    app = make_app(
        environment="production",
        secret_key="s" * 40,
        mfa_encryption_key=MFA_KEY,
        security_headers_enabled=False,
    )
    async with serve(app) as client:
        response = await client.get("/api/v1/things")
    assert response.status_code == 200
    for name in (*BASE, "permissions-policy", "content-security-policy"):
        assert name not in response.headers
    assert "strict-transport-security" not in response.headers


async def test_host_route_keeps_its_own_headers() -> None:
    async with serve(make_app()) as client:
        response = await client.get("/host/framed")
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert response.headers["content-security-policy"] == "default-src 'self' https://host.example"
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers["x-content-type-options"] == "nosniff"


def directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def sha256_source(content: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(content.encode()).digest()).decode() + "'"


async def test_swagger_page_gets_docs_csp_from_configured_cdn() -> None:
    async with serve(make_app()) as client:
        response = await client.get("/docs/swagger")
        again = await client.get("/docs/swagger")
        spec = await client.get("/docs/openapi.json")
    assert response.status_code == 200
    csp = directives(response.headers["content-security-policy"])
    assert again.headers["content-security-policy"] == response.headers["content-security-policy"]
    script = re.search(r"<script>(.*?)</script>", response.text, re.DOTALL)
    style = re.search(r"<style>(.*?)</style>", response.text, re.DOTALL)
    assert script and style
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["https://assets.example.net", sha256_source(script.group(1))]
    assert csp["style-src"] == ["https://assets.example.net", sha256_source(style.group(1))]
    assert csp["connect-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    assert "'unsafe-eval'" not in response.headers["content-security-policy"]
    assert_base_headers(response)
    # Other responses under the docs prefix are not pages: they keep the mode's policy.
    assert spec.headers["content-security-policy"] == STRICT_CSP


async def test_redoc_and_index_pages_get_redoc_csp() -> None:
    async with serve(make_app(csp_mode="relaxed")) as client:
        redoc = await client.get("/docs/redoc")
        index = await client.get("/docs")
    csp = directives(redoc.headers["content-security-policy"])
    assert csp["script-src"] == ["https://redoc.example.org"]
    assert csp["style-src"] == ["'unsafe-inline'", "https://fonts.googleapis.com"]
    assert csp["font-src"] == ["https://fonts.gstatic.com"]
    assert csp["worker-src"] == ["blob:"]
    assert index.headers["content-security-policy"] == redoc.headers["content-security-policy"]


async def test_docs_paths_follow_oas_config() -> None:
    app: Sanic[Any, Any] = Sanic(f"sh_{uuid4().hex[:8]}")
    app.config.OAS_URL_PREFIX = "/reference/"
    app.config.OAS_URI_TO_SWAGGER = "/try"
    app.config.OAS_UI_SWAGGER_CDN_URL = "//cdn.example.com/swagger-ui"
    Extend(app)
    install_security_headers(app, AuthSettings.from_defaults(environment="test"))
    async with serve(app) as client:
        page = await client.get("/reference/try")
        old = await client.get("/docs/swagger")
    assert "script-src https://cdn.example.com 'sha256-" in page.headers["content-security-policy"]
    assert old.status_code == 404
    assert old.headers["content-security-policy"] == STRICT_CSP


def test_inline_hashes_skip_external_scripts() -> None:
    page = '<script src="x.js"></script><SCRIPT>a()</SCRIPT><style>b{}</style><style\n>c{}</style>'
    scripts, styles = inline_hashes(page)
    assert scripts == [sha256_source("a()")]
    assert styles == [sha256_source("b{}"), sha256_source("c{}")]
