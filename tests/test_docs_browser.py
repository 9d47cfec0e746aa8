"""A real headless Chromium renders Swagger UI and ReDoc under our docs CSP, with no violation.

Needs Chromium, Playwright for Python and the UI assets (npm packages ``swagger-ui-dist`` and
``redoc``); each missing piece skips the test with the reason, unless
``SANIC_AUTH_REQUIRE_BROWSER=1`` (set it in CI) turns the skip into a failure. The assets are
fetched once with ``npm pack`` into a cache folder (or taken from ``SANIC_AUTH_DOCS_ASSETS``)
and served from a second local server, a different origin, as a CDN would be; sanic-ext's
``OAS_UI_*_CDN_URL`` keys point at it, so the CSP is built from configured URLs as in production.
Chromium is never downloaded by Playwright: ``CHROMIUM_PATH`` or ``chromium`` on the PATH.
"""

from __future__ import annotations

import functools
import inspect
import os
import shutil
import subprocess
import tarfile
import tempfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NoReturn
from uuid import uuid4

import pytest
from sanic import Blueprint, HTTPResponse, Request, Sanic, json
from sanic_ext import Extend
from sanic_ext.config import Config as ExtConfig

from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.http.error_handler import install_error_handler
from sanic_auth_sessions.http.middleware.security_headers import install_security_headers

from .serving import serve_url

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


def npm_package(spec: str, into: Path) -> Path:
    """Unpacked ``npm pack`` of ``spec`` under ``into``, fetched only once."""
    target = into / spec.replace("@", "-")
    if (target / "package.json").exists():
        return target
    npm = shutil.which("npm")
    if npm is None:
        unavailable("npm is not installed, so the Swagger UI / ReDoc assets cannot be fetched")
    with tempfile.TemporaryDirectory() as work:
        try:
            result = subprocess.run(
                [npm, "pack", spec, "--silent"],
                cwd=work,
                capture_output=True,
                text=True,
                timeout=180,
                check=True,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            unavailable(f"npm pack {spec} failed: {exc}")
        tarball = Path(work) / result.stdout.strip().splitlines()[-1]
        staging = Path(tempfile.mkdtemp(dir=into))
        with tarfile.open(tarball) as archive:
            archive.extractall(staging, filter="data")
        (staging / "package").rename(target)
        staging.rmdir()
    return target


@pytest.fixture(scope="module")
def cdn_root() -> Path:
    """A folder laid out like the CDNs: swagger-ui/<version>/… and redoc/redoc.standalone.js."""
    configured = os.environ.get("SANIC_AUTH_DOCS_ASSETS")
    cache = Path(configured or Path(tempfile.gettempdir()) / "sanic-auth-sessions-docs-assets")
    cache.mkdir(parents=True, exist_ok=True)
    swagger = npm_package(f"swagger-ui-dist@{SWAGGER_VERSION}", cache)
    redoc = npm_package(f"redoc@{REDOC_VERSION}", cache)
    root = cache / "cdn"
    swagger_dir = root / "swagger-ui" / SWAGGER_VERSION
    swagger_dir.mkdir(parents=True, exist_ok=True)
    for served, source in SWAGGER_FILES.items():
        shutil.copyfile(swagger / source, swagger_dir / served)
    (root / "redoc").mkdir(exist_ok=True)
    shutil.copyfile(
        redoc / "bundles" / "redoc.standalone.js", root / "redoc" / "redoc.standalone.js"
    )
    return root


@pytest.fixture(scope="module")
def cdn_url(cdn_root: Path) -> Iterator[str]:
    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(QuietHandler, directory=str(cdn_root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


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


def make_app(cdn_url: str) -> Sanic[Any, Any]:
    app: Sanic[Any, Any] = Sanic(f"docs_{uuid4().hex[:8]}")
    app.config.OAS_UI_SWAGGER_CDN_URL = f"{cdn_url}/swagger-ui"
    app.config.OAS_UI_REDOC_CDN_URL = f"{cdn_url}/redoc/redoc.standalone.js"
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
    Extend(app)
    install_error_handler(app, settings)
    install_security_headers(app, settings)
    return app


@pytest.mark.parametrize(
    ("path", "rendered"),
    [
        ("/docs/swagger", ".swagger-ui .opblock"),
        ("/docs/redoc", ".api-content"),
    ],
)
async def test_docs_ui_renders_without_csp_violation(
    path: str, rendered: str, cdn_url: str, chromium_path: str
) -> None:
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import Route, async_playwright

    async with serve_url(make_app(cdn_url)) as base_url, async_playwright() as playwright:
        try:
            browser = await playwright.chromium.launch(
                executable_path=chromium_path, args=CHROMIUM_ARGS
            )
        except PlaywrightError as exc:
            unavailable(f"Chromium at {chromium_path} did not start: {exc}")
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

            async def offline(route: Route) -> None:
                # No internet here: Google Fonts and ReDoc's logo are cut off at once, after
                # the CSP check (a request the CSP blocks never reaches this point).
                if route.request.url.startswith("http://127.0.0.1"):
                    await route.continue_()
                else:
                    await route.abort()

            await page.route("**/*", offline)
            await page.add_init_script(RECORD_VIOLATIONS)
            response = await page.goto(base_url + path, wait_until="load")
            assert response is not None and response.status == 200
            assert (
                "script-src " + cdn_url in (await response.all_headers())["content-security-policy"]
            )
            await page.wait_for_selector(rendered, timeout=20_000)
            await page.wait_for_timeout(500)  # let late scripts, styles and workers start

            if path.endswith("swagger"):
                assert await page.locator(".swagger-ui .opblock").count() == 2
                assert await page.locator(".opblock-summary-path").first.is_visible()
                assert "/api/v1/things" in await page.locator("#openapi").inner_text()
            else:
                assert "Create a thing" in await page.locator(".api-content").inner_text()

            violations = await page.evaluate("window.__cspViolations")
        finally:
            await browser.close()

    assert violations == []
    assert [text for text in console if "Content Security Policy" in text] == []
    assert errors == []
    assert failed_local == []
