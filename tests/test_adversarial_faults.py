"""The database goes away and comes back, under a running app (PostgreSQL only).

The app reaches PostgreSQL through a TCP proxy (``tcp_proxy.py``) that the tests cut — the
listener closes and every open connection is aborted, as when the database host dies — and
restore. While cut: 503 with the contract's body, ``/health`` unhealthy. Once restored: the
same app serves again, without a restart. Requests cut half-way (the proxy is cut while the
request waits at a chosen point, between its reads and its writes) leave nothing half-written.
Row checks use a direct connection to PostgreSQL, not the proxy.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import asyncpg
import pytest
import pytest_asyncio

from sanic_auth_sessions import User, UserManager, UserSession
from sanic_auth_sessions.core.devices import DeviceInfo

from .conftest import (
    OTHER_STRONG_PASSWORD,
    POSTGRES_URL,
    STRONG_PASSWORD,
    RecordingMailer,
    RunningApp,
    bearer,
    build_app,
    empty_database_url,
    empty_postgres,
    requires_postgres,
    start_app,
    stop_app,
)
from .helpers import assert_error
from .tcp_proxy import TcpProxy

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    requires_postgres("fault injection needs a PostgreSQL server"),
]

STEP_TIMEOUT_S = 30


class Pauses:
    """Points where a request waits, once, until the test lets it go on."""

    def __init__(self) -> None:
        self._armed: dict[str, tuple[asyncio.Event, asyncio.Event]] = {}

    def arm(self, point: str) -> tuple[asyncio.Event, asyncio.Event]:
        pair = (asyncio.Event(), asyncio.Event())
        self._armed[point] = pair
        return pair

    def disarm(self) -> None:
        for _, release in self._armed.values():
            release.set()
        self._armed.clear()

    async def at(self, point: str) -> None:
        pair = self._armed.pop(point, None)
        if pair is not None:
            reached, release = pair
            reached.set()
            await release.wait()


PAUSES = Pauses()


class PausingHasher:
    """The app's hasher, pausing after a hash: after the reads, before the write."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def hash(self, password: str) -> str:
        hashed: str = await self._inner.hash(password)
        await PAUSES.at("hashed")
        return hashed


class PausingManager(UserManager):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hasher = PausingHasher(self.hasher)  # type: ignore[assignment]

    async def start_session(self, user: User, device: DeviceInfo, **kwargs: Any) -> Any:
        await PAUSES.at("start_session")
        return await super().start_session(user, device, **kwargs)

    async def revoke_user_sessions(
        self, user_id: UUID, *, keep_session_id: UUID | None = None
    ) -> int:
        # Called inside the transaction of a password change or reset, after its first write.
        await PAUSES.at("revoke_user_sessions")
        return await super().revoke_user_sessions(user_id, keep_session_id=keep_session_id)


@dataclass
class Faulty:
    api: RunningApp
    proxy: TcpProxy


