"""Passkeys in a real browser: headless Chromium with a virtual authenticator (CTAP2, internal,
resident keys, user verification) registers a passkey through our options and verify routes
with ``navigator.credentials.create`` and logs in with it, usernameless, with
``navigator.credentials.get``, from a small page the API's own server serves (WebAuthn needs a
secure context: ``http://localhost`` is one, and the RP id is then ``localhost``). A replayed
assertion and an assertion made on another origin are refused.

Chromium is never downloaded: ``CHROMIUM_PATH`` or ``chromium`` on the PATH, driven by
Playwright for Python; without them the test is skipped, unless ``SANIC_AUTH_REQUIRE_BROWSER=1``
(set in CI) turns the skip into a failure.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
from sanic import HTTPResponse, Request, Sanic, html, text
from tortoise.backends.base.executor import EXECUTOR_CACHE

from sanic_auth_sessions.core.models import Passkey, SecurityEvent

from ..conftest import RecordingMailer, build_app
from ..serving import free_port, loopback_client
from . import test_docs_browser as browser

chromium_path = browser.chromium_path  # the fixture: Chromium and Playwright, or a skip

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Passkeys</title></head>
<body>
<h1>Passkeys</h1>
<p id="status">Ready.</p>
<script src="/passkey-demo.js"></script>
</body>
</html>
"""

SCRIPT = """
const API = "/api/v1";

function show(message) {
  document.getElementById("status").textContent = message;
}

async function call(path, body, token) {
  const headers = {"Content-Type": "application/json"};
  if (token) headers.Authorization = "Bearer " + token;
  const response = await fetch(API + path, {
    method: "POST", headers, body: JSON.stringify(body || {}),
  });
  return {status: response.status, body: await response.json()};
}

async function answer(options) {
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
  const credential = await navigator.credentials.get({publicKey});
  return credential.toJSON();
}

window.registerPasskey = async (token) => {
  const options = await call("/users/me/passkeys/register/options", {name: "Virtual"}, token);
  if (options.status !== 200) return options;
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options.body.public_key);
  const credential = await navigator.credentials.create({publicKey});
  const verified = await call(
    "/users/me/passkeys/register/verify",
    {challenge_id: options.body.challenge_id, credential: credential.toJSON()},
    token,
  );
  show(verified.status === 201 ? "Passkey registered." : "Registration refused.");
  return verified;
};

window.logInWithPasskey = async () => {
  const options = await call("/auth/passkeys/authenticate/options", {purpose: "login"});
  const body = {
    challenge_id: options.body.challenge_id,
    credential: await answer(options.body.public_key),
  };
  const first = await call("/auth/passkeys/authenticate/verify", body);
  const replayed = await call("/auth/passkeys/authenticate/verify", body);
  show(first.status === 200 ? "Signed in as " + first.body.user.email + "." : "Refused.");
  return {first, replayed};
};

window.answer = answer;
"""

# The same browser, on another origin (still a registrable suffix of the RP id): its
# assertions carry that origin, which the API does not allow.
ELSEWHERE = "<!doctype html><title>Elsewhere</title><p>Another site on localhost.</p>"
ANSWER_ELSEWHERE = """async (options) => {
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
  const credential = await navigator.credentials.get({publicKey});
  return credential.toJSON();
}"""

VIRTUAL_AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
}


def demo_page(app: Sanic) -> None:
    @app.get("/passkey-demo")
    async def page(request: Request) -> HTTPResponse:
        return html(PAGE)

    @app.get("/passkey-demo.js")
    async def script(request: Request) -> HTTPResponse:
        return text(SCRIPT, content_type="text/javascript; charset=utf-8")


@asynccontextmanager
async def passkey_server(database_url: str) -> AsyncIterator[str]:
    """The API and its demo page on ``http://localhost:<port>``, that origin allowed."""
    EXECUTOR_CACHE.clear()  # Tortoise caches compiled SQL per connection name
    port = free_port()
    origin = f"http://localhost:{port}"
    app = build_app(
        database_url,
        mailer=RecordingMailer(),
        setup=demo_page,
        webauthn_rp_id="localhost",
        webauthn_origins=origin,
        csp_mode="relaxed",  # the page loads its own script
    )
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield origin
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


