"""The docs pages of an app with the extension load only the app's own pinned assets (the
browser test renders them offline); a host's own CDN choice is kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sanic import Sanic

from sanic_auth_sessions import InMemoryMailer

from ..conftest import RunningApp, build_app, empty_database_url, start_app, stop_app


@pytest.fixture
async def docs_app(tmp_path: Path) -> AsyncIterator[Any]:
    started: list[tuple[RunningApp, Any]] = []

    async def factory(**oas: Any) -> RunningApp:
        def with_docs(app: Sanic) -> None:
            app.config.OAS = True
            app.config.update(oas)

        url = await empty_database_url("sqlite", tmp_path)
        mailer = InMemoryMailer()
        running, server = await start_app(build_app(url, mailer=mailer, setup=with_docs), mailer)
        started.append((running, server))
        return running

    yield factory
    for running, server in reversed(started):
        await stop_app(running, server)


async def test_the_pages_load_the_apps_own_assets(docs_app: Any) -> None:
    api: RunningApp = await docs_app()
    swagger = await api.client.get("/docs/swagger")
    assert swagger.status_code == 200
    assert "https://" not in swagger.text
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        assert f'"/docs/assets/swagger-ui/{asset}"' in swagger.text
        served = await api.client.get(f"/docs/assets/swagger-ui/{asset}")
        assert served.status_code == 200 and len(served.content) > 100_000
    csp = swagger.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in csp and "https:" not in csp

    redoc = await api.client.get("/docs/redoc")
    assert "https://" not in redoc.text  # no CDN, no Google Fonts
    assert '"/docs/assets/redoc/redoc.standalone.js"' in redoc.text
    assert (await api.client.get("/docs/assets/redoc/redoc.standalone.js")).status_code == 200
    assert "fonts.g" not in redoc.headers["content-security-policy"]

    config = (await api.client.get("/docs/swagger-config")).json()
    assert config["docExpansion"] == "none"


async def test_a_hosts_own_cdn_is_kept(docs_app: Any) -> None:
    cdn = "https://assets.example.com/swagger-ui"
    api: RunningApp = await docs_app(
        OAS_UI_SWAGGER_CDN_URL=cdn, SWAGGER_UI_CONFIGURATION={"docExpansion": "list"}
    )
    swagger = await api.client.get("/docs/swagger")
    assert cdn in swagger.text
    assert "script-src https://assets.example.com" in swagger.headers["content-security-policy"]
    assert (await api.client.get("/docs/swagger-config")).json()["docExpansion"] == "list"
