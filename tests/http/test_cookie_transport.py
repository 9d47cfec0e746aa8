"""The cookie transport (AUTH_TRANSPORT cookie and both): HttpOnly token cookies, their
attributes, refresh and logout by cookie, and the CSRF and origin checks, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from http.cookies import SimpleCookie
from typing import Any

import httpx
import pytest
from sanic import HTTPResponse, Request, Sanic, json

from sanic_auth_sessions import require_auth
from sanic_auth_sessions.core.config import AuthSettings, ConfigurationError

from ..conftest import (
    STRONG_PASSWORD,
    RunningApp,
    module_server,
    reclaim_tortoise,
)
from ..helpers import UNREACHABLE_OIDC_PROVIDERS, assert_error
from ..serving import loopback_client

ORIGIN = "https://app.example.com"
EVIL = "https://evil.example.net"
PREFIX = "/api/v1"


def host_routes(app: Sanic) -> None:
    """A host app's own guarded routes: the cookie and its CSRF check apply to them too."""

    @app.post("/host/notes")
    @require_auth
    async def add_note(request: Request) -> HTTPResponse:
        return json({"by": request.ctx.user.email}, status=201)

    @app.get("/host/notes")
    @require_auth
    async def list_notes(request: Request) -> HTTPResponse:
        return json({"by": request.ctx.user.email})


def serving(
    database_url: str, *, environment: str = "development", **settings: Any
) -> AbstractAsyncContextManager[RunningApp]:
    """A server with the host's routes above, for pages of ``ORIGIN``."""
    return module_server(
        database_url,
        setup=host_routes,
        environment=environment,
        csrf_trusted_origins=ORIGIN,
        **settings,
    )


@pytest.fixture(scope="module")
async def cookie_server(module_database_url: str) -> AsyncIterator[RunningApp]:
    async with serving(
        module_database_url,
        transport="cookie",
        # every feature on, so that the sweep below meets all their routes
        webauthn_rp_id="app.example.com",
        webauthn_origins=ORIGIN,
        oidc_providers=UNREACHABLE_OIDC_PROVIDERS,
        oauth_redirect_uris=f"{ORIGIN}/auth/callback/{{provider}}",
    ) as running:
        yield running


@pytest.fixture
async def site(cookie_server: RunningApp, database_url: str) -> AsyncIterator[Browser]:
    """A browser-like client of the cookie server: a cookie jar, and the page's origin."""
    await reclaim_tortoise(cookie_server, database_url)
    async with Browser(cookie_server.base_url) as browser:
        yield browser


