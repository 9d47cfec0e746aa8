"""Shared fixtures: a real Sanic server per test on SQLite and, when
``TEST_DATABASE_URL`` is set, on PostgreSQL too; an httpx client talking HTTP to it.

When ``TEST_PGBOUNCER_URL`` is set (a database through PgBouncer in transaction mode), the
modules in ``BEHIND_PGBOUNCER`` also run against it, with ``AUTH_DATABASE_POOLER`` set."""

from __future__ import annotations

import asyncio
import contextlib
import json as json_module
import logging
import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import coverage
import httpx
import jwt
import pytest
from sanic import Sanic
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.exceptions import ConfigurationError
from xdist.plugin import pytest_xdist_auto_num_workers as xdist_cores

from sanic_auth_sessions import AuthSessions, InMemoryMailer, UserManager
from sanic_auth_sessions.db.connection import init_database
from sanic_auth_sessions.http.runtime import auth_runtime

from .helpers import TOTP_CLOCK
from .redis_server import redis_url  # noqa: F401  (a fixture for every test module)
from .serving import free_port, loopback_client

STRONG_PASSWORD = "correct horse battery staple"
OTHER_STRONG_PASSWORD = "Tr0ub4dor&3-zebra-quilt"
# Under pytest-xdist each worker process has a PostgreSQL database of its own (created at
# the start of its session), so that workers never empty each other's tables.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER") or None  # "gw0", "gw1", ...


def worker_database(url: str | None) -> str | None:
    """``url`` with the worker's name appended to its database name, under pytest-xdist."""
    if url is None or XDIST_WORKER is None:
        return url
    address, _, query = url.partition("?")
    server, _, name = address.rpartition("/")
    return f"{server}/{name}_{XDIST_WORKER}" + (f"?{query}" if query else "")


SHARED_POSTGRES_URL = os.environ.get("TEST_DATABASE_URL") or None  # tox sets it empty
POSTGRES_URL = worker_database(SHARED_POSTGRES_URL)

DATABASES = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])
PGBOUNCER_URL = worker_database(os.environ.get("TEST_PGBOUNCER_URL") or None)
BEHIND_PGBOUNCER = {
    "tests.http.test_routes_auth",
    "tests.http.test_routes_sessions",
    "tests.db.test_cleanup",
    "tests.db.test_pooler",
}


# The tests' temporary files (``tmp_path``: their SQLite databases, the example apps' files) go
# to a memory file system where the machine has one, unless TMPDIR (or ``--basetemp``) says
# otherwise: a SQLite commit there costs no disk flush (0.02 ms instead of 0.7 ms, 0.3 ms of it
# CPU, on the 2-core machine of bench/RESULTS.md). What is tested does not depend on it.
# Only with room to spare: a run writes about 100 MB there (a PostgreSQL data directory,
# Chromium profiles, pytest keeping its last three runs), and a container's /dev/shm is often
# 64 MB.
MEMORY_TMP = Path("/dev/shm")
MEMORY_TMP_MIN_FREE = 1 << 30


def memory_tmp_usable(directory: Path = MEMORY_TMP, min_free: int = MEMORY_TMP_MIN_FREE) -> bool:
    """Whether the tests' temporary files go to ``directory``."""
    if "TMPDIR" in os.environ or not directory.is_dir() or not os.access(directory, os.W_OK):
        return False
    return shutil.disk_usage(directory).free >= min_free


def pytest_configure(config: pytest.Config) -> None:
    if memory_tmp_usable():
        tempfile.tempdir = str(MEMORY_TMP)


