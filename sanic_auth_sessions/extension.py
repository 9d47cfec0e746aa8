"""The sanic-ext extension that mounts everything on a host app."""

from __future__ import annotations

import asyncio
import logging
from multiprocessing import Event
from typing import Any

from sanic import Sanic
from sanic_ext import Extend
from sanic_ext.extensions.base import Extension
from tortoise.exceptions import ConfigurationError as TortoiseNotSetUp

from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.db.cleanup import run_periodically
from sanic_auth_sessions.db.connection import (
    check_pooler,
    close_database,
    connection,
    init_database,
    ping,
    session_with_user_sql,
)
from sanic_auth_sessions.http.amendments import finalise_signals_once, read_definition_hints_once
from sanic_auth_sessions.http.app_config import settings_from_app
from sanic_auth_sessions.http.docs_assets import openapi_enabled, serve_docs_assets
from sanic_auth_sessions.http.error_handler import install_error_handler
from sanic_auth_sessions.http.middleware.cors import configure_cors
from sanic_auth_sessions.http.middleware.request_context import install_request_context
from sanic_auth_sessions.http.middleware.request_limits import apply_request_limits
from sanic_auth_sessions.http.middleware.security_headers import install_security_headers
from sanic_auth_sessions.http.openapi import documenting, install_openapi
from sanic_auth_sessions.http.rate_limits import install_rate_limiting
from sanic_auth_sessions.http.routes.admin import create_admin_blueprint
from sanic_auth_sessions.http.routes.auth import create_auth_blueprint
from sanic_auth_sessions.http.routes.health import create_health_blueprint
from sanic_auth_sessions.http.routes.introspect import create_introspection_blueprint
from sanic_auth_sessions.http.routes.keys import create_keys_blueprint
from sanic_auth_sessions.http.routes.mfa import create_mfa_blueprint
from sanic_auth_sessions.http.routes.oauth import create_oauth_blueprint
from sanic_auth_sessions.http.routes.organizations import create_organizations_blueprint
from sanic_auth_sessions.http.routes.passkeys import create_passkeys_blueprint
from sanic_auth_sessions.http.routes.sessions import create_sessions_blueprint
from sanic_auth_sessions.http.routes.users import create_users_blueprint
from sanic_auth_sessions.http.runtime import (
    auth_runtime,
    install_storage_budget,
    start_runtime,
    stop_runtime,
)
from sanic_auth_sessions.http.server_health import install_server_health
from sanic_auth_sessions.services.mailer import ConsoleMailer, Mailer, can_send_messages
from sanic_auth_sessions.services.manager import UserManager
from sanic_auth_sessions.startup import (
    StartupFailed,
    WorkerStartFailed,
    check_schema,
    ensure_first_superuser,
    fail,
    prepare_database,
    prepare_schema,
    wait_for_database,
)

logger = logging.getLogger("sanic_auth_sessions")


