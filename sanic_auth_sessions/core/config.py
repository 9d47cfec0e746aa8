"""Settings: upper-case ``AUTH_`` keys on ``app.config``, frozen once at start.

Defaults are added only where the host app has not set a key, so the host always wins.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, fields
from typing import Any

from sanic import Sanic

CONFIG_PREFIX = "AUTH_"
ALLOWED_ALGORITHMS = ("HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384")
ASYMMETRIC_PREFIXES = ("RS", "ES")
INSECURE_ENVIRONMENTS = ("development", "test")
CSP_MODES = ("strict", "relaxed", "disabled")
DATABASE_POOLERS = ("none", "pgbouncer-transaction")
MAX_HEADER_BYTES_CEILING = 16384
MIN_SECRET_KEY_CHARS = 32
DEV_SECRET_KEY = "insecure-development-key-change-me-0123456789"

DEFAULTS: dict[str, Any] = {
    "ENVIRONMENT": "production",
    "SECRET_KEY": None,
    "PUBLIC_KEY": None,
    "ALGORITHM": "HS256",
    "ISSUER": "sanic-auth-sessions",
    "AUDIENCE": "sanic-auth-sessions",
    "ACCESS_TOKEN_TTL_S": 15 * 60,
    "ACCESS_TOKEN_CACHE_SIZE": 4096,
    "REFRESH_TOKEN_TTL_S": 7 * 24 * 60 * 60,
    "PASSWORD_RESET_TTL_S": 60 * 60,
    "URL_PREFIX": "/api/v1",
    "HEALTH_PATH": "/health",
    "BCRYPT_ROUNDS": 12,
    "PASSWORD_MIN_LENGTH": 12,
    "PASSWORD_MIN_SCORE": 3,
    "REGISTRATION_ENABLED": True,
    "ORGANIZATION_CREATION_ENABLED": True,
    "TRUSTED_PROXIES": (),
    "DATABASE_URL": None,
    "GENERATE_SCHEMAS": False,
    "MIGRATE_ON_START": False,
    "SESSION_TOUCH_INTERVAL_S": 60,
    "REFRESH_REUSE_GRACE_S": 0,
    "CLEANUP_INTERVAL_S": 60 * 60,
    "SESSION_AUDIT_WINDOW_S": 30 * 24 * 60 * 60,
    "HASHING_THREADS": None,
    "FIRST_SUPERUSER_EMAIL": None,
    "FIRST_SUPERUSER_PASSWORD": None,
    "MAX_BODY_BYTES": 1024 * 1024,
    "MAX_HEADER_BYTES": 8192,
    "CLOCK_SKEW_S": 10,
    "DATABASE_POOLER": "none",
    "MIGRATIONS_DATABASE_URL": None,
    "CLEANUP_BATCH_SIZE": 5000,
    "RATE_LIMIT_ENABLED": True,
    "RATE_LIMIT_STORAGE_URL": "memory://",
    "RATE_LIMIT_STRATEGY": "moving-window",
    "RATE_LIMIT_FAIL_OPEN": True,
    "RATE_LIMIT_REGISTER": "5/minute",
    "RATE_LIMIT_LOGIN": "10/minute",
    "RATE_LIMIT_LOGIN_EMAIL": "10/minute",
    "RATE_LIMIT_REFRESH": "30/minute",
    "RATE_LIMIT_PASSWORD_RESET_REQUEST": "3/minute",
    "RATE_LIMIT_PASSWORD_RESET_CONFIRM": "5/minute",
    "RATE_LIMIT_LOGOUT_ALL": "5/minute",
    "RATE_LIMIT_SESSION_LIST": "30/minute",
    "RATE_LIMIT_SESSION_REVOKE": "10/minute",
    "RATE_LIMIT_PASSWORD_CHANGE": "5/minute",
    "RATE_LIMIT_PROFILE_UPDATE": "10/minute",
    "RATE_LIMIT_ADD_MEMBER": "20/minute",
    "RATE_LIMIT_STORAGE_TIMEOUT_MS": 100,
    "RATE_LIMIT_BREAKER_COOLDOWN_S": 30,
    "LOCKOUT_ENABLED": True,
    "LOCKOUT_MAX_FAILURES": 5,
    "LOCKOUT_WINDOW_S": 15 * 60,
    "CSP_MODE": "strict",
    "SECURITY_HEADERS_ENABLED": True,
    "CORS_ORIGINS": (),
}


MAX_REFRESH_REUSE_GRACE_S = 60


class ConfigurationError(ValueError):
    """The host app's settings are unusable; raised at start, never per request."""