async def signed_in(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    password = "correct horse battery staple"
    registered = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": password}
    )
    assert registered.status_code == 201, registered.text
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    tokens: dict[str, Any] = login.json()
    return tokens


async def test_register_and_log_in_with_a_virtual_authenticator(
    chromium_path: str, database_url: str, tmp_path: Path
) -> None:
    from playwright.async_api import Route, async_playwright

    async with (
        passkey_server(database_url) as origin,
        loopback_client(origin, timeout=30) as client,
        async_playwright() as playwright,
    ):
        chromium = await browser.launch_chromium(
            playwright, chromium_path, "--host-resolver-rules=MAP localhost 127.0.0.1"
        )
        try:
            page = await chromium.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            cdp = await page.context.new_cdp_session(page)
            await cdp.send("WebAuthn.enable", {"enableUI": False})
            added = await cdp.send(
                "WebAuthn.addVirtualAuthenticator", {"options": VIRTUAL_AUTHENTICATOR}
            )

            tokens = await signed_in(client, "browser@example.com")
            response = await page.goto(f"{origin}/passkey-demo", wait_until="load")
            assert response is not None and response.status == 200
            assert await page.evaluate("window.isSecureContext") is True

            registered = await page.evaluate(
                "(token) => window.registerPasskey(token)", tokens["access_token"]
            )
            assert registered["status"] == 201, registered
            assert registered["body"]["name"] == "Virtual"
            assert registered["body"]["transports"] == ["internal"]
            stored = await cdp.send(
                "WebAuthn.getCredentials", {"authenticatorId": added["authenticatorId"]}
            )
            assert len(stored["credentials"]) == 1
            assert stored["credentials"][0]["isResidentCredential"] is True
            assert stored["credentials"][0]["rpId"] == "localhost"

            logged_in = await page.evaluate("window.logInWithPasskey()")
            first, replayed = logged_in["first"], logged_in["replayed"]
            assert first["status"] == 200, first
            assert first["body"]["user"]["email"] == "browser@example.com"
            claims = jwt.decode(first["body"]["access_token"], options={"verify_signature": False})
            assert claims["amr"] == ["pop", "mfa"]
            me = await client.get(
                "/api/v1/users/me",
                headers={"Authorization": f"Bearer {first['body']['access_token']}"},
            )
            assert me.status_code == 200 and me.json()["email"] == "browser@example.com"
            assert replayed["status"] == 400, replayed
            assert replayed["body"]["errors"][0]["code"] == "WEBAUTHN_CHALLENGE_INVALID"
            assert await page.locator("#status").inner_text() == (
                "Signed in as browser@example.com."
            )
            shot = tmp_path / "passkeys.png"  # kept in the test's temporary folder
            await page.screenshot(path=str(shot))

            # The same authenticator, used by a page of another origin.
            elsewhere_origin = f"http://localhost:{free_port()}"

            async def elsewhere(route: Route) -> None:
                await route.fulfill(status=200, content_type="text/html", body=ELSEWHERE)

            await page.route(f"{elsewhere_origin}/**", elsewhere)
            await page.goto(f"{elsewhere_origin}/", wait_until="load")
            options = await client.post("/api/v1/auth/passkeys/authenticate/options", json={})
            assert options.status_code == 200, options.text
            credential = await page.evaluate(ANSWER_ELSEWHERE, options.json()["public_key"])
            refused = await client.post(
                "/api/v1/auth/passkeys/authenticate/verify",
                json={"challenge_id": options.json()["challenge_id"], "credential": credential},
            )
            assert refused.status_code == 401, refused.text
            assert refused.json()["errors"][0]["code"] == "AUTH_INVALID_CREDENTIALS"
            passkey = await Passkey.get(user__email="browser@example.com")
            assert passkey.flagged is False and passkey.last_used_at is not None
            assert await SecurityEvent.filter(type="passkey.added").count() == 1
        finally:
            await chromium.close()

    assert errors == []
    assert shot.read_bytes().startswith(b"\x89PNG")
