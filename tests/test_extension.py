from __future__ import annotations

import asyncio
from typing import Any

from sanic import Request, Sanic, json
from sanic.response import HTTPResponse
from tortoise import Tortoise
from tortoise.contrib.sanic import register_tortoise

from sanic_auth_sessions import (
    DeviceInfo,
    User,
    UserManager,
    UserSession,
    current_auth,
    require_auth,
    require_superuser,
)
from sanic_auth_sessions.core.models import PasswordResetToken
from sanic_auth_sessions.db.connection import tortoise_config

from .conftest import STRONG_PASSWORD, RunningApp, bearer
from .helpers import assert_error
from .host_models import Profile


def host_routes(app: Sanic) -> None:
    @app.get("/api/v1/hello")
    @require_auth
    async def hello(request: Request) -> HTTPResponse:
        auth = current_auth(request)
        assert request.ctx.user is auth.user and request.ctx.auth_session is auth.session
        return json({"email": auth.user.email, "session": str(auth.session.id)})

    @app.get("/internal/stats")
    @require_superuser
    async def stats(request: Request) -> HTTPResponse:
        return json({"users": await User.all().count()})

    @app.get("/plain")
    async def plain(request: Request) -> HTTPResponse:
        raise ValueError("boom")


async def test_host_route_guard(make_app: Any) -> None:
    api: RunningApp = await make_app(setup=host_routes)
    tokens = await api.user_with_tokens("host@example.com")
    ok = await api.client.get("/api/v1/hello", headers=bearer(tokens))
    assert ok.status_code == 200
    assert ok.json()["email"] == "host@example.com"
    assert_error(await api.client.get("/api/v1/hello"), 401, "AUTH_REQUIRED")
    # Revocation takes effect on the very next request on host routes too.
    await api.client.post(api.url("/auth/logout-all"), headers=bearer(tokens))
    assert_error(await api.client.get("/api/v1/hello", headers=bearer(tokens)), 401)


async def test_superuser_guard(make_app: Any) -> None:
    api: RunningApp = await make_app(
        setup=host_routes,
        first_superuser_email="root@example.com",
        first_superuser_password=STRONG_PASSWORD,
    )
    user = await api.user_with_tokens("plain@example.com")
    assert_error(await api.client.get("/internal/stats", headers=bearer(user)), 403)
    root = await api.login("root@example.com")
    response = await api.client.get("/internal/stats", headers=bearer(root))
    assert response.status_code == 200 and response.json()["users"] == 2


async def test_host_errors_keep_the_host_format(make_app: Any) -> None:
    api: RunningApp = await make_app(setup=host_routes)
    response = await api.client.get("/plain")
    assert response.status_code == 500
    assert "success" not in response.text
    unknown = await api.client.get(api.url("/nothing-here"))
    assert_error(unknown, 404, "NOT_FOUND")
    wrong_method = await api.client.get(api.url("/auth/login"))
    assert_error(wrong_method, 405, "METHOD_NOT_ALLOWED")


async def test_first_superuser_is_created_once(make_app: Any) -> None:
    settings = {
        "first_superuser_email": "Admin@Example.com",
        "first_superuser_password": STRONG_PASSWORD,
    }
    api: RunningApp = await make_app(**settings)
    admin = await User.get(email="admin@example.com")
    assert admin.is_superuser
    manager: UserManager = api.app.ctx.auth_manager
    # Several workers starting at once: no duplicate, no crash.
    results = await asyncio.gather(
        *(manager.ensure_superuser("admin@example.com", STRONG_PASSWORD) for _ in range(5))
    )
    assert results == ["superuser"] * 5
    assert await User.filter(email="admin@example.com").count() == 1


class RecordingManager(UserManager):
    events: list[tuple[str, str]] = []

    async def on_after_register(self, user: User, device: DeviceInfo | None) -> None:
        self.events.append(("register", user.email))

    async def on_after_login(self, user: User, session: UserSession) -> None:
        self.events.append(("login", user.email))

    async def on_failed_login(self, email: str, device: DeviceInfo | None) -> None:
        self.events.append(("failed_login", email))

    async def on_refresh_token_reuse(self, session_id: Any, user_id: Any) -> None:
        self.events.append(("reuse", str(session_id)))

    async def on_after_forgot_password(self, user: User, token: str) -> None:
        self.events.append(("forgot", user.email))

    async def on_after_reset_password(self, user: User) -> None:
        self.events.append(("reset", user.email))

    async def on_after_password_change(self, user: User) -> None:
        self.events.append(("password_change", user.email))

    async def on_after_update(self, user: User, changes: dict[str, Any]) -> None:
        self.events.append(("update", ",".join(sorted(changes))))


async def test_hooks_are_called(make_app: Any) -> None:
    RecordingManager.events = []
    api: RunningApp = await make_app(manager_class=RecordingManager)
    tokens = await api.user_with_tokens("hook@example.com")
    await api.client.post(
        api.url("/auth/login"), json={"email": "hook@example.com", "password": "nope nope nope"}
    )
    await api.client.patch(api.url("/users/me"), json={"first_name": "H"}, headers=bearer(tokens))
    await api.client.patch(
        api.url("/users/me/password"),
        json={"current_password": STRONG_PASSWORD, "new_password": "brand new passphrase 77"},
        headers=bearer(tokens),
    )
    await api.client.post(api.url("/auth/refresh"), json={"refresh_token": tokens["refresh_token"]})
    await api.client.post(api.url("/auth/refresh"), json={"refresh_token": tokens["refresh_token"]})
    await api.client.post(
        api.url("/auth/password-reset/request"), json={"email": "hook@example.com"}
    )
    await api.settled()
    token = api.mailer.last_token_for("hook@example.com")
    await api.client.post(
        api.url("/auth/password-reset/confirm"),
        json={"token": token, "new_password": "yet another passphrase 99"},
    )
    kinds = [kind for kind, _ in RecordingManager.events]
    assert kinds == [
        "register",
        "login",
        "failed_login",
        "update",
        "password_change",
        "reuse",
        "forgot",
        "reset",
    ]
    assert await PasswordResetToken.filter(used_at__isnull=True).count() == 0


def host_owned_tortoise(url: str) -> Any:
    def setup(app: Sanic) -> None:
        register_tortoise(
            app,
            config=tortoise_config(url, extra_apps={"models": {"models": ["tests.host_models"]}}),
        )

        # register_tortoise(generate_schemas=True) only acts in the main process, which an
        # in-process server has not got; the host creates its tables itself here.
        @app.before_server_start
        async def create_tables(app: Sanic) -> None:
            await Tortoise.generate_schemas(safe=True)

    return setup


async def test_host_app_owning_tortoise_with_its_own_models(
    make_app: Any, database_url: str
) -> None:
    api: RunningApp = await make_app(database_url=None, setup=host_owned_tortoise(database_url))
    if database_url.startswith("postgres"):
        await Profile.all().delete()
    user = await api.register("owner@example.com")
    stored = await User.get(id=user["id"])
    await Profile.create(user=stored, favourite_colour="green")
    profile = await Profile.get(user__email="owner@example.com")
    assert profile.favourite_colour == "green"
    tokens = await api.login("owner@example.com")
    assert (await api.client.get(api.url("/users/me"), headers=bearer(tokens))).status_code == 200
    health = await api.client.get("/health")
    assert health.json()["checks"]["database"]["status"] == "healthy"