# A worker spends about a quarter of its time waiting for processes it started (servers
# starting and stopping, a browser, PostgreSQL restarts, clocks running out), its core idle
# meanwhile. One worker more than there are cores keeps them busy: on 2 cores, three workers
# took 0.89 of the wall time of two for the same CPU (bench/RESULTS.md, "Test suite").
EXTRA_WORKERS = 1


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``--numprocesses=auto`` (the default, ``pyproject.toml``): pytest-xdist's count of the
    cores plus ``EXTRA_WORKERS``, up to ``--maxprocesses``. ``PYTEST_XDIST_AUTO_NUM_WORKERS``
    still decides when set (pytest-xdist's own hook reads it)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    return xdist_cores(config) + EXTRA_WORKERS


# Sweeps and fuzzing (``@pytest.mark.coverage_paused``: the authorization sweep and matrix, the
# OpenAPI fuzzing) run the same code paths thousands of times. Coverage's tracer more than
# doubles their CPU time on Python 3.11, and adds almost nothing: without them the suite's
# coverage is 0.06 points lower (bench/RESULTS.md). They run with measurement paused, so the
# coverage reported is what the other tests reach.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    if item.get_closest_marker("coverage_paused") is None:
        yield
        return
    # Every measurement started (an xdist worker of pytest-cov has two, one paused under the
    # other), stopped from the top, started again from the bottom.
    stopped = []
    while (measuring := coverage.Coverage.current()) is not None:
        measuring.stop()
        stopped.append(measuring)
    try:
        yield
    finally:
        for measuring in reversed(stopped):
            measuring.start()


# The modules that take longest (real server processes, a browser, many servers of their
# own), longest first, as measured (bench/RESULTS.md, "Test suite"). pytest-xdist
# (``--dist=loadfile --no-loadscope-reorder``) hands modules out in collection order: these go
# first, so that no worker is left with a long one while the others are done. (Its default
# order, most tests first, put the process-starting modules, which have few tests, last.)
LONGEST_FIRST = [
    "tests/test_startup.py",
    "tests/test_example_app.py",
    "tests/http/test_server_health.py",
    "tests/test_frontend_replay.py",
    "tests/test_adversarial_http.py",
    "tests/http/test_openapi.py",
    "tests/test_adversarial_authz.py",
    "tests/test_readme.py",
    "tests/db/test_database_restart.py",
    "tests/test_adversarial_workers.py",
    "tests/test_generated_client.py",
    "tests/http/test_authorization_matrix.py",
    "tests/http/test_social_login.py",
    "tests/http/test_fuzz_openapi.py",
    "tests/http/test_mfa.py",
    "tests/http/test_routes_email.py",
    "tests/test_cookie_browser.py",
    "tests/http/test_docs_browser.py",
    "tests/http/test_routes_rate_limits.py",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The ``pgbouncer`` database only for the modules in ``BEHIND_PGBOUNCER``; the modules of
    ``LONGEST_FIRST`` first (the order within a module is kept)."""
    rank = {path: index for index, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.partition("::")[0], len(rank)))
    elsewhere = [
        item
        for item in items
        if getattr(item, "callspec", None) is not None
        and item.module is not None
        and (
            (
                item.callspec.params.get("module_database_url") == "pgbouncer"
                and item.module.__name__ not in BEHIND_PGBOUNCER
            )
            or (
                item.callspec.params.get("module_transport") == "cookie"
                and item.module.__name__ not in BY_COOKIE
            )
        )
    ]
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        items[:] = [item for item in items if item not in elsewhere]


def requires_postgres(why: str) -> pytest.MarkDecorator:
    """Skip unless TEST_DATABASE_URL names a PostgreSQL database; ``why`` it is needed."""
    return pytest.mark.skipif(POSTGRES_URL is None, reason=f"{why}: set TEST_DATABASE_URL")


# Every log record of the whole run, to prove no secret is ever logged (see the end).
LOGGED: list[str] = []
RESET_TOKENS: list[str] = []
_original_handle = logging.Logger.handle


def _recording_handle(self: logging.Logger, record: logging.LogRecord) -> Any:
    try:
        LOGGED.append(f"{record.getMessage()} {record.__dict__} {record.exc_text or ''}")
        if record.exc_info and record.exc_info[1] is not None:
            LOGGED.append(repr(record.exc_info[1]))
    except Exception:  # a record that cannot be formatted is still handled as usual
        pass
    return _original_handle(self, record)


logging.Logger.handle = _recording_handle  # type: ignore[method-assign]
# Records under the level are dropped before ``handle``: let every record of the package
# (audit events are INFO) through, whatever the run's logging set-up.
logging.getLogger("sanic_auth_sessions").setLevel(logging.DEBUG)

JWT_PATTERN = re.compile(r"eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{10,}")
BCRYPT_PATTERN = re.compile(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}")


@pytest.fixture(scope="session", autouse=True)
def _no_secret_is_ever_logged() -> Iterator[None]:
    yield
    text = "\n".join(LOGGED)
    assert not JWT_PATTERN.search(text), "a JWT was logged"
    assert not BCRYPT_PATTERN.search(text), "a password hash was logged"
    assert STRONG_PASSWORD not in text and OTHER_STRONG_PASSWORD not in text, (
        "a password was logged"
    )
    leaked = [token for token in RESET_TOKENS if token in text]
    assert not leaked, "a password-reset token was logged"


@pytest.fixture(scope="session", autouse=True)
def _fresh_postgres_schema() -> None:
    """Tables left by an earlier run may predate a model change: start from none."""
    if POSTGRES_URL is None:
        return

    async def create_worker_database() -> None:
        assert SHARED_POSTGRES_URL is not None and POSTGRES_URL is not None
        name = POSTGRES_URL.partition("?")[0].rpartition("/")[2]
        connection = await asyncpg.connect(
            SHARED_POSTGRES_URL.replace("postgres://", "postgresql://", 1)
        )
        try:
            if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    async def drop_everything() -> None:
        connection = await asyncpg.connect(POSTGRES_URL.replace("postgres://", "postgresql://", 1))
        try:
            rows = await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
            for row in rows:
                await connection.execute(f'DROP TABLE IF EXISTS "{row["tablename"]}" CASCADE')
        finally:
            await connection.close()

    if POSTGRES_URL != SHARED_POSTGRES_URL:
        asyncio.run(create_worker_database())
    asyncio.run(drop_everything())


@pytest.fixture(scope="module", params=DATABASES + (["pgbouncer"] if PGBOUNCER_URL else []))
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The database of a test module: one SQLite file for the module, or the test
    PostgreSQL database (directly or through PgBouncer). Module-scoped, so pytest runs a
    module's tests database by database and a server can serve a whole module."""
    if request.param == "postgres":
        assert POSTGRES_URL is not None
        yield POSTGRES_URL
    elif request.param == "pgbouncer":
        assert PGBOUNCER_URL is not None
        yield PGBOUNCER_URL
    else:
        directory = tmp_path_factory.mktemp("db")
        yield f"sqlite://{directory / 'test.sqlite3'}"
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
async def database_url(module_database_url: str) -> str:
    """The module's database, with every table emptied: each test starts from none."""
    await empty_database(module_database_url)
    return module_database_url


async def empty_database(url: str) -> None:
    """Delete every row of every table of ``url`` (SQLite or PostgreSQL)."""
    if url.startswith("sqlite://"):
        empty_sqlite(Path(url.removeprefix("sqlite://")))
    else:
        await empty_postgres(url)


def empty_sqlite(path: Path) -> None:
    if not path.exists():
        return
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        with connection:
            connection.execute("PRAGMA foreign_keys = OFF")
            for table in tables:
                connection.execute(f'DELETE FROM "{table}"')
            if connection.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"
            ).fetchone():
                connection.execute("DELETE FROM sqlite_sequence")


async def empty_postgres(url: str) -> None:
    """Start a test from empty tables: the PostgreSQL database is shared by all tests."""
    connection = await asyncpg.connect(
        url.replace("postgres://", "postgresql://", 1), statement_cache_size=0
    )
    try:
        rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        if rows:
            tables = ", ".join(f'"{row["tablename"]}"' for row in rows)
            await connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


class RecordingMailer(InMemoryMailer):
    async def send_password_reset(self, email: str, token: str) -> None:
        RESET_TOKENS.append(token)
        await super().send_password_reset(email, token)

    async def send_message(
        self, kind: str, email: str, token: str | None, data: Mapping[str, Any]
    ) -> None:
        if token:
            RESET_TOKENS.append(token)  # verification and email-change tokens: never logged
        await super().send_message(kind, email, token, data)


@dataclass
class RunningApp:
    app: Sanic
    client: httpx.AsyncClient
    mailer: InMemoryMailer
    base_url: str
    prefix: str = "/api/v1"
    stash: dict[str, Any] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{self.prefix}{path}"

    async def settled(self) -> None:
        """Wait for the work the server does after answering (e.g. reset mails)."""
        await self.app.ctx.auth_manager.wait_for_background()

    async def request_reset(self, email: str) -> str | None:
        """Request a password reset; the token mailed for ``email``, if any."""
        response = await self.client.post(
            self.url("/auth/password-reset/request"), json={"email": email}
        )
        assert response.status_code == 200, response.text
        await self.settled()
        return self.mailer.last_token_for(email.strip().lower())

    async def register(
        self, email: str, password: str = STRONG_PASSWORD, **extra: Any
    ) -> dict[str, Any]:
        response = await self.client.post(
            self.url("/auth/register"), json={"email": email, "password": password, **extra}
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def login(
        self, email: str, password: str = STRONG_PASSWORD, **headers: str
    ) -> dict[str, Any]:
        response = await self.client.post(
            self.url("/auth/login"), json={"email": email, "password": password}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def user_with_tokens(self, email: str, **headers: str) -> dict[str, Any]:
        await self.register(email)
        return await self.login(email, **headers)


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


AppFactory = Callable[..., Any]


def build_app(
    database_url: str,
    *,
    mailer: InMemoryMailer,
    manager_class: type[UserManager] = UserManager,
    setup: Callable[[Sanic], None] | None = None,
    **config: Any,
) -> Sanic:
    app = Sanic(f"test_{uuid4().hex[:12]}")
    app.config.update(
        {
            "AUTH_ENVIRONMENT": "test",
            "AUTH_DATABASE_URL": database_url,
            "AUTH_GENERATE_SCHEMAS": True,
            "AUTH_BCRYPT_ROUNDS": 4,
            "AUTH_RATE_LIMIT_ENABLED": False,
            "AUTH_LOCKOUT_ENABLED": False,
            "AUTH_CLEANUP_INTERVAL_S": 0,
            "AUTH_DATABASE_POOLER": "pgbouncer-transaction"
            if database_url is not None and database_url == PGBOUNCER_URL
            else "none",
            **{f"AUTH_{key.upper()}": value for key, value in config.items()},
        }
    )
    app.config.OAS = False
    # sanic-ext adds a HEAD and an OPTIONS route beside every route at each start. The
    # contract has neither; apps of their own test them (test_amendments.py) and CORS
    # preflights (test_cors.py).
    app.config.HTTP_AUTO_HEAD = False
    app.config.HTTP_AUTO_OPTIONS = False
    app.config.CORS_AUTOMATIC_OPTIONS = False
    # Sanic's TouchUp rewrites its request-handling methods at each start, without the
    # signals the app does not use (a quarter of an in-process start under coverage). It makes no
    # difference to an answer; the example app's processes keep it.
    app.config.TOUCHUP = False
    if setup is not None:
        setup(app)
    app.extend(extensions=[AuthSessions(manager_class=manager_class, mailer=mailer)])
    return app


async def start_app(app: Sanic, mailer: InMemoryMailer) -> tuple[RunningApp, Any]:
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    auth_runtime(app).manager.mfa.clock = TOTP_CLOCK
    base_url = f"http://127.0.0.1:{port}"
    client = loopback_client(base_url, timeout=30)
    return RunningApp(app=app, client=client, mailer=mailer, base_url=base_url), server


async def stop_app(running: RunningApp, server: Any) -> None:
    await running.client.aclose()
    await server.before_stop()
    server.close()
    await server.wait_closed()
    await server.after_stop()
    Sanic.unregister_app(running.app)  # else Sanic's registry keeps it for the whole run


async def empty_database_url(database: str, sqlite_dir: Path | None = None) -> str:
    """The URL of an empty database for a server the caller starts: a new SQLite file in
    ``sqlite_dir``, or the test PostgreSQL database with its tables emptied."""
    Sanic.test_mode = True  # as Sanic's test clients: names may repeat, routers finalise twice
    EXECUTOR_CACHE.clear()  # Tortoise caches compiled SQL per connection name
    if database == "postgres":
        assert POSTGRES_URL is not None
        await empty_postgres(POSTGRES_URL)
        return POSTGRES_URL
    assert sqlite_dir is not None
    return f"sqlite://{sqlite_dir / 'test.sqlite3'}"


@pytest.fixture
async def make_app(database_url: str) -> AsyncIterator[Callable[..., Any]]:
    """``await make_app(**AUTH settings)`` starts a server; all are stopped after the test."""
    started: list[tuple[RunningApp, Any]] = []
    # Tortoise caches compiled SQL per connection name; tests switch SQLite/PostgreSQL.
    EXECUTOR_CACHE.clear()

    async def factory(**kwargs: Any) -> RunningApp:
        """Keyword arguments are AUTH_* settings, or ``mailer``/``manager_class``/``setup``;
        ``database_url=None`` leaves Tortoise to the host app (``setup``)."""
        mailer = kwargs.pop("mailer", None) or RecordingMailer()
        url = kwargs.pop("database_url", database_url)
        app = build_app(url, mailer=mailer, **kwargs)
        running, server = await start_app(app, mailer)
        started.append((running, server))
        return running

    yield factory
    for running, server in reversed(started):
        await stop_app(running, server)


# The route modules whose tests also run with the cookie transport: the same tests, each
# bearer request sent as a page would send it with cookies (see ``as_cookie_request``).
BY_COOKIE = {
    "tests.http.test_routes_users",
    "tests.http.test_routes_sessions",
    "tests.http.test_routes_email",
    "tests.http.test_mfa",
    "tests.http.test_stepup",
}
PAGE_ORIGIN = "https://app.example.com"


@pytest.fixture(scope="module", params=["bearer", "cookie"])
def module_transport(request: pytest.FixtureRequest) -> str:
    """How the module's ``api`` client authenticates: ``cookie`` only for ``BY_COOKIE``."""
    return str(request.param)


def as_cookie_request(app: Sanic) -> Callable[[httpx.Request], Any]:
    """An httpx request hook: a request with ``Authorization: Bearer <access token>`` goes
    out as a page's cookie request instead: the token in the access cookie, a CSRF cookie of
    its session (made by the server's own CSRF tokens) echoed in ``X-CSRF-Token``, and the
    page's ``Origin``. Anything that is not a well-formed access token stays a header."""

    async def hook(request: httpx.Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return
        try:
            session = UUID(jwt.decode(token, options={"verify_signature": False})["sid"])
        except (jwt.PyJWTError, KeyError, ValueError, TypeError):
            return
        csrf = auth_runtime(app).csrf.issue(session)
        del request.headers["authorization"]
        request.headers["cookie"] = f"access_token={token}; csrf_token={csrf}"
        request.headers["x-csrf-token"] = csrf
        request.headers["origin"] = PAGE_ORIGIN

    return hook


def as_bearer_answer(client: httpx.AsyncClient) -> Callable[[httpx.Response], Any]:
    """An httpx response hook, the other half of ``as_cookie_request``: a cookie answer to a
    cookie-authenticated request (e.g. ``/auth/reauthenticate``) gets its tokens back in the
    body, from its cookies, so that the bearer tests go on; the client keeps no cookie (each
    request of those tests says itself how it authenticates). The cookie answers themselves
    are tested in ``test_cookie_transport``."""

    async def hook(response: httpx.Response) -> None:
        tokens = {
            name: response.cookies[name]
            for name in ("access_token", "refresh_token")
            if response.cookies.get(name)
        }
        client.cookies.clear()
        if not tokens or "json" not in response.headers.get("content-type", ""):
            return
        await response.aread()
        body = response.json()
        if isinstance(body, dict) and body.get("token_type") == "cookie":
            body.update(tokens, token_type="bearer")
            response._content = json_module.dumps(body).encode()

    return hook


@contextlib.asynccontextmanager
async def module_server(
    database_url: str, *, setup: Callable[[Sanic], None] | None = None, **settings: Any
) -> AsyncIterator[RunningApp]:
    """A server a whole module shares (starting one costs more than most tests), on its
    emptied database; ``settings`` are more AUTH_* settings (lower case, without the prefix).
    Its fixtures that reach Tortoise call :func:`reclaim_tortoise` first."""
    Sanic.test_mode = True
    EXECUTOR_CACHE.clear()
    await empty_database(database_url)
    mailer = RecordingMailer()
    app = build_app(database_url, mailer=mailer, setup=setup, **settings)
    running, server = await start_app(app, mailer)
    running.stash["tortoise"] = tortoise_owner()
    try:
        yield running
    finally:
        await stop_app(running, server)


@pytest.fixture(scope="module")
async def default_server(
    module_database_url: str, module_transport: str
) -> AsyncIterator[RunningApp]:
    """A server with the default test settings, shared by a module's tests that use ``api``.
    With the ``cookie`` transport it runs ``AUTH_TRANSPORT=both`` and its client sends
    cookies where the tests send bearer tokens."""
    if module_transport == "bearer":
        async with module_server(module_database_url) as running:
            yield running
        return
    async with module_server(
        module_database_url, transport="both", csrf_trusted_origins=PAGE_ORIGIN
    ) as running:
        running.client.event_hooks["request"].append(as_cookie_request(running.app))
        running.client.event_hooks["response"].append(as_bearer_answer(running.client))
        yield running


@pytest.fixture
async def api(default_server: RunningApp, database_url: str) -> AsyncIterator[RunningApp]:
    """The module's default server, as if new: its database emptied (``database_url``), its
    mailer's outbox empty, and Tortoise set up for it again if another server has been
    started since (``make_app`` in the same module)."""
    running = default_server
    await reclaim_tortoise(running, database_url)
    running.mailer.outbox.clear()
    yield running
    await running.settled()  # work left after the last answer (reset mails) ends here


async def reclaim_tortoise(running: RunningApp, database_url: str) -> None:
    """Set Tortoise up for the module's server again if another server has been started (or
    stopped) since its start; ``running.stash["tortoise"]`` records whose set-up it is."""
    if not same_owner(tortoise_owner(), running.stash.get("tortoise", (None,))):
        EXECUTOR_CACHE.clear()
        await init_database(
            database_url,
            generate_schemas=True,
            named_statements=database_url != PGBOUNCER_URL,
        )
        running.stash["tortoise"] = tortoise_owner()


def tortoise_owner() -> tuple[Any, ...]:
    """What Tortoise is set up with now: changed by every ``Tortoise.init`` (a server's
    start, a test's own set-up)."""
    context = Tortoise._get_context()
    try:
        return (context, context.apps, repr(context.connections.db_config))
    except (AttributeError, ConfigurationError):  # none, or closed by a server's stop
        return (None,)


def same_owner(one: tuple[Any, ...], other: tuple[Any, ...]) -> bool:
    return len(one) == len(other) and all(
        a is b if not isinstance(a, str) else a == b for a, b in zip(one, other, strict=True)
    )


@pytest.fixture(autouse=True)
def _quiet_sanic_registry() -> Iterator[None]:
    Sanic.test_mode = True
    yield