class AuthSessions(Extension):  # type: ignore[no-untyped-call]
    """Mount with ``app.extend(extensions=[AuthSessions()])``.

    Settings are read from ``app.config`` (``AUTH_*`` keys) when the extension starts.
    When ``AUTH_DATABASE_URL`` is set the extension owns the Tortoise set-up; otherwise the
    host app runs Tortoise and lists ``sanic_auth_sessions.models`` under the label ``auth``.
    """

    name = "authsessions"

    def __init__(
        self, *, manager_class: type[UserManager] = UserManager, mailer: Mailer | None = None
    ) -> None:
        self.manager_class = manager_class
        self.mailer: Mailer = mailer or ConsoleMailer()

    def label(self) -> str:
        return str(self.app.config.get("AUTH_URL_PREFIX", ""))

    def startup(self, bootstrap: Extend) -> None:
        app = self.app
        settings = settings_from_app(app)
        app.ctx.auth_settings = settings
        configure_cors(app, settings)  # before sanic-ext's HTTP extension reads CORS_*
        apply_request_limits(app, settings)
        install_request_context(app, settings)
        install_error_handler(app, settings)
        documents = openapi_enabled(app)  # off: no docs pages and no route documentation
        if documents:
            read_definition_hints_once()
            serve_docs_assets(app)  # before the docs pages' CSP is derived from their assets
        install_security_headers(app, settings)
        install_storage_budget(app)  # the time budget of each request's counter storage calls
        install_rate_limiting(app)
        install_server_health(app)  # readiness (draining) and workers for /health
        with documenting(documents):
            blueprints = (
                create_auth_blueprint(settings.url_prefix),
                create_users_blueprint(settings.url_prefix),
                create_sessions_blueprint(settings.url_prefix),
                create_organizations_blueprint(settings.url_prefix),
                create_admin_blueprint(settings.url_prefix),
                create_mfa_blueprint(settings.url_prefix),
                create_passkeys_blueprint(settings.url_prefix),
                create_health_blueprint(settings.health_path),
                create_keys_blueprint(settings.jwks_path),
                create_introspection_blueprint(settings.url_prefix),
                create_oauth_blueprint(settings.url_prefix),
            )
        for blueprint in blueprints:
            app.blueprint(blueprint)
        install_openapi(app, settings)
        finalise_signals_once(app)
        self._register_listeners(app, settings)

    def _register_listeners(self, app: Sanic[Any, Any], settings: AuthSettings) -> None:
        owns_database = settings.database_url is not None

        @app.main_process_start
        async def prepare_once(app: Sanic[Any, Any]) -> None:
            # Once, before the workers start: schema work is never raced, and a database
            # that is unreachable or behind ends the start here, as one line.
            self._notices(settings)
            if owns_database:
                await prepare_database(
                    settings, manager_class=self.manager_class, mailer=self.mailer
                )
            prepared = Event()
            prepared.set()
            app.shared_ctx.auth_prepared = prepared

        @app.main_process_stop
        async def release_main_process(app: Sanic[Any, Any]) -> None:
            # A connection left open in the main process keeps it alive after Ctrl-C (its
            # aiosqlite thread): ours, or a host's (register_tortoise's schema generation
            # opens one there and never closes it).
            await close_database()

        @app.before_server_start
        async def start_auth(app: Sanic[Any, Any]) -> None:
            # Without a main process (a single process, or a server started in-process)
            # the worker prepares and checks the database itself.
            in_main = getattr(app.shared_ctx, "auth_prepared", None) is not None
            try:
                await self._start_worker(app, settings, prepared=in_main)
            except BaseException as exc:
                await stop_runtime(app)
                if owns_database:
                    await close_database()  # no connection thread may keep the process alive
                if in_main and isinstance(exc, StartupFailed):
                    raise WorkerStartFailed(exc.reason) from None
                raise

        @app.after_server_start
        async def start_cleanup(app: Sanic[Any, Any]) -> None:
            if settings.cleanup_interval_s > 0:
                auth_runtime(app).cleanup_task = asyncio.create_task(
                    run_periodically(
                        settings.cleanup_interval_s,
                        settings.session_audit_window_s,
                        settings.cleanup_batch_size,
                        settings.audit_retention_s,
                    )
                )

        @app.before_server_stop
        async def stop_cleanup(app: Sanic[Any, Any]) -> None:
            await auth_runtime(app).stop_cleanup()

        @app.after_server_stop
        async def stop_auth(app: Sanic[Any, Any]) -> None:
            await stop_runtime(app)  # background work first: it may still use the database
            if owns_database:
                await close_database()

    def _notices(self, settings: AuthSettings) -> None:
        """What an operator should know, said once per start (not once per process)."""
        logger.info("AUTH: environment %s", settings.environment)
        if settings.is_production and isinstance(self.mailer, ConsoleMailer):
            logger.warning(
                "AUTH: password-reset mails go to standard output (ConsoleMailer); pass "
                "AuthSessions(mailer=...) to deliver them in production."
            )
        if not can_send_messages(self.mailer):
            logger.warning(
                "AUTH: the mailer %s has no send_message(kind, email, token, data): "
                "verification, email-change and security notification mails are not delivered.",
                type(self.mailer).__name__,
            )

    async def _start_worker(
        self, app: Sanic[Any, Any], settings: AuthSettings, *, prepared: bool
    ) -> None:
        owns_database = settings.database_url is not None
        if not prepared:
            self._notices(settings)
        if owns_database:
            assert settings.database_url is not None
            if not prepared and (settings.migrate_on_start or settings.generate_schemas):
                await prepare_schema(settings)
            await init_database(
                settings.database_url,
                generate_schemas=False,
                named_statements=settings.database_pooler == "none",
            )
        try:
            session_with_user_sql(type(connection()))  # the backend is one we support
        except TortoiseNotSetUp:
            fail(
                "Tortoise is not set up when the extension starts: set AUTH_DATABASE_URL, or "
                "register Tortoise (register_tortoise(app, ...), with sanic_auth_sessions.models "
                "under the label auth) before app.extend(extensions=[AuthSessions()])."
            )
        check_pooler(settings.database_pooler)  # and set up for the pooler, if any
        if prepared:
            try:
                # Connect now: a lazy first connect cancelled by a client that hung up
                # can leave a connection unusable for the worker's lifetime (SQLite).
                await ping()
            except Exception as exc:  # it answered the main process a moment ago
                logger.error("Database not reachable at start: %r", exc)
        else:
            await wait_for_database()
            await check_schema(owns_database=owns_database)
        runtime = await start_runtime(
            app, settings, manager_class=self.manager_class, mailer=self.mailer
        )
        runtime.manager.load_configured_features()
        if not prepared:
            await ensure_first_superuser(settings, runtime.manager)