@dataclass(frozen=True)
class AuthSettings:
    environment: str
    secret_key: str
    public_key: str | None
    algorithm: str
    issuer: str
    audience: str
    access_token_ttl_s: int
    access_token_cache_size: int
    refresh_token_ttl_s: int
    password_reset_ttl_s: int
    url_prefix: str
    health_path: str
    bcrypt_rounds: int
    password_min_length: int
    password_min_score: int
    registration_enabled: bool
    organization_creation_enabled: bool
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    database_url: str | None
    generate_schemas: bool
    migrate_on_start: bool
    session_touch_interval_s: int
    refresh_reuse_grace_s: int
    cleanup_interval_s: int
    session_audit_window_s: int
    hashing_threads: int | None
    first_superuser_email: str | None
    first_superuser_password: str | None
    max_body_bytes: int
    max_header_bytes: int
    clock_skew_s: int
    database_pooler: str
    migrations_database_url: str | None
    cleanup_batch_size: int
    rate_limit_enabled: bool
    rate_limit_storage_url: str
    rate_limit_strategy: str
    rate_limit_fail_open: bool
    rate_limit_register: str
    rate_limit_login: str
    rate_limit_login_email: str
    rate_limit_refresh: str
    rate_limit_password_reset_request: str
    rate_limit_password_reset_confirm: str
    rate_limit_logout_all: str
    rate_limit_session_list: str
    rate_limit_session_revoke: str
    rate_limit_password_change: str
    rate_limit_profile_update: str
    rate_limit_add_member: str
    rate_limit_storage_timeout_ms: int
    rate_limit_breaker_cooldown_s: int
    lockout_enabled: bool
    lockout_max_failures: int
    lockout_window_s: int
    csp_mode: str
    security_headers_enabled: bool
    cors_origins: tuple[str, ...]

    @property
    def is_production(self) -> bool:
        return self.environment not in INSECURE_ENVIRONMENTS

    @property
    def verification_key(self) -> str:
        """Key that checks signatures: the public key for RS/ES algorithms."""
        if self.algorithm.startswith(ASYMMETRIC_PREFIXES):
            return self.public_key or ""
        return self.secret_key

    @classmethod
    def from_app(cls, app: Sanic[Any, Any]) -> AuthSettings:
        add_fallback_config(app)
        raw = {f.name: app.config[CONFIG_PREFIX + f.name.upper()] for f in fields(cls)}
        return cls.from_mapping(raw)

    @classmethod
    def from_defaults(cls, **overrides: Any) -> AuthSettings:
        """Settings from the documented defaults, e.g. ``from_defaults(environment="test")``."""
        raw = {key.lower(): value for key, value in DEFAULTS.items()}
        raw.update(overrides)
        return cls.from_mapping(raw)

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> AuthSettings:
        values = dict(raw)
        for key in (
            "registration_enabled",
            "organization_creation_enabled",
            "generate_schemas",
            "migrate_on_start",
        ):
            values[key] = _as_bool(key, values[key])
        for key in (
            "rate_limit_enabled",
            "rate_limit_fail_open",
            "lockout_enabled",
            "security_headers_enabled",
        ):
            values[key] = _as_bool(key, values[key])
        for key in (
            "access_token_ttl_s",
            "access_token_cache_size",
            "refresh_token_ttl_s",
            "password_reset_ttl_s",
            "bcrypt_rounds",
            "password_min_length",
            "password_min_score",
            "session_touch_interval_s",
            "refresh_reuse_grace_s",
            "cleanup_interval_s",
            "session_audit_window_s",
            "max_body_bytes",
            "max_header_bytes",
            "clock_skew_s",
            "cleanup_batch_size",
            "rate_limit_storage_timeout_ms",
            "rate_limit_breaker_cooldown_s",
            "lockout_max_failures",
            "lockout_window_s",
        ):
            values[key] = _as_int(key, values[key])
        if values["hashing_threads"] is not None:
            values["hashing_threads"] = _as_int("hashing_threads", values["hashing_threads"])
        values["environment"] = str(values["environment"]).lower()
        values["url_prefix"] = "/" + str(values["url_prefix"]).strip("/")
        values["trusted_proxies"] = _as_networks(values["trusted_proxies"])
        values["cors_origins"] = tuple(_as_list("cors_origins", values["cors_origins"]))
        values["csp_mode"] = str(values["csp_mode"]).lower()
        values["database_pooler"] = str(values["database_pooler"]).lower()
        values["algorithm"] = str(values["algorithm"]).upper()
        values["secret_key"] = _secret_key(values)
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.algorithm not in ALLOWED_ALGORITHMS:
            raise ConfigurationError(
                f"AUTH_ALGORITHM must be one of {', '.join(ALLOWED_ALGORITHMS)}."
            )
        if self.algorithm.startswith(ASYMMETRIC_PREFIXES) and not self.public_key:
            raise ConfigurationError(
                f"AUTH_ALGORITHM={self.algorithm} needs AUTH_SECRET_KEY (the private key, PEM) "
                "and AUTH_PUBLIC_KEY (PEM)."
            )
        if (
            self.is_production
            and not self.algorithm.startswith(ASYMMETRIC_PREFIXES)
            and len(self.secret_key) < MIN_SECRET_KEY_CHARS
        ):
            raise ConfigurationError(
                f"AUTH_SECRET_KEY must be at least {MIN_SECRET_KEY_CHARS} characters when "
                f"AUTH_ENVIRONMENT is {self.environment!r}."
            )
        for name in ("access_token_ttl_s", "refresh_token_ttl_s", "password_reset_ttl_s"):
            if getattr(self, name) <= 0:
                raise ConfigurationError(f"AUTH_{name.upper()} must be positive.")
        if self.access_token_cache_size < 0:
            raise ConfigurationError("AUTH_ACCESS_TOKEN_CACHE_SIZE must be 0 (off) or more.")
        if not 4 <= self.bcrypt_rounds <= 31:
            raise ConfigurationError("AUTH_BCRYPT_ROUNDS must be between 4 and 31.")
        if not 0 <= self.password_min_score <= 4:
            raise ConfigurationError("AUTH_PASSWORD_MIN_SCORE must be between 0 and 4.")
        if self.csp_mode not in CSP_MODES:
            raise ConfigurationError(f"AUTH_CSP_MODE must be one of {', '.join(CSP_MODES)}.")
        if self.database_pooler not in DATABASE_POOLERS:
            raise ConfigurationError(
                f"AUTH_DATABASE_POOLER must be one of {', '.join(DATABASE_POOLERS)}."
            )
        if self.max_header_bytes > MAX_HEADER_BYTES_CEILING:
            raise ConfigurationError(
                f"AUTH_MAX_HEADER_BYTES can be at most {MAX_HEADER_BYTES_CEILING} (Sanic's limit)."
            )
        for name, low in (
            ("max_header_bytes", 1024),
            ("clock_skew_s", 0),
            ("cleanup_batch_size", 1),
            ("rate_limit_storage_timeout_ms", 1),
            ("rate_limit_breaker_cooldown_s", 0),
        ):
            if getattr(self, name) < low:
                raise ConfigurationError(f"AUTH_{name.upper()} must be at least {low}.")
        if not 0 <= self.refresh_reuse_grace_s <= MAX_REFRESH_REUSE_GRACE_S:
            raise ConfigurationError(
                f"AUTH_REFRESH_REUSE_GRACE_S must be between 0 and {MAX_REFRESH_REUSE_GRACE_S}."
            )
        if self.rate_limit_strategy not in ("moving-window", "fixed-window"):
            raise ConfigurationError(
                "AUTH_RATE_LIMIT_STRATEGY must be 'moving-window' or 'fixed-window'."
            )


