"""A real headless Chromium renders Swagger UI and ReDoc offline, under our docs CSP.

The pages load the app's own pinned copies of their assets (``openapi-ui-bundles``, served by
``http/docs_assets.py``); every request that leaves the machine is cut off, as on a network with
no internet, and the test fails if one was needed. Screenshots of both pages are kept in the
test's temporary folder. Chromium is never downloaded: ``CHROMIUM_PATH`` or ``chromium`` on the
PATH, driven by Playwright for Python; a missing piece skips the test with the reason, unless
``SANIC_AUTH_REQUIRE_BROWSER=1`` (set in CI) turns the skip into a failure.
"""

from __future__ import annotations

import inspect
import os
import shutil
from pathlib import Path
from typing import Any, NoReturn
from uuid import uuid4

import pytest
from sanic import Blueprint, HTTPResponse, Request, Sanic, json
from sanic_ext import Extend
from sanic_ext.config import Config as ExtConfig

from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.http.docs_assets import serve_docs_assets
from sanic_auth_sessions.http.error_handler import install_error_handler
from sanic_auth_sessions.http.middleware.security_headers import install_security_headers

from ..serving import serve_url

SWAGGER_VERSION: str = (
    inspect.signature(ExtConfig.__init__).parameters["oas_ui_swagger_version"].default
)
REDOC_VERSION = "2.5.4"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The template name -> file in swagger-ui-dist (the CDN serves minified names).
SWAGGER_FILES = {
    "swagger-ui.min.css": "swagger-ui.css",
    "swagger-ui-bundle.min.js": "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.min.js": "swagger-ui-standalone-preset.js",
}
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("SANIC_AUTH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser test required but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium_path() -> str:
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        unavailable("Playwright for Python is not installed (pip install playwright)")
    found = os.environ.get("CHROMIUM_PATH") or next(
        filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None
    )
    if not found:
        unavailable("Chromium is not installed (apt-get install -y chromium, or CHROMIUM_PATH)")
    return found


async def launch_chromium(playwright: Any, chromium_path: str, *extra_args: str) -> Any:
    """Debian's Chromium, headless, driven by ``playwright``; a failed start is
    :func:`unavailable` (a failure in CI)."""
    from playwright.async_api import Error as PlaywrightError

    try:
        return await playwright.chromium.launch(
            executable_path=chromium_path, args=[*CHROMIUM_ARGS, *extra_args]
        )
    except PlaywrightError as exc:
        unavailable(f"Chromium at {chromium_path} did not start: {exc}")


def make_app() -> Sanic[Any, Any]:
    app: Sanic[Any, Any] = Sanic(f"docs_{uuid4().hex[:8]}")
    settings = AuthSettings.from_defaults(environment="test")
    bp = Blueprint("things", url_prefix="/api/v1")

    @bp.get("/things")
    async def list_things(request: Request) -> HTTPResponse:
        """List the things."""
        return json({"success": True, "data": []})

    @bp.post("/things")
    async def create_thing(request: Request) -> HTTPResponse:
        """Create a thing."""
        return json({"success": True}, status=201)

    app.blueprint(bp)
    serve_docs_assets(app)  # as AuthSessions does, before sanic-ext builds the docs pages
    Extend(app)
    install_error_handler(app, settings)
    install_security_headers(app, settings)
    return app


@pytest.mark.parametrize(
    ("path", "rendered"),
    [
        ("/docs/swagger", ".swagger-ui .opblock-tag"),
        ("/docs/redoc", ".api-content"),
    ],
)
async def test_docs_ui_renders_offline_without_csp_violation(
    path: str, rendered: str, chromium_path: str, tmp_path: Path
) -> None:
    from playwright.async_api import Route, async_playwright

    async with serve_url(make_app()) as base_url, async_playwright() as playwright:
        browser = await launch_chromium(playwright, chromium_path)
        try:
            page = await browser.new_page()
            console: list[str] = []
            errors: list[str] = []
            failed_local: list[str] = []
            page.on("console", lambda message: console.append(message.text))
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on(
                "requestfailed",
                lambda request: (
                    failed_local.append(request.url)
                    if request.url.startswith("http://127.0.0.1")
                    else None
                ),
            )

            left: list[str] = []

            async def offline(route: Route) -> None:
                # No internet: whatever would leave the machine is cut off and recorded.
                if route.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
                    await route.continue_()
                else:
                    left.append(route.request.url)
                    await route.abort()

            await page.route("**/*", offline)
            await page.add_init_script(RECORD_VIOLATIONS)
            response = await page.goto(base_url + path, wait_until="load")
            assert response is not None and response.status == 200
            csp = (await response.all_headers())["content-security-policy"]
            assert "script-src 'self'" in csp and "https:" not in csp.split("img-src")[0]
            await page.wait_for_selector(rendered, timeout=20_000)
            await page.wait_for_timeout(500)  # let late scripts, styles and workers start

            if path.endswith("swagger"):
                # The tags are listed folded (docExpansion "none"): open the first one.
                # The tags are listed folded (docExpansion "none"): nothing is open yet.
                assert await page.locator(".swagger-ui .opblock").count() == 0
                # Open the tag through Swagger UI's own API (a click can be lost in a re-render
                # on a busy machine).
                await page.evaluate(
                    "window.ui.layoutActions.show(['operations-tag', 'things'], true)"
                )
                await page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
                assert await page.locator(".swagger-ui .opblock").count() == 2
                assert await page.locator(".opblock.is-open").count() == 0
                assert await page.locator(".opblock-summary-path").first.is_visible()
                assert "/api/v1/things" in await page.locator("#openapi").inner_text()
            else:
                assert "Create a thing" in await page.locator(".api-content").inner_text()
            shot = tmp_path / f"{path.rsplit('/', 1)[-1]}.png"
            await page.screenshot(path=str(shot), full_page=False)

            violations = await page.evaluate("window.__cspViolations")
        finally:
            await browser.close()

    assert violations == []
    # Nothing had to leave the machine but ReDoc's own "by Redocly" logo, an image.
    assert [url for url in left if not url.startswith("https://cdn.redoc.ly/")] == []
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000
    assert [text for text in console if "Content Security Policy" in text] == []
    assert errors == []
    assert failed_local == []