def via(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


def direct_dsn() -> str:
    assert POSTGRES_URL is not None
    return POSTGRES_URL.replace("postgres://", "postgresql://", 1)


async def fetchval(sql: str, *args: Any) -> Any:
    """A value straight from PostgreSQL, not through the proxy."""
    connection = await asyncpg.connect(direct_dsn())
    try:
        return await connection.fetchval(sql, *args)
    finally:
        await connection.close()


async def count(sql: str, *args: Any) -> int:
    value: int = await fetchval(sql, *args)
    return value


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def faulty() -> AsyncIterator[Faulty]:
    url = await empty_database_url("postgres")
    target = urlsplit(url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    port = await proxy.start()
    mailer = RecordingMailer()
    app = build_app(via(url, port), mailer=mailer, manager_class=PausingManager)
    running, handle = await start_app(app, mailer)
    try:
        yield Faulty(running, proxy)
    finally:
        PAUSES.disarm()
        await proxy.restore()
        await stop_app(running, handle)
        await proxy.close()


@pytest_asyncio.fixture(loop_scope="module")
async def env(faulty: Faulty) -> AsyncIterator[Faulty]:
    PAUSES.disarm()
    await faulty.proxy.restore()
    await empty_postgres(direct_dsn())
    yield faulty
    PAUSES.disarm()
    await faulty.proxy.restore()


async def cut_during(proxy: TcpProxy, point: str, request: Awaitable[Any]) -> Any:
    """Send ``request``, cut the database when it reaches ``point``, return its response."""
    reached, release = PAUSES.arm(point)
    task = asyncio.ensure_future(request)
    try:
        await asyncio.wait_for(reached.wait(), STEP_TIMEOUT_S)
        await proxy.cut()
    finally:
        release.set()
    return await asyncio.wait_for(task, STEP_TIMEOUT_S)


def assert_unavailable(response: Any) -> None:
    assert_error(response, 503, "DATABASE_UNAVAILABLE")
    assert "Traceback" not in response.text and "asyncpg" not in response.text.lower()


async def test_while_cut_503_and_unhealthy_then_it_serves_again_without_restart(
    env: Faulty,
) -> None:
    api, proxy = env.api, env.proxy
    tokens = await api.user_with_tokens("ann@example.com")
    assert (await api.client.get("/health")).status_code == 200

    await proxy.cut()
    health = await api.client.get("/health")
    assert health.status_code == 503
    assert health.json()["status"] == "unhealthy"
    assert health.json()["checks"]["database"]["status"] == "unhealthy"
    credentials = {"email": "ann@example.com", "password": STRONG_PASSWORD}
    assert_unavailable(await api.client.post(api.url("/auth/login"), json=credentials))
    assert_unavailable(await api.client.get(api.url("/users/me"), headers=bearer(tokens)))
    assert_unavailable(
        await api.client.post(
            api.url("/auth/refresh"), json={"refresh_token": tokens["refresh_token"]}
        )
    )
    assert_unavailable(
        await api.client.post(
            api.url("/auth/register"),
            json={"email": "cut@example.com", "password": STRONG_PASSWORD},
        )
    )
    assert_unavailable(await api.client.get(api.url("/sessions/me"), headers=bearer(tokens)))

    await proxy.restore()
    health = await api.client.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "healthy"
    assert (await api.client.get(api.url("/users/me"), headers=bearer(tokens))).status_code == 200
    refreshed = await api.client.post(
        api.url("/auth/refresh"), json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    assert (await api.client.post(api.url("/auth/login"), json=credentials)).status_code == 200
    # Nothing was written during the cut.
    assert await count("SELECT count(*) FROM auth_users WHERE email = 'cut@example.com'") == 0
    assert await count("SELECT count(*) FROM auth_sessions") == 2


async def test_cut_twice_in_a_row_still_recovers(env: Faulty) -> None:
    api, proxy = env.api, env.proxy
    tokens = await api.user_with_tokens("bob@example.com")
    for _ in range(2):
        await proxy.cut()
        assert (await api.client.get("/health")).status_code == 503
        assert_unavailable(await api.client.get(api.url("/users/me"), headers=bearer(tokens)))
        await proxy.restore()
        me = await api.client.get(api.url("/users/me"), headers=bearer(tokens))
        assert me.status_code == 200, me.text


async def test_a_registration_cut_before_its_insert_leaves_no_user(env: Faulty) -> None:
    api, proxy = env.api, env.proxy
    response = await cut_during(
        proxy,
        "hashed",
        api.client.post(
            api.url("/auth/register"),
            json={"email": "half@example.com", "password": STRONG_PASSWORD},
        ),
    )
    assert_unavailable(response)
    await proxy.restore()
    assert await count("SELECT count(*) FROM auth_users") == 0
    # And the email is free: the registration can simply be retried.
    assert (await api.register("half@example.com"))["email"] == "half@example.com"


async def test_a_login_cut_before_its_session_insert_leaves_no_session(env: Faulty) -> None:
    api, proxy = env.api, env.proxy
    await api.register("cat@example.com")
    response = await cut_during(
        proxy,
        "start_session",
        api.client.post(
            api.url("/auth/login"), json={"email": "cat@example.com", "password": STRONG_PASSWORD}
        ),
    )
    assert_unavailable(response)
    await proxy.restore()
    assert await count("SELECT count(*) FROM auth_sessions") == 0
    tokens = await api.login("cat@example.com")
    assert await UserSession.filter(user_id=tokens["user"]["id"]).count() == 1


async def test_a_password_change_cut_inside_its_transaction_is_rolled_back(env: Faulty) -> None:
    api, proxy = env.api, env.proxy
    tokens = await api.user_with_tokens("dan@example.com")
    other_device = await api.login("dan@example.com")
    hash_query = "SELECT hashed_password FROM auth_users WHERE email = 'dan@example.com'"
    hash_before = await fetchval(hash_query)
    response = await cut_during(
        proxy,
        "revoke_user_sessions",  # the new hash is written, the sessions not yet revoked
        api.client.patch(
            api.url("/users/me/password"),
            json={"current_password": STRONG_PASSWORD, "new_password": OTHER_STRONG_PASSWORD},
            headers=bearer(tokens),
        ),
    )
    assert_unavailable(response)
    await proxy.restore()
    assert await fetchval(hash_query) == hash_before
    # Neither half happened: the old password still works, the new one does not, and the
    # other device's session was not revoked.
    assert await count("SELECT count(*) FROM auth_sessions WHERE is_active") == 2
    assert (await api.client.get(api.url("/users/me"), headers=bearer(other_device))).is_success
    assert (await api.login("dan@example.com"))["user"]["email"] == "dan@example.com"
    wrong = await api.client.post(
        api.url("/auth/login"),
        json={"email": "dan@example.com", "password": OTHER_STRONG_PASSWORD},
    )
    assert_error(wrong, 401)


async def test_a_password_reset_cut_inside_its_transaction_keeps_the_token_usable(
    env: Faulty,
) -> None:
    api, proxy = env.api, env.proxy
    tokens = await api.user_with_tokens("eve@example.com")
    requested = await api.client.post(
        api.url("/auth/password-reset/request"), json={"email": "eve@example.com"}
    )
    assert requested.status_code == 200
    await api.settled()
    token = api.mailer.last_token_for("eve@example.com")
    body = {"token": token, "new_password": OTHER_STRONG_PASSWORD}
    response = await cut_during(
        proxy,
        "revoke_user_sessions",  # the token is claimed and the hash written, inside one transaction
        api.client.post(api.url("/auth/password-reset/confirm"), json=body),
    )
    assert_unavailable(response)
    await proxy.restore()
    assert await count("SELECT count(*) FROM auth_password_reset_tokens WHERE used_at IS NULL") == 1
    assert (await api.client.get(api.url("/users/me"), headers=bearer(tokens))).is_success
    # The token was not spent: the reset simply succeeds when retried.
    retried = await api.client.post(api.url("/auth/password-reset/confirm"), json=body)
    assert retried.status_code == 200, retried.text
    assert_error(await api.client.get(api.url("/users/me"), headers=bearer(tokens)), 401)
    assert (await api.login("eve@example.com", OTHER_STRONG_PASSWORD))["user"][
        "email"
    ] == "eve@example.com"
