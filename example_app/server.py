"""Run with ``sanic example_app.server:app`` or ``python -m example_app``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from uuid import UUID

from sanic import Request, Sanic, html, json
from sanic.response import HTTPResponse
from sanic_ext import openapi

from example_app.cookie_page import add_cookie_page
from sanic_auth_sessions import (
    AuthSessions,
    OrganizationRole,
    ResponseModel,
    current_auth,
    documented,
    errors,
    logging_config,
    rate_limit,
    require_auth,
    require_fresh_auth,
    require_org_role,
)


class Hello(ResponseModel):
    message: str


class AccountExport(ResponseModel):
    email: str
    first_name: str
    last_name: str


class Report(ResponseModel):
    organization: str
    your_role: OrganizationRole | None  # None for a superuser who is not a member


WELCOME_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Welcome to the example app's API</title></head>
<body>
<h1>Welcome to the example app's API</h1>
<p>Accounts, sessions and organizations, served by sanic_auth_sessions.</p>
<p><a href="/docs">API documentation</a></p>
</body>
</html>
"""

DEVELOPMENT_RATE_LIMITS = {
    "AUTH_RATE_LIMIT_REGISTER": "100/minute",
    "AUTH_RATE_LIMIT_LOGIN": "100/minute",
    "AUTH_RATE_LIMIT_LOGIN_EMAIL": "30/minute",
    "AUTH_RATE_LIMIT_PASSWORD_RESET_REQUEST": "30/minute",
    "AUTH_RATE_LIMIT_PASSWORD_RESET_CONFIRM": "30/minute",
    "AUTH_RATE_LIMIT_PASSWORD_CHANGE": "30/minute",
    "AUTH_RATE_LIMIT_LOGOUT_ALL": "30/minute",
}


def own_origins(env: Mapping[str, str]) -> str:
    """The origins of the example app itself, as a browser reaches it on this machine."""
    port = env.get("PORT", "8000")
    return f"http://127.0.0.1:{port},http://localhost:{port}"


def create_app() -> Sanic:
    env = os.environ
    environment = env.get("ENVIRONMENT", "development")
    # One JSON object per line in production, readable lines otherwise.
    log_config = logging_config(json_lines=environment == "production")
    app = Sanic("example_app", log_config=log_config)
    app.config.update(
        AUTH_ENVIRONMENT=environment,
        AUTH_SECRET_KEY=env.get("AUTH_SECRET_KEY"),
        AUTH_MFA_ENCRYPTION_KEY=env.get("AUTH_MFA_ENCRYPTION_KEY"),
        AUTH_DATABASE_URL=env.get("DATABASE_URL", "sqlite://example_app.sqlite3"),
        AUTH_MIGRATE_ON_START=True,  # apply the shipped migrations once, before the workers
        AUTH_FIRST_SUPERUSER_EMAIL=env.get("FIRST_SUPERUSER_EMAIL"),
        AUTH_FIRST_SUPERUSER_PASSWORD=env.get("FIRST_SUPERUSER_PASSWORD"),
        AUTH_RATE_LIMIT_ENABLED=env.get("RATE_LIMIT_ENABLED", "true"),
        AUTH_RATE_LIMIT_STORAGE_URL=env.get("RATE_LIMIT_STORAGE_URL", "memory://"),
        AUTH_REFRESH_REUSE_GRACE_S=env.get("REFRESH_REUSE_GRACE_S", "0"),
        AUTH_REGISTER_RETURNS_TOKENS=env.get("REGISTER_RETURNS_TOKENS", "false"),
        AUTH_CSP_MODE=env.get("CSP_MODE", "strict"),
        AUTH_CORS_ORIGINS=env.get("BACKEND_CORS_ORIGINS", "[]"),
        # Bearer tokens for API clients, cookies for the pages that ask (/cookie-demo).
        AUTH_TRANSPORT=env.get("TRANSPORT", "both"),
        AUTH_CSRF_TRUSTED_ORIGINS=env.get("CSRF_TRUSTED_ORIGINS", own_origins(env)),
    )
    if environment == "development":
        # Exploring by hand trips the production limits (5 registrations a minute per IP);
        # relaxed here, unless set (SANIC_AUTH_RATE_LIMIT_* in the environment wins).
        for key, limit in DEVELOPMENT_RATE_LIMITS.items():
            app.config.setdefault(key, limit)
    app.extend(extensions=[AuthSessions()])
    add_cookie_page(app)

    @app.get("/")
    @openapi.operation("root__get")
    @openapi.summary("Welcome page")
    @openapi.tag("Example")
    @openapi.response(200, {"text/html": str}, "A page with a link to the API documentation.")
    async def root(request: Request) -> HTTPResponse:
        """The original project's root page: a welcome and the way to the docs."""
        return html(WELCOME_PAGE)

    @app.get("/api/v1/hello")
    @documented("Say hello to the caller", operation_id="hello", tag="Example", ok=(200, Hello))
    @rate_limit("100/minute")
    @require_auth
    async def hello(request: Request) -> HTTPResponse:
        """A host route protected by the extension's guard."""
        user = current_auth(request).user
        return json(Hello.dump(message=f"Hello, {user.first_name or user.email}!"))

    @app.get("/api/v1/account/export")
    @documented(
        "Export my account data",
        operation_id="export_my_account",
        tag="Example",
        ok=(200, AccountExport),
        errors=(errors.ReauthenticationRequired,),
    )
    @require_fresh_auth()
    async def export_my_account(request: Request) -> HTTPResponse:
        """A sensitive host route: only for a session authenticated in the last
        ``AUTH_FRESH_AUTH_MAX_AGE_S`` seconds (403 ``REAUTHENTICATION_REQUIRED`` otherwise:
        ``POST /api/v1/auth/reauthenticate``, then retry)."""
        user = current_auth(request).user
        return json(AccountExport.dump(user))

    @app.get("/api/v1/organizations/<organization_id:uuid>/report")
    @documented(
        "A report for an organization's admins",
        operation_id="organization_report",
        tag="Example",
        ok=(200, Report),
        errors=(errors.PermissionDenied, errors.NotFound),
    )
    @require_org_role("admin")
    async def organization_report(request: Request, organization_id: UUID) -> HTTPResponse:
        """A host route for the admins and owners of one organization (others: 403/404)."""
        membership = request.ctx.membership  # None for a superuser who is not a member
        return json(
            Report.dump(
                organization=request.ctx.organization.name,
                your_role=membership.role if membership else None,
            )
        )

    return app


app = create_app()