class Browser:
    """An httpx client that keeps cookies like a browser and sends the page's ``Origin``."""

    def __init__(self, base_url: str, origin: str = ORIGIN) -> None:
        self.client = loopback_client(base_url, timeout=30, headers={"Origin": origin})

    async def __aenter__(self) -> Browser:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    def cookie(self, name: str) -> str | None:
        value: str | None = self.client.cookies.get(name)
        return value

    @property
    def csrf(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.cookie("csrf_token") or ""}

    async def signed_up(self, email: str, **headers: str) -> httpx.Response:
        registered = await self.client.post(
            f"{PREFIX}/auth/register", json={"email": email, "password": STRONG_PASSWORD}
        )
        assert registered.status_code == 201, registered.text
        return await self.login(email, **headers)

    async def login(self, email: str, **headers: str) -> httpx.Response:
        response = await self.client.post(
            f"{PREFIX}/auth/login",
            json={"email": email, "password": STRONG_PASSWORD},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        return response


def set_cookies(response: httpx.Response) -> dict[str, Any]:
    """The response's ``Set-Cookie`` headers, by cookie name (``http.cookies`` morsels)."""
    cookies: dict[str, Any] = {}
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            cookies[name] = morsel
    return cookies


async def test_a_cookie_login_sets_three_cookies_and_no_tokens_in_the_body(site: Browser) -> None:
    response = await site.signed_up("cookie@example.com")
    body = response.json()
    assert body["token_type"] == "cookie"
    assert "access_token" not in body and "refresh_token" not in body
    assert body["user"]["email"] == "cookie@example.com" and body["expires_in"] == 900
    assert response.headers["cache-control"] == "no-store"
    cookies = set_cookies(response)
    access, refresh, csrf = cookies["access_token"], cookies["refresh_token"], cookies["csrf_token"]
    assert access["httponly"] and access["samesite"] == "Lax" and access["path"] == "/"
    assert int(access["max-age"]) == 900
    assert refresh["httponly"] and refresh["samesite"] == "Strict"
    assert refresh["path"] == f"{PREFIX}/auth"
    session_ttl = AuthSettings.from_defaults(environment="test").refresh_token_ttl_s
    assert session_ttl - 60 <= int(refresh["max-age"]) <= session_ttl
    assert not csrf["httponly"] and csrf["samesite"] == "Strict" and csrf["path"] == "/"
    assert csrf["max-age"] == refresh["max-age"]
    # development: no Secure (plain http), no Domain (host-only)
    assert not any(morsel["secure"] or morsel["domain"] for morsel in cookies.values())
    assert access.value.startswith("eyJ") and refresh.value.startswith("eyJ")
    assert access.value != refresh.value


async def test_the_access_cookie_authenticates_safe_methods_without_the_csrf_header(
    site: Browser,
) -> None:
    await site.signed_up("reader@example.com")
    me = await site.client.get(f"{PREFIX}/users/me")
    assert me.status_code == 200 and me.json()["email"] == "reader@example.com"
    hosted = await site.client.get("/host/notes")
    assert hosted.status_code == 200 and hosted.json() == {"by": "reader@example.com"}


async def test_unsafe_methods_by_cookie_need_the_csrf_header_and_an_allowed_origin(
    site: Browser,
) -> None:
    await site.signed_up("writer@example.com")
    url = f"{PREFIX}/users/me"
    change = {"first_name": "Ada"}
    # no header, a wrong one, an empty one: refused, nothing changed
    assert_error(await site.client.patch(url, json=change), 403, "CSRF_FAILED")
    wrong = {"X-CSRF-Token": "x" + (site.cookie("csrf_token") or "")}
    assert_error(await site.client.patch(url, json=change, headers=wrong), 403, "CSRF_FAILED")
    empty = {"X-CSRF-Token": ""}
    assert_error(await site.client.patch(url, json=change, headers=empty), 403, "CSRF_FAILED")
    # the right header from another origin, or from none
    evil = {**site.csrf, "Origin": EVIL}
    assert_error(await site.client.patch(url, json=change, headers=evil), 403, "CSRF_FAILED")
    no_origin = loopback_client(str(site.client.base_url), cookies=site.client.cookies)
    async with no_origin:
        refused = await no_origin.patch(url, json=change, headers=site.csrf)
        assert_error(refused, 403, "CSRF_FAILED")
        # a Referer from the allowed origin stands in for a missing Origin
        referred = await no_origin.patch(
            url, json=change, headers={**site.csrf, "Referer": f"{ORIGIN}/settings?tab=1"}
        )
        assert referred.status_code == 200, referred.text
    assert (await site.client.get(url)).json()["first_name"] == "Ada"
    # host routes behind the guards are protected alike
    assert_error(await site.client.post("/host/notes"), 403, "CSRF_FAILED")
    created = await site.client.post("/host/notes", headers=site.csrf)
    assert created.status_code == 201


async def test_a_csrf_token_of_another_session_is_refused(
    site: Browser, cookie_server: RunningApp
) -> None:
    async with Browser(cookie_server.base_url) as alice, Browser(cookie_server.base_url) as bob:
        await alice.signed_up("alice@example.com")
        await bob.signed_up("bob@example.com")
        # A token that is well formed, and equal in cookie and header, but made for Bob's
        # session (e.g. planted by a sibling subdomain): refused for Alice's session.
        stolen = bob.cookie("csrf_token") or ""
        alice.client.cookies.set("csrf_token", stolen)
        refused = await alice.client.patch(
            f"{PREFIX}/users/me", json={"first_name": "Mallory"}, headers={"X-CSRF-Token": stolen}
        )
        assert_error(refused, 403, "CSRF_FAILED")


async def test_logins_asking_for_cookies_need_an_allowed_origin(site: Browser) -> None:
    await site.client.post(
        f"{PREFIX}/auth/register", json={"email": "origin@example.com", "password": STRONG_PASSWORD}
    )
    body = {"email": "origin@example.com", "password": STRONG_PASSWORD}
    refused = await site.client.post(f"{PREFIX}/auth/login", json=body, headers={"Origin": EVIL})
    assert_error(refused, 403, "CSRF_FAILED")
    assert not set_cookies(refused)
    form = {"username": "origin@example.com", "password": STRONG_PASSWORD}
    refused = await site.client.post(
        f"{PREFIX}/auth/login/oauth", data=form, headers={"Origin": "null"}
    )
    assert_error(refused, 403, "CSRF_FAILED")
    # no CSRF header is needed to log in: the page has no token yet
    allowed = await site.client.post(f"{PREFIX}/auth/login/oauth", data=form)
    assert allowed.status_code == 200 and allowed.json()["token_type"] == "cookie"


async def test_refresh_by_cookie_rotates_the_cookies_behind_the_csrf_check(site: Browser) -> None:
    await site.signed_up("refresh@example.com")
    first_refresh = site.cookie("refresh_token")
    first_csrf = site.cookie("csrf_token")
    url = f"{PREFIX}/auth/refresh"
    assert_error(await site.client.post(url), 403, "CSRF_FAILED")
    assert_error(await site.client.post(url, headers={**site.csrf, "Origin": EVIL}), 403)
    refreshed = await site.client.post(url, headers=site.csrf)
    assert refreshed.status_code == 200, refreshed.text
    body = refreshed.json()
    assert body == {"token_type": "cookie", "expires_in": 900}
    assert site.cookie("refresh_token") != first_refresh
    assert site.cookie("csrf_token") != first_csrf  # rotated with the session's tokens
    assert (await site.client.get(f"{PREFIX}/users/me")).status_code == 200
    # the spent refresh token, replayed from the body: reuse, the session is revoked
    # (a request that carries the refresh cookie passes the CSRF check first, body or not)
    assert_error(await site.client.post(url, json={"refresh_token": first_refresh}), 403)
    replay = await site.client.post(url, json={"refresh_token": first_refresh}, headers=site.csrf)
    assert_error(replay, 401, "AUTH_TOKEN_REUSED")
    assert (await site.client.get(f"{PREFIX}/users/me")).status_code == 401


async def test_refresh_without_any_token_is_refused_as_without_cookies(site: Browser) -> None:
    # no cookie: the body is needed, as with bearer tokens
    assert_error(await site.client.post(f"{PREFIX}/auth/refresh"), 400, "BAD_REQUEST")
    assert_error(await site.client.post(f"{PREFIX}/auth/refresh", json={}), 422)


async def test_logout_by_cookie_clears_the_cookies_and_ends_the_session(site: Browser) -> None:
    await site.signed_up("logout@example.com")
    access = site.cookie("access_token")
    url = f"{PREFIX}/auth/logout"
    refused = await site.client.post(url)
    assert_error(refused, 403, "CSRF_FAILED")
    assert not set_cookies(refused)  # a refused request leaves the cookies
    response = await site.client.post(url, headers=site.csrf)
    assert response.status_code == 200, response.text
    cleared = set_cookies(response)
    assert {name: int(morsel["max-age"]) for name, morsel in cleared.items()} == {
        "access_token": 0,
        "refresh_token": 0,
        "csrf_token": 0,
    }
    assert cleared["refresh_token"]["path"] == f"{PREFIX}/auth"
    assert cleared["access_token"]["path"] == "/" and cleared["csrf_token"]["path"] == "/"
    assert site.cookie("access_token") is None
    # the old access cookie, sent again, belongs to an ended session
    again = await site.client.get(f"{PREFIX}/users/me", cookies={"access_token": access or ""})
    assert_error(again, 401)


async def test_logout_all_and_account_deletion_clear_the_cookies(site: Browser) -> None:
    await site.signed_up("everything@example.com")
    response = await site.client.post(f"{PREFIX}/auth/logout-all", headers=site.csrf)
    assert response.status_code == 200 and response.json()["sessions_revoked"] == 1
    assert {int(m["max-age"]) for m in set_cookies(response).values()} == {0}
    await site.login("everything@example.com")
    stale = await site.client.request(
        "DELETE", f"{PREFIX}/users/me", json={"current_password": "wrong password!"}
    )
    assert_error(stale, 403, "CSRF_FAILED")
    deleted = await site.client.request("DELETE", f"{PREFIX}/users/me", headers=site.csrf)
    assert deleted.status_code == 200, deleted.text  # the session is fresh: no proof needed
    assert {int(m["max-age"]) for m in set_cookies(deleted).values()} == {0}


async def test_reauthenticate_by_cookie_replaces_only_the_access_cookie(site: Browser) -> None:
    await site.signed_up("again@example.com")
    before = site.cookie("access_token")
    response = await site.client.post(
        f"{PREFIX}/auth/reauthenticate", json={"password": STRONG_PASSWORD}, headers=site.csrf
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "cookie" and "access_token" not in body
    assert set(set_cookies(response)) == {"access_token"}
    assert site.cookie("access_token") != before


async def test_a_bearer_header_needs_no_csrf_in_cookie_mode(
    site: Browser, cookie_server: RunningApp
) -> None:
    response = await site.signed_up("mobile@example.com")
    access = set_cookies(response)["access_token"].value
    async with loopback_client(cookie_server.base_url) as app_client:
        changed = await app_client.patch(
            f"{PREFIX}/users/me",
            json={"first_name": "Bea"},
            headers={"Authorization": f"Bearer {access}"},
        )
    assert changed.status_code == 200, changed.text


async def test_both_mode_chooses_by_the_request(module_database_url: str) -> None:
    async with (
        serving(module_database_url, transport="both") as running,
        Browser(running.base_url) as page,
    ):
        await page.client.post(
            f"{PREFIX}/auth/register",
            json={"email": "both@example.com", "password": STRONG_PASSWORD},
        )
        mobile = await page.login("both@example.com")
        assert mobile.json()["token_type"] == "bearer" and "access_token" in mobile.json()
        assert not set_cookies(mobile)
        browser = await page.login("both@example.com", **{"X-Auth-Transport": "cookie"})
        assert browser.json()["token_type"] == "cookie"
        assert set(set_cookies(browser)) == {"access_token", "refresh_token", "csrf_token"}
        # the Authorization header wins over the cookie, and needs no CSRF header
        bearer = {"Authorization": f"Bearer {mobile.json()['access_token']}"}
        assert (await page.client.post("/host/notes", headers=bearer)).status_code == 201
        assert_error(await page.client.post("/host/notes"), 403, "CSRF_FAILED")
        assert (await page.client.post("/host/notes", headers=page.csrf)).status_code == 201
        # a body refresh without the header (a mobile client: no cookies) answers in the
        # body, as before
        async with loopback_client(running.base_url) as app_client:
            rotated = await app_client.post(
                f"{PREFIX}/auth/refresh",
                json={"refresh_token": mobile.json()["refresh_token"]},
            )
        assert rotated.json()["token_type"] == "bearer" and not set_cookies(rotated)
        # a refresh by the cookie, even without the header, is a cookie request: it needs
        # the CSRF proof, and answers in cookies
        assert_error(await page.client.post(f"{PREFIX}/auth/refresh"), 403, "CSRF_FAILED")
        by_cookie = await page.client.post(f"{PREFIX}/auth/refresh", headers=page.csrf)
        assert by_cookie.status_code == 200, by_cookie.text
        assert by_cookie.json()["token_type"] == "cookie" and set_cookies(by_cookie)


async def test_bearer_mode_ignores_cookies(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("plain@example.com")
    assert (
        "set-cookie"
        not in (
            await api.client.post(
                api.url("/auth/login"),
                json={"email": "plain@example.com", "password": STRONG_PASSWORD},
            )
        ).headers
    )
    response = await api.client.get(
        api.url("/users/me"), cookies={"access_token": tokens["access_token"]}
    )
    assert_error(response, 401, "AUTH_REQUIRED")


async def test_cookies_are_secure_outside_development_and_take_the_domain(
    module_database_url: str,
) -> None:
    async with serving(
        module_database_url,
        transport="cookie",
        environment="test",
        cookie_domain="example.com",
    ) as running:
        async with Browser(running.base_url) as page:
            await page.client.post(
                f"{PREFIX}/auth/register",
                json={"email": "secure@example.com", "password": STRONG_PASSWORD},
            )
            response = await page.login("secure@example.com")
        cookies = set_cookies(response)
        assert set(cookies) == {"access_token", "refresh_token", "csrf_token"}
        assert all(morsel["secure"] for morsel in cookies.values())
        assert {morsel["domain"] for morsel in cookies.values()} == {"example.com"}


def test_a_cookie_transport_without_origins_stops_the_start() -> None:
    with pytest.raises(ConfigurationError, match="AUTH_CSRF_TRUSTED_ORIGINS"):
        AuthSettings.from_defaults(environment="test", transport="cookie")
    settings = AuthSettings.from_defaults(environment="test", transport="both", cors_origins=ORIGIN)
    assert settings.csrf_origins == (ORIGIN,)
    with pytest.raises(ConfigurationError):
        AuthSettings.from_defaults(
            environment="test", transport="cookie", cors_origins=ORIGIN, cookie_csrf_name="a b"
        )


def concrete_paths(app: Sanic) -> list[tuple[str, str]]:
    """(method, path) of every route of the app, path parameters filled with made-up ids."""
    found: list[tuple[str, str]] = []
    for route in app.router.routes:
        path = "/" + route.path.lstrip("/")
        for part in route.parts:
            if part.startswith("<"):
                name, _, kind = part.strip("<>").partition(":")
                value = "0b7c6e1e-8f51-4f37-9d2f-1b7d1e0c1a2b" if kind == "uuid" else "x"
                if name == "provider":
                    value = "corp"
                path = path.replace(part, value, 1)
        found.extend((method, path) for method in sorted(route.methods) if method != "OPTIONS")
    return sorted(set(found))


async def test_every_guarded_route_takes_the_cookie_and_every_unsafe_one_checks_csrf(
    site: Browser, cookie_server: RunningApp
) -> None:
    """A sweep of the whole app: each route that refuses an anonymous caller (401) accepts
    the access cookie, and each such route with an unsafe method refuses it without the
    CSRF header."""
    await site.signed_up("sweep@example.com")
    anonymous = loopback_client(cookie_server.base_url, headers={"Origin": ORIGIN})
    guarded: list[tuple[str, str]] = []
    async with anonymous:
        for method, path in concrete_paths(cookie_server.app):
            response = await anonymous.request(method, path)
            if response.status_code == 401 and path != f"{PREFIX}/auth/introspect":
                guarded.append((method, path))
    assert len(guarded) > 30, guarded
    unsafe = [(m, p) for m, p in guarded if m not in ("GET", "HEAD")]
    assert len(unsafe) > 15, unsafe
    # the routes of passkeys and social login are among them
    assert {
        ("POST", f"{PREFIX}/users/me/passkeys/register/options"),
        ("POST", f"{PREFIX}/oauth/link/corp"),
        ("DELETE", f"{PREFIX}/oauth/accounts/corp"),
    } <= set(unsafe), unsafe
    for method, path in unsafe:
        refused = await site.client.request(method, path)
        assert_error(refused, 403, "CSRF_FAILED")
    for method, path in guarded:
        if path.endswith(("/logout", "/logout-all")) or (method, path) == (
            "DELETE",
            f"{PREFIX}/users/me",
        ):
            continue  # they would end the session the sweep uses
        response = await site.client.request(method, path, headers=site.csrf)
        assert response.status_code != 401, (method, path, response.text)
        if response.status_code == 403:
            assert response.json()["errors"][0]["code"] != "CSRF_FAILED", (method, path)


async def test_bytes_that_are_no_token_in_the_csrf_header_are_a_403(site: Browser) -> None:
    await site.signed_up("bytes@example.com")
    response = await site.client.patch(
        f"{PREFIX}/users/me", json={"first_name": "X"}, headers={"X-CSRF-Token": b"\xff\xfe"}
    )
    assert_error(response, 403, "CSRF_FAILED")


async def test_a_request_with_the_refresh_cookie_is_checked_before_its_body(
    site: Browser,
) -> None:
    """The order of checks: the CSRF check (3) before the media type (5) and the body (6)."""
    await site.signed_up("order@example.com")
    url = f"{PREFIX}/auth/refresh"
    odd = await site.client.post(url, content=b"x", headers={"Content-Type": "text/plain"})
    assert_error(odd, 403, "CSRF_FAILED")
    with_proof = await site.client.post(
        url, content=b"x", headers={"Content-Type": "text/plain", **site.csrf}
    )
    assert_error(with_proof, 415)


async def test_logout_by_the_refresh_cookie_needs_the_csrf_proof_even_with_a_bearer_header(
    site: Browser,
) -> None:
    response = await site.signed_up("mixed@example.com")
    access = set_cookies(response)["access_token"].value
    url = f"{PREFIX}/auth/logout"
    bearer_only = {"Authorization": f"Bearer {access}", "Origin": EVIL}
    assert_error(await site.client.post(url, headers=bearer_only), 403, "CSRF_FAILED")
    assert (await site.client.get(f"{PREFIX}/users/me")).status_code == 200  # still signed in
    done = await site.client.post(url, headers={**bearer_only, **site.csrf, "Origin": ORIGIN})
    assert done.status_code == 200, done.text


async def test_reauthenticate_by_cookie_answers_in_cookies_without_the_header(
    module_database_url: str,
) -> None:
    """With ``both``, a request authenticated by the access cookie gets its new access token
    in the cookie even without ``X-Auth-Transport``: never in a body scripts can read."""
    async with serving(module_database_url, transport="both") as running:
        async with Browser(running.base_url) as page:
            await page.client.post(
                f"{PREFIX}/auth/register",
                json={"email": "reauth@example.com", "password": STRONG_PASSWORD},
            )
            await page.login("reauth@example.com", **{"X-Auth-Transport": "cookie"})
            response = await page.client.post(
                f"{PREFIX}/auth/reauthenticate",
                json={"password": STRONG_PASSWORD},
                headers=page.csrf,
            )
        assert response.status_code == 200, response.text
        assert "access_token" not in response.json()
        assert response.json()["token_type"] == "cookie"
        assert set(set_cookies(response)) == {"access_token"}
