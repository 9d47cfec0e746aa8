"""Accounts, JWT sessions with rotation, organizations and an admin API for Sanic apps."""

from sanic_auth_sessions._version import __version__
from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.audit import AuditEvent
from sanic_auth_sessions.core.config import AuthSettings, ConfigurationError
from sanic_auth_sessions.core.devices import DeviceInfo
from sanic_auth_sessions.core.errors import AuthSessionsError
from sanic_auth_sessions.core.logs import logging_config
from sanic_auth_sessions.core.models import (
    Membership,
    Organization,
    OrganizationRole,
    User,
    UserSession,
)
from sanic_auth_sessions.db.connection import tortoise_config
from sanic_auth_sessions.extension import AuthSessions
from sanic_auth_sessions.http.guards import (
    current_auth,
    require_auth,
    require_fresh_auth,
    require_org_role,
    require_superuser,
)
from sanic_auth_sessions.http.openapi import documented
from sanic_auth_sessions.http.rate_limits import rate_limit
from sanic_auth_sessions.http.responses import ResponseModel
from sanic_auth_sessions.services.mailer import ConsoleMailer, InMemoryMailer, Mailer
from sanic_auth_sessions.services.manager import AuthContext, UserManager

__all__ = [
    "AuditEvent",
    "AuthContext",
    "AuthSessions",
    "AuthSessionsError",
    "AuthSettings",
    "ConfigurationError",
    "ConsoleMailer",
    "DeviceInfo",
    "InMemoryMailer",
    "Mailer",
    "Membership",
    "Organization",
    "OrganizationRole",
    "ResponseModel",
    "User",
    "UserManager",
    "UserSession",
    "__version__",
    "current_auth",
    "documented",
    "errors",
    "logging_config",
    "rate_limit",
    "require_auth",
    "require_fresh_auth",
    "require_org_role",
    "require_superuser",
    "tortoise_config",
]
