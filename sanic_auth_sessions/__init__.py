"""Accounts, JWT sessions with rotation, organizations and an admin API for Sanic apps."""

from ._version import __version__
from .audit import AuditEvent
from .config import AuthSettings, ConfigurationError
from .devices import DeviceInfo
from .errors import AuthSessionsError
from .extension import AuthSessions
from .guards import current_auth, require_auth, require_org_role, require_superuser
from .logs import logging_config
from .mailer import ConsoleMailer, InMemoryMailer, Mailer
from .manager import AuthContext, UserManager
from .models import Membership, Organization, OrganizationRole, User, UserSession
from .ratelimit import rate_limit

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
    "User",
    "UserManager",
    "UserSession",
    "__version__",
    "current_auth",
    "logging_config",
    "rate_limit",
    "require_auth",
    "require_org_role",
    "require_superuser",
]
