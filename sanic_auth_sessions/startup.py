"""Start-up: the database made ready and checked once, and a failed start as one line and an exit.

Under Sanic's worker manager (``sanic app:app``, ``Sanic.serve``) the main process does it once,
before any worker starts: schema work when configured, then it waits a few seconds for the
database, checks the schema and ensures the first superuser. Anything wrong ends the start
there with one CRITICAL line naming the fix and exit status 2. Without a main process (a single
process, a server started in-process) the worker does the same before it serves.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import NoReturn

from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.core.errors import AuthSessionsError
from sanic_auth_sessions.core.passwords import hasher_for
from sanic_auth_sessions.db.connection import close_database, init_database, ping
from sanic_auth_sessions.db.errors import is_database_unavailable
from sanic_auth_sessions.db.migrate import MigrationError
from sanic_auth_sessions.db.migrate import apply as apply_migrations
from sanic_auth_sessions.db.schema_check import schema_problem
from sanic_auth_sessions.services.mailer import Mailer
from sanic_auth_sessions.services.manager import UserManager

logger = logging.getLogger("sanic_auth_sessions")

DATABASE_WAIT_S = 2.0  # how long a start waits for a database (one that starts beside it)
EXIT_STATUS = 2
CREATE_SUPERUSER = "python -m sanic_auth_sessions create-superuser --email {email}"


class StartupFailed(SystemExit):
    """The app cannot start; ``reason`` is the one line logged. Exits with status 2."""

    def __init__(self, reason: str) -> None:
        super().__init__(EXIT_STATUS)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class WorkerStartFailed(RuntimeError):
    """A worker under the manager could not start: the manager then stops every process.

    (A ``SystemExit`` in a worker would leave the manager waiting for it.)
    """


def fail(reason: str) -> NoReturn:
    logger.critical("AUTH: cannot start: %s", reason)
    raise StartupFailed(reason)


def _described(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def wait_for_database(timeout_s: float | None = None) -> None:
    """Ping until the database answers, for at most ``timeout_s``; then fail with one line."""
    deadline = time.monotonic() + (DATABASE_WAIT_S if timeout_s is None else timeout_s)
    while True:
        try:
            await ping()
            return
        except Exception as exc:
            if not is_database_unavailable(exc) or time.monotonic() >= deadline:
                fail(
                    f"the database is not reachable ({_described(exc)}): check "
                    "AUTH_DATABASE_URL and that the database server is up."
                )
        await asyncio.sleep(0.5)


async def prepare_schema(settings: AuthSettings) -> None:
    """Apply the shipped migrations and/or create missing tables, as configured.

    Through ``AUTH_MIGRATIONS_DATABASE_URL`` when set (a direct URL, not the pooler's). Safe
    when several hosts start at once: migrations are applied under an advisory lock.
    """
    url = settings.migrations_database_url or settings.database_url
    assert url is not None
    deadline = time.monotonic() + DATABASE_WAIT_S
    while True:
        try:
            if settings.migrate_on_start:
                applied = await apply_migrations(url)
                if applied:
                    logger.info("Applied migrations: %s", ", ".join(applied))
            if settings.generate_schemas:
                await init_database(url, generate_schemas=True, named_statements=False)
                await close_database()
            return
        except MigrationError as exc:
            fail(f"the migrations could not be applied: {exc}")
        except Exception as exc:
            await close_database()
            if not is_database_unavailable(exc):
                raise
            if time.monotonic() >= deadline:  # each step is safe to run again: retried
                fail(
                    f"the database is not reachable for the schema work ({_described(exc)}): "
                    "check AUTH_MIGRATIONS_DATABASE_URL or AUTH_DATABASE_URL and that the "
                    "database server is up."
                )
        await asyncio.sleep(0.5)


async def check_schema(*, owns_database: bool) -> None:
    problem = await schema_problem(migrations_hint=owns_database)
    if problem is not None:
        fail(problem)


async def ensure_first_superuser(settings: AuthSettings, manager: UserManager) -> None:
    """The configured first superuser, or a pointer to the way in; says what it found."""
    email, password = settings.first_superuser_email, settings.first_superuser_password
    if email and password:
        try:
            outcome = await manager.ensure_superuser(email, password)
        except AuthSessionsError as exc:
            details = "; ".join(detail.message for detail in exc.details) or str(exc)
            fail(f"AUTH_FIRST_SUPERUSER_PASSWORD is refused: {details}")
        if outcome == "created":
            logger.info("Created the first superuser %s.", email)
        elif outcome == "superuser":
            logger.info("The first superuser %s exists already.", email)
        else:
            logger.warning(
                "AUTH_FIRST_SUPERUSER_EMAIL %s is an account that is not a superuser: it is "
                "not promoted. To promote it: %s",
                email,
                CREATE_SUPERUSER.format(email=email),
            )
        return
    if settings.environment == "development" and not await manager.has_superuser():
        url = settings.database_url or ""
        # A SQLite path is no secret; another URL may hold a password: not printed.
        shown = url if url.startswith("sqlite") else "<AUTH_DATABASE_URL>"
        logger.warning(
            "No superuser yet. Make one: %s --database-url %s (or set "
            "AUTH_FIRST_SUPERUSER_EMAIL and AUTH_FIRST_SUPERUSER_PASSWORD).",
            CREATE_SUPERUSER.format(email="you@example.com"),
            shown,
        )


async def prepare_database(
    settings: AuthSettings, *, manager_class: type[UserManager], mailer: Mailer
) -> None:
    """In the main process, once: schema work, then the checks and the first superuser."""
    assert settings.database_url is not None
    if settings.migrate_on_start or settings.generate_schemas:
        await prepare_schema(settings)
    await init_database(
        settings.database_url,
        generate_schemas=False,
        named_statements=settings.database_pooler == "none",
    )
    try:
        await wait_for_database()
        await check_schema(owns_database=True)
        hasher = hasher_for(settings, 1)
        try:
            manager = manager_class(settings, hasher=hasher, mailer=mailer)
            await ensure_first_superuser(settings, manager)
            await manager.wait_for_background()
        finally:
            hasher.close()
    finally:
        await close_database()
