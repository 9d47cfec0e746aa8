"""The cookie transport in a real headless Chromium, against the example app as a user runs it.

The example app's ``/cookie-demo`` page logs in with cookies, calls protected routes (the
extension's and the host's), refreshes and logs out; its script can read the CSRF cookie but
never a token. A page of another origin on the same site (another port of the same host, so
the browser sends the ``SameSite`` cookies along) posts a form to the API: refused by the CSRF
check, and the session lives on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import STRONG_PASSWORD
from .example_process import example_app
from .http.test_docs_browser import chromium_path, launch_chromium
from .serving import free_port

__all__ = ["chromium_path"]  # the fixture, shared with the docs browser test

EMAIL = "browser@example.com"


@pytest.fixture(scope="module")
def example_url(tmp_path_factory: pytest.TempPathFactory) -> Any:
    directory = tmp_path_factory.mktemp("cookie-browser")
    with example_app(
        directory,
        "-m",
        "example_app",
        DATABASE_URL=f"sqlite://{directory / 'example.sqlite3'}",
        RATE_LIMIT_ENABLED="false",
        SANIC_AUTH_BCRYPT_ROUNDS="4",  # the page's cookies are tested here, not hashing costs
    ) as base_url:
        registered = httpx.post(
            f"{base_url}/api/v1/auth/register",
            json={"email": EMAIL, "password": STRONG_PASSWORD},
            trust_env=False,
        )
        assert registered.status_code == 201, registered.text
        yield base_url


async def test_a_page_logs_in_with_cookies_and_a_cross_origin_form_post_is_refused(
    example_url: str, chromium_path: str, tmp_path: Path
) -> None:
    from playwright.async_api import Page, Route, async_playwright

    async def press(page: Page, button: str, status: int) -> str:
        await page.evaluate("document.getElementById('out').dataset.status = ''")
        await page.click(f"#{button}")
        await page.wait_for_selector("#out:not([data-status=''])", timeout=20_000)
        text: str = await page.inner_text("#out")
        assert await page.get_attribute("#out", "data-status") == str(status), text
        return text

    async def csrf_cookie(page: Page) -> str | None:
        cookie: str = await page.evaluate("document.cookie")
        values = dict(part.split("=", 1) for part in cookie.split("; ") if "=" in part)
        return values.get("csrf_token")

    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright, chromium_path)
        try:
            context = await browser.new_context()
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))

            await page.goto(f"{example_url}/cookie-demo")
            await page.fill("#email", EMAIL)
            await page.fill("#password", STRONG_PASSWORD)
            login = await press(page, "login-button", 200)
            assert '"token_type":"cookie"' in login and "access_token" not in login

            # The page's script sees the CSRF cookie only; the tokens are HttpOnly.
            visible = await page.evaluate("document.cookie")
            assert "csrf_token=" in visible and "eyJ" not in visible
            stored = {cookie["name"]: cookie for cookie in await context.cookies()}
            assert stored["access_token"]["httpOnly"] and stored["refresh_token"]["httpOnly"]
            assert stored["refresh_token"]["path"] == "/api/v1/auth"
            assert stored["refresh_token"]["sameSite"] == "Strict"

            assert EMAIL in await press(page, "me", 200)
            assert f"Hello, {EMAIL}!" in await press(page, "hello", 200)
            before = await csrf_cookie(page)
            assert '"token_type":"cookie"' in await press(page, "refresh", 200)
            assert await csrf_cookie(page) not in (None, before)
            assert EMAIL in await press(page, "me", 200)

            # Another origin of the same site: its form post carries the cookies, not the
            # CSRF header, and changes nothing.
            attacker = f"http://127.0.0.1:{free_port()}"

            async def attack_page(route: Route) -> None:
                await route.fulfill(
                    content_type="text/html",
                    body=(
                        f'<form id="f" method="POST" action="{example_url}/api/v1/auth/logout-all"'
                        ' enctype="text/plain"><input name="a" value="b"></form>'
                        "<script>document.getElementById('f').submit()</script>"
                    ),
                )

            await page.route(f"{attacker}/**", attack_page)
            async with page.expect_response(f"{example_url}/api/v1/auth/logout-all") as posted:
                await page.goto(f"{attacker}/win-a-prize")
            refused = await posted.value
            assert refused.status == 403
            assert (await refused.json())["errors"][0]["code"] == "CSRF_FAILED"
            # the post did carry the session's cookies: the refusal was the CSRF check's
            assert "access_token=" in (await refused.request.all_headers()).get("cookie", "")

            await page.goto(f"{example_url}/cookie-demo")
            assert EMAIL in await press(page, "me", 200)  # still signed in
            await press(page, "logout", 200)
            assert await csrf_cookie(page) is None
            assert {c["name"] for c in await context.cookies()}.isdisjoint(
                {"access_token", "refresh_token", "csrf_token"}
            )
            await press(page, "me", 401)
            await page.screenshot(path=str(tmp_path / "cookie-demo.png"))
        finally:
            await browser.close()
    assert errors == []