def add_fallback_config(app: Sanic[Any, Any]) -> None:
    for key, value in DEFAULTS.items():
        full_key = CONFIG_PREFIX + key
        if full_key not in app.config:
            app.config[full_key] = value


def _secret_key(values: dict[str, Any]) -> str:
    secret = values.get("secret_key")
    if secret:
        return str(secret)
    if values["environment"] in INSECURE_ENVIRONMENTS:
        return DEV_SECRET_KEY
    raise ConfigurationError(
        "AUTH_SECRET_KEY is required outside development and test "
        f"(at least {MIN_SECRET_KEY_CHARS} characters)."
    )


def _as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"AUTH_{name.upper()} must be a boolean, not {value!r}.")


def _as_int(name: str, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"AUTH_{name.upper()} must be an integer, not {value!r}."
        ) from None


def _as_list(name: str, value: Any) -> list[str]:
    """Accept a list, a JSON list, or a comma-separated string."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise ConfigurationError(f"AUTH_{name.upper()} is not a valid JSON list.") from None
        else:
            value = [part for part in text.split(",")]
    if not isinstance(value, list | tuple):
        raise ConfigurationError(f"AUTH_{name.upper()} must be a list.")
    return [str(item).strip() for item in value if str(item).strip()]


def _as_networks(value: Any) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    try:
        return tuple(
            ipaddress.ip_network(item, strict=False) for item in _as_list("trusted_proxies", value)
        )
    except ValueError as exc:
        raise ConfigurationError(f"AUTH_TRUSTED_PROXIES: {exc}") from None
