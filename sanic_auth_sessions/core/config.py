"""Settings: one typed model, each setting declared once with its default, bounds and meaning.

The host app sets upper-case ``AUTH_`` keys (``AUTH_ACCESS_TOKEN_TTL_S`` for
``access_token_ttl_s``); :meth:`AuthSettings.from_config` reads them from any mapping, the model's
defaults filling the keys that are not there, and checks them once, at start. Values may be
strings, as from the environment. The table in ``docs/configuration.md`` is generated from the
descriptions here (``python -m sanic_auth_sessions.core.settings_docs``).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any, Literal, TypeAlias

import annotated_types
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

CONFIG_PREFIX = "AUTH_"
ASYMMETRIC_PREFIXES = ("RS", "ES")
INSECURE_ENVIRONMENTS = ("development", "test")
MAX_HEADER_BYTES_CEILING = 16384
MIN_SECRET_KEY_CHARS = 32
DEV_SECRET_KEY = "insecure-development-key-change-me-0123456789"

Algorithm: TypeAlias = Literal[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384"
]
CspMode: TypeAlias = Literal["strict", "relaxed", "disabled"]
UserVerification: TypeAlias = Literal["required", "preferred"]
Transport: TypeAlias = Literal["bearer", "cookie", "both"]
DatabasePooler: TypeAlias = Literal["none", "pgbouncer-transaction"]
RateLimitStrategy: TypeAlias = Literal["moving-window", "fixed-window"]
Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network

_SETTING_ERROR = "auth_setting"


class ConfigurationError(ValueError):
    """The host app's settings are unusable; raised at start, never per request."""


def _refuse(message: str) -> PydanticCustomError:
    """A validation error: on a field, the message follows the key (``AUTH_X <message>``)."""
    return PydanticCustomError(_SETTING_ERROR, "{message}", {"message": message})


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _string_list(value: Any) -> list[str]:
    """A list or tuple, a JSON list, or a comma-separated string; blank items dropped."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise _refuse("is not a valid JSON list.") from None
        else:
            value = text.split(",")
    if not isinstance(value, list | tuple):
        raise _refuse("must be a list.")
    return [str(item).strip() for item in value if str(item).strip()]


PEM_BEGIN = "-----BEGIN "


def _pem_list(value: Any) -> list[str]:
    """PEM blocks: a list, a JSON list, or one string holding one or more blocks."""
    if value is None or value == "":
        return []
    if isinstance(value, str) and not value.strip().startswith("["):
        text = value.strip()
        return [PEM_BEGIN + block.strip() for block in text.split(PEM_BEGIN) if block.strip()]
    return _string_list(value)


def _client_secrets(value: Any) -> dict[str, str]:
    """A mapping, or a JSON object, of client id to secret."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise _refuse("is not a valid JSON object.") from None
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise _refuse('must be a JSON object of client id to secret: {"id": "secret"}.')
    short = [k for k, v in value.items() if len(v) < MIN_SECRET_KEY_CHARS]
    if short:
        raise _refuse(
            f"has secrets shorter than {MIN_SECRET_KEY_CHARS} characters (clients: "
            f"{', '.join(sorted(short))})."
        )
    return dict(value)


def _networks(value: Any) -> tuple[Network, ...]:
    try:
        return tuple(ipaddress.ip_network(item, strict=False) for item in _string_list(value))
    except ValueError as exc:
        raise _refuse(f"has an unusable entry: {exc}.") from None


def _url_path(value: str) -> str:
    return "/" + value.strip("/")


# Strings from the environment are accepted: "true/false", "1/0", "yes/no", "on/off" (any case).
Flag = Annotated[bool, BeforeValidator(_strip)]
StringList = Annotated[tuple[str, ...], BeforeValidator(_string_list)]
Networks = Annotated[tuple[Network, ...], BeforeValidator(_networks)]
PemList = Annotated[tuple[str, ...], BeforeValidator(_pem_list)]
ClientSecrets = Annotated[dict[str, str], BeforeValidator(_client_secrets)]
Lower = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True)]
UrlPath = Annotated[str, AfterValidator(_url_path)]
# RFC 6265 cookie names: visible ASCII without separators.
CookieName = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")
]

# The security notification mails ``AUTH_SECURITY_NOTIFICATIONS`` can turn on.
NOTIFICATION_KINDS = (
    "new_device",
    "password_changed",
    "password_reset",
    "email_changed",
    "mfa_disabled",
)


def _notification_kinds(kinds: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [kind for kind in kinds if kind not in NOTIFICATION_KINDS]
    if unknown:
        raise _refuse(
            f"has unknown kinds {', '.join(unknown)}: use {', '.join(NOTIFICATION_KINDS)}."
        )
    return tuple(dict.fromkeys(kinds))


NotificationKinds = Annotated[
    tuple[str, ...], BeforeValidator(_string_list), AfterValidator(_notification_kinds)
]


PROVIDER_NAME = r"^[a-z0-9-]{1,32}$"
PRESET_PROVIDERS = ("google", "github")


class OidcProviderConfig(BaseModel):
    """One generic OpenID Connect provider of ``AUTH_OIDC_PROVIDERS``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, StringConstraints(pattern=PROVIDER_NAME)]
    display_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    issuer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    client_id: Annotated[str, StringConstraints(min_length=1)]
    client_secret: Annotated[str, StringConstraints(min_length=1)]
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    icon: str | None = None


def _oidc_providers(value: Any) -> Any:
    """A list, or a JSON list, of provider objects; names unique and not a preset's."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise _refuse("is not a valid JSON list.") from None
    if not isinstance(value, list | tuple):
        raise _refuse("must be a JSON list of provider objects.")
    names = [item.get("name") for item in value if isinstance(item, Mapping)]
    taken = [name for name in names if name in PRESET_PROVIDERS or names.count(name) > 1]
    if taken:
        listed = ", ".join(sorted(set(map(str, taken))))
        raise _refuse(f"repeats a provider name or uses a preset's: {listed}.")
    return tuple(value)


OidcProviders = Annotated[tuple[OidcProviderConfig, ...], BeforeValidator(_oidc_providers)]


def setting(default: Any, section: str, description: str, **options: Any) -> Any:
    """A field with its docs: ``section`` groups it in the generated table.

    ``shown`` (optional) is how the docs show the default when the value alone says too little.
    Other options (``ge``, ``le``, ``gt``) are :func:`pydantic.Field`'s.
    """
    extra: dict[str, Any] = {"section": section}
    if "shown" in options:
        extra["shown"] = options.pop("shown")
    return Field(default, description=description, json_schema_extra=extra, **options)


ENVIRONMENT = "Environment and keys"
TOKENS = "Tokens and sessions"
ROUTES = "Routes"
PASSWORDS = "Passwords"
DATABASE = "Database"
CLEANUP = "Background cleanup"
THROTTLE = "Rate limits and lockout"
CLIENTS = "Client addresses"
HEADERS = "Headers"
EVENTS = "Security events and notifications"
MFA = "Two-factor authentication"
SOCIAL = "Social login"
PASSKEYS = "Passkeys"
COOKIES = "Browser cookies"
MFA_KEY_BYTES = 32


class AuthSettings(BaseModel):
    """The extension's settings, frozen once at start (``app.ctx.auth_settings``)."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_default=True,
        coerce_numbers_to_str=True,
    )

    # Environment and keys
    environment: Lower = setting(
        "production",
        ENVIRONMENT,
        "`development`, `test`, or anything else. Every value other than `development` and "
        "`test` (case-insensitive) counts as production: HSTS is sent and the secret key is "
        "checked.",
    )
    secret_key: str = setting(
        None,
        ENVIRONMENT,
        "The HMAC secret for `HS*` algorithms, or the PEM private key for `RS*`/`ES*`. With an "
        f"`HS*` algorithm in production it is required and must be at least "
        f"{MIN_SECRET_KEY_CHARS} characters. In `development` and `test` a fixed, publicly "
        "known development key is used when none is set.",
    )
    public_key: str | None = setting(
        None,
        ENVIRONMENT,
        "The PEM public key. Required for `RS*`/`ES*` algorithms, where it verifies signatures.",
    )
    algorithm: Annotated[Algorithm, BeforeValidator(_upper)] = setting(
        "HS256",
        ENVIRONMENT,
        "The signing algorithm (any case). Tokens signed with any other algorithm are rejected.",
    )
    verification_keys: PemList = setting(
        (),
        ENVIRONMENT,
        "PEM public keys still accepted to verify tokens (never to sign), for a key rotation "
        "without logging anyone out: a list, a JSON list, or the PEM blocks one after the "
        "other. Only with `RS*`/`ES*`; they must suit `AUTH_ALGORITHM`.",
        shown="none",
    )
    jwks_path: str = setting(
        "/.well-known/jwks.json",
        ROUTES,
        "Where the public keys are served as a JWK Set (`RS*`/`ES*` only; not under the prefix).",
    )
    introspection_clients: ClientSecrets = setting(
        {},
        ROUTES,
        "Clients of `POST /auth/introspect` (RFC 7662), as a JSON object `{client_id: "
        f"client_secret}}`; secrets of at least {MIN_SECRET_KEY_CHARS} characters. None: the "
        "route answers 404.",
        shown="none",
    )
    issuer: str = setting(
        "sanic-auth-sessions",
        ENVIRONMENT,
        "The `iss` claim of issued tokens, checked on every decode.",
    )
    audience: str = setting(
        "sanic-auth-sessions",
        ENVIRONMENT,
        "The `aud` claim of issued tokens, checked on every decode.",
    )

    # Tokens and sessions
    access_token_ttl_s: int = setting(15 * 60, TOKENS, "Access token lifetime, in seconds.", gt=0)
    access_token_cache_size: int = setting(
        4096,
        TOKENS,
        "How many verified access tokens each worker remembers, so the next request with the "
        "same token skips the signature and claim checks (the oldest is dropped first; about "
        "1 KiB each). A remembered token is still refused after its `exp` (plus "
        "`AUTH_CLOCK_SKEW_S`), and the session and user are still read from the database on "
        "every request, so revocation stays immediate. `0` turns it off.",
        ge=0,
    )
    clock_skew_s: int = setting(
        10,
        TOKENS,
        "Seconds of leeway for clocks that differ between hosts: a token is accepted until `exp` "
        "plus the leeway, and refused when its `iat` or `nbf` is further ahead than the leeway. "
        "With the default, a token minted on a host 5 s ahead is accepted, one 60 s ahead "
        "refused. `0` turns it off. See "
        "[Deployment](deployment.md#clock-sync-and-auth_clock_skew_s).",
        ge=0,
    )
    refresh_token_ttl_s: int = setting(
        7 * 24 * 60 * 60,
        TOKENS,
        "Refresh token lifetime, in seconds, and the session's `expires_at`. Each refresh renews "
        "it from the moment of the refresh.",
        gt=0,
    )
    password_reset_ttl_s: int = setting(60 * 60, TOKENS, "Reset token lifetime, in seconds.", gt=0)
    email_verification_ttl_s: int = setting(
        24 * 60 * 60,
        TOKENS,
        "Email-verification token lifetime, in seconds.",
        gt=0,
        shown="`86400` (24 h)",
    )
    email_change_ttl_s: int = setting(
        60 * 60, TOKENS, "Email-change token lifetime, in seconds.", gt=0, shown="`3600` (1 h)"
    )
    session_touch_interval_s: int = setting(
        60,
        TOKENS,
        "A session's `last_used_at` is written at most once per interval (seconds) by the "
        "requests that use it. This keeps most authenticated requests down to one read query.",
    )
    max_sessions_per_user: int = setting(
        0,
        TOKENS,
        "Active sessions kept per account; `0` means no limit. A login beyond it revokes the "
        "sessions used least recently (ties: the oldest), in the login's transaction: their "
        "tokens stop at once (event `session.evicted`).",
        ge=0,
    )
    session_idle_timeout_s: int = setting(
        0,
        TOKENS,
        "A session unused for this many seconds is expired: its tokens get 401 and it leaves "
        "the session list. A refresh counts as use. `0` turns it off; otherwise it must be "
        "greater than `AUTH_SESSION_TOUCH_INTERVAL_S`.",
        ge=0,
    )
    session_absolute_ttl_s: int = setting(
        0,
        TOKENS,
        "A session ends this many seconds after its login, refreshes or not: a refresh sets "
        "`expires_at` (and the refresh token's `exp`) to the earlier of a full refresh "
        "lifetime and that end. `0` turns it off.",
        ge=0,
    )
    refresh_reuse_grace_s: int = setting(
        0,
        TOKENS,
        "Within this many seconds of a rotation, the refresh token that rotation replaced (a "
        "retried request, a second browser tab) still refreshes: it gets a new access token and "
        "the session's current refresh token, with no second rotation and no revocation. `0` "
        "keeps reuse detection strict: any replaced token revokes the session.",
        ge=0,
        le=60,
    )

    # Routes
    url_prefix: UrlPath = setting(
        "/api/v1",
        ROUTES,
        "Where the routes are mounted (`/auth`, `/users`, `/sessions`, `/organizations`, "
        "`/admin` under it). Leading and trailing slashes are normalized.",
    )
    health_path: str = setting("/health", ROUTES, "The health route. It is not under the prefix.")
    registration_enabled: Flag = setting(
        True,
        ROUTES,
        "`false` makes `POST /auth/register` answer 403 `REGISTRATION_DISABLED`. Superusers "
        "can still create users through `/admin/users`.",
    )
    register_returns_tokens: Flag = setting(
        False,
        ROUTES,
        "`true` makes `POST /auth/register` also start a session for the device: the 201 "
        "answer has the user's fields plus `access_token, refresh_token, token_type, "
        "expires_in, user`, as a login's (for clients, like the original project's register "
        "form, that expect to be signed in).",
    )
    require_verified_email: Flag = setting(
        False,
        ROUTES,
        "`true` refuses a login with the right password for an active account whose email is "
        "not verified: 403 `EMAIL_NOT_VERIFIED`, and no session. Sessions already open keep "
        "working. See [Account security](account-security.md).",
    )
    send_verification_on_register: Flag | None = setting(
        None,
        ROUTES,
        "Mail a verification token after `POST /auth/register` answered. Unset: the value of "
        "`AUTH_REQUIRE_VERIFIED_EMAIL`. Users created by a superuser get none.",
        shown="the value of `AUTH_REQUIRE_VERIFIED_EMAIL`",
    )
    organization_creation_enabled: Flag = setting(
        True,
        ROUTES,
        "`false` makes `POST /organizations` answer 403 `ORGANIZATION_CREATION_DISABLED` for "
        "everyone but superusers.",
    )
    max_body_bytes: int = setting(
        1024 * 1024,
        ROUTES,
        "Largest accepted request body, in bytes. It sets Sanic's `REQUEST_MAX_SIZE`, which "
        "applies to the **whole app**, host routes included. Larger bodies get 413.",
        shown="`1048576` (1 MiB)",
    )
    max_header_bytes: int = setting(
        8192,
        ROUTES,
        "Largest request line and headers together, in bytes (Sanic's ceiling is "
        f"{MAX_HEADER_BYTES_CEILING:,}). It sets Sanic's `REQUEST_MAX_HEADER_SIZE` for the whole "
        "app. Larger heads get 431 `HEADERS_TOO_LARGE`, with the error body, on every path.",
        ge=1024,
        le=MAX_HEADER_BYTES_CEILING,
    )

    # Passwords
    password_hasher: Literal["bcrypt", "argon2id"] = setting(
        "bcrypt",
        PASSWORDS,
        "`bcrypt` or `argon2id` (argon2-cffi): new hashes use it, and a login whose stored hash "
        "uses the other algorithm or other parameters replaces it (no password change, no "
        "session revoked). The 72-byte limit applies only to bcrypt.",
    )
    bcrypt_rounds: int = setting(12, PASSWORDS, "bcrypt cost factor.", ge=4, le=31)
    argon2_memory_kib: int = setting(
        19456, PASSWORDS, "argon2id memory cost, in KiB (OWASP: 19 MiB).", ge=8, le=4 * 1024 * 1024
    )
    argon2_time_cost: int = setting(2, PASSWORDS, "argon2id passes (OWASP: 2).", ge=1, le=100)
    argon2_parallelism: int = setting(1, PASSWORDS, "argon2id lanes (OWASP: 1).", ge=1, le=64)
    hashing_threads: int | None = setting(
        None,
        PASSWORDS,
        "Threads for bcrypt and the strength estimator (per worker). Unset or `0` uses the "
        "number of CPUs.",
        ge=0,
        shown="CPU count",
    )
    password_min_length: int = setting(12, PASSWORDS, "Minimum length, in characters.")
    password_min_score: int = setting(
        3,
        PASSWORDS,
        "Minimum `zxcvbn` score. `0` turns the strength check off. The 72-byte bcrypt limit "
        "applies whenever the hasher is bcrypt.",
        ge=0,
        le=4,
    )

    # Database
    database_url: str | None = setting(
        None,
        DATABASE,
        "A Tortoise URL (`sqlite://file.sqlite3`, `postgres://user:pass@host:5432/db`). When "
        "set, the extension owns the Tortoise set-up: it initialises Tortoise in each worker and "
        "closes it at stop. When unset, the host app runs Tortoise itself (see [the host-app "
        "guide](host-app-guide.md#the-host-app-owns-tortoise)).",
    )
    migrate_on_start: Flag = setting(
        False,
        DATABASE,
        "Only with `AUTH_DATABASE_URL`: apply the migrations shipped with the package (aerich) "
        "at start. This runs once, in the main process, before the workers start. See "
        "[Migrations](migrations.md).",
    )
    generate_schemas: Flag = setting(
        False,
        DATABASE,
        "Only with `AUTH_DATABASE_URL`: create missing tables at start (after the migrations, "
        "when both are on). This runs once, in the main process, before the workers start. See "
        "[Migrations](migrations.md).",
    )
    database_pooler: Annotated[DatabasePooler, BeforeValidator(_lower)] = setting(
        "none",
        DATABASE,
        "Set `pgbouncer-transaction` when `AUTH_DATABASE_URL` goes through a pooler in "
        "transaction mode (PgBouncer `pool_mode = transaction`): nothing then relies on "
        "server-side named prepared statements (asyncpg's `statement_cache_size=0`; the "
        "authentication query runs unnamed). `none` keeps the authentication query a prepared "
        "statement. PostgreSQL only; when the host app owns Tortoise, its URL must have "
        "`statement_cache_size=0`, or the start fails. See "
        "[Deployment](deployment.md#connection-poolers-pgbouncer).",
    )
    migrations_database_url: str | None = setting(
        None,
        DATABASE,
        "A direct URL (not the pooler's) for schema work: `AUTH_MIGRATE_ON_START`, "
        "`AUTH_GENERATE_SCHEMAS`, and the `migrate` command, which reads it from the "
        "environment before `AUTH_DATABASE_URL`. It may name a role that owns the schema while "
        "the app's role only reads and writes rows.",
        shown="unset (`AUTH_DATABASE_URL`)",
    )
    first_superuser_email: str | None = setting(
        None,
        DATABASE,
        "With `AUTH_FIRST_SUPERUSER_PASSWORD`: a superuser created at start if no user has this "
        "email. An existing user with this email is left unchanged (not promoted); the log says "
        "so and gives the `create-superuser` command. Safe when several workers or hosts start "
        "at once.",
    )
    first_superuser_password: str | None = setting(
        None,
        DATABASE,
        "Its password. It must pass the password policy, otherwise the start fails.",
    )

    # Background cleanup
    cleanup_interval_s: int = setting(
        60 * 60,
        CLEANUP,
        "How often (seconds) each worker runs the cleanup of old sessions and spent reset "
        "tokens, give or take 10 % (jitter); one worker of one host cleans up at a time. `0` "
        "turns the background job off. See [Operations](operations.md).",
    )
    cleanup_batch_size: int = setting(
        5000, CLEANUP, "Rows deleted per transaction by the cleanup.", ge=1
    )
    session_audit_window_s: int = setting(
        30 * 24 * 60 * 60,
        CLEANUP,
        "How long (seconds) revoked and expired sessions are kept (for audit) before the "
        "cleanup deletes them.",
    )
    audit_retention_s: int = setting(
        90 * 24 * 60 * 60,
        CLEANUP,
        "How long (seconds) stored security events are kept before the cleanup deletes them.",
        gt=0,
    )

    # Rate limits and lockout
    rate_limit_enabled: Flag = setting(
        True,
        THROTTLE,
        "Turns the per-route limits below on or off, and with them every `@rate_limit` on host "
        "routes. It does not affect the lockout.",
    )
    rate_limit_storage_url: str = setting(
        "memory://",
        THROTTLE,
        "Where counters live. `memory://` counts per worker process. `redis://host:port/db` "
        "(also `rediss://` and `redis+unix://`) shares counts between workers and hosts; it "
        "needs the `redis` extra. The lockout uses the same storage.",
    )
    rate_limit_strategy: Annotated[RateLimitStrategy, BeforeValidator(_lower)] = setting(
        "moving-window", THROTTLE, "How the limits count requests."
    )
    rate_limit_fail_open: Flag = setting(
        True,
        THROTTLE,
        "When the storage does not answer: `true` lets requests through unlimited (and logs an "
        "error), `false` answers 503 `SERVICE_UNAVAILABLE`. It applies to the lockout too.",
    )
    rate_limit_storage_timeout_ms: int = setting(
        100,
        THROTTLE,
        "Milliseconds: one time budget per request for all its calls to the storage (rate "
        "limits and lockout together). Once spent, the request's remaining calls are not made "
        "and count as failures of the storage (above). See "
        "[Deployment](deployment.md#redis-the-time-budget-and-the-circuit-breaker).",
        ge=1,
    )
    rate_limit_breaker_cooldown_s: int = setting(
        30,
        THROTTLE,
        "Seconds: after 3 failed storage calls in a row, the storage is not called for this "
        "long (fail open: no limits, no delay; fail closed: 503 at once); then one request "
        "tries it again. One log line when the breaker opens, one when it closes.",
        ge=0,
    )
    rate_limit_register: str = setting(
        "5/minute", THROTTLE, "`POST /auth/register`, per client IP."
    )
    rate_limit_login: str = setting(
        "10/minute", THROTTLE, "`POST /auth/login` and `/auth/login/oauth`, per client IP."
    )
    rate_limit_login_email: str = setting(
        "10/minute",
        THROTTLE,
        "The same routes, per submitted email (normalized: NFKC, trimmed, lower-cased; the "
        "same value the handler logs in with).",
    )
    rate_limit_refresh: str = setting("30/minute", THROTTLE, "`POST /auth/refresh`, per client IP.")
    rate_limit_password_reset_request: str = setting(
        "3/minute", THROTTLE, "`POST /auth/password-reset/request`, per client IP."
    )
    rate_limit_password_reset_confirm: str = setting(
        "5/minute", THROTTLE, "`POST /auth/password-reset/confirm`, per client IP."
    )
    rate_limit_logout_all: str = setting(
        "5/minute", THROTTLE, "`POST /auth/logout-all`, per client IP."
    )
    rate_limit_session_list: str = setting(
        "30/minute", THROTTLE, "`GET /sessions/me`, per client IP."
    )
    rate_limit_session_revoke: str = setting(
        "10/minute", THROTTLE, "`DELETE /sessions/{id}`, per client IP."
    )
    rate_limit_revoke_others: str = setting(
        "5/minute", THROTTLE, "`POST /sessions/revoke-others`, per client IP."
    )
    rate_limit_introspect: str = setting(
        "600/minute", THROTTLE, "`POST /auth/introspect`, per introspection client."
    )
    rate_limit_password_change: str = setting(
        "5/minute", THROTTLE, "`PATCH /users/me/password`, per user."
    )
    rate_limit_profile_update: str = setting("10/minute", THROTTLE, "`PATCH /users/me`, per user.")
    rate_limit_email_change: str = setting(
        "3/minute;10/hour", THROTTLE, "`POST /users/me/email`, per user."
    )
    rate_limit_email_change_confirm: str = setting(
        "10/minute", THROTTLE, "`POST /auth/email-change/confirm`, per client IP."
    )
    rate_limit_verify_email_request: str = setting(
        "3/minute", THROTTLE, "`POST /auth/verify-email/request`, per client IP."
    )
    rate_limit_verify_email_confirm: str = setting(
        "10/minute", THROTTLE, "`POST /auth/verify-email/confirm`, per client IP."
    )
    rate_limit_add_member: str = setting(
        "20/minute",
        THROTTLE,
        "`POST /organizations/{id}/members` and `POST /admin/organizations/{id}/members` when "
        "the body names an `email`, per user.",
    )
    rate_limit_security_events: str = setting(
        "30/minute", THROTTLE, "`GET /users/me/security-events`, per user."
    )
    lockout_enabled: Flag = setting(
        True,
        THROTTLE,
        "Lock an email after repeated attempts with its credentials (429 `ACCOUNT_LOCKED`).",
    )
    lockout_max_failures: int = setting(
        5,
        THROTTLE,
        "Credential checks an email gets per window; the next attempt locks it.",
    )
    lockout_window_s: int = setting(
        15 * 60,
        THROTTLE,
        "Seconds: the counting window, from the first attempt, and the lock duration, from the "
        "attempt that locked (or the latest one refused while locked).",
    )

    rate_limit_login_mfa: str = setting(
        "10/minute", THROTTLE, "`POST /auth/login/mfa`, per client IP."
    )
    rate_limit_reauthenticate: str = setting(
        "5/minute", THROTTLE, "`POST /auth/reauthenticate`, per user."
    )
    rate_limit_mfa_manage: str = setting(
        "5/minute",
        THROTTLE,
        "`POST /users/me/mfa/totp/setup`, `/totp/confirm`, `/disable` and `/recovery-codes` "
        "together, per user.",
    )

    # Two-factor authentication
    mfa_issuer: str | None = setting(
        None,
        MFA,
        "The issuer label of the `otpauth://` URI (what authenticator apps show above the "
        "account).",
        shown="the value of `AUTH_ISSUER`",
    )
    mfa_encryption_key: str | None = setting(
        None,
        MFA,
        f"{MFA_KEY_BYTES} random bytes, base64, that encrypt the TOTP secrets at rest "
        "(AES-256-GCM) and key the recovery-code hashes. Independent of the signing keys: "
        "rotating those never makes a secret unusable. Required in production (the start "
        "refuses without it); in `development` and `test` it is derived from "
        "`AUTH_SECRET_KEY` (HKDF) when unset. Make one with "
        "`python -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'`.",
        shown="derived in `development`/`test`; required in production",
    )
    mfa_setup_ttl_s: int = setting(
        600, MFA, "How long a started TOTP enrolment waits for its confirmation, seconds.", gt=0
    )
    mfa_token_ttl_s: int = setting(
        300,
        MFA,
        "How long the `mfa_token` of a login's password step stays valid, seconds.",
        gt=0,
    )
    mfa_max_attempts: int = setting(
        5, MFA, "Codes tried with one `mfa_token`; after that many wrong ones it is dead.", ge=1
    )
    fresh_auth_max_age_s: int = setting(
        300,
        MFA,
        "How long after an authentication (a login or a re-authentication) a session counts as "
        "fresh, seconds: the sensitive routes need a fresh session or a proof in the body.",
        gt=0,
    )

    # Passkeys
    webauthn_rp_id: Annotated[str | None, BeforeValidator(_lower)] = setting(
        None,
        PASSKEYS,
        "The WebAuthn relying-party id: the registrable domain the passkeys belong to "
        "(`example.com`, or `localhost` in development). Unset: the passkey routes answer 404. "
        "See [Passkeys](passkeys.md).",
        shown="none",
    )
    webauthn_rp_name: str | None = setting(
        None,
        PASSKEYS,
        "The relying party's name that authenticators show.",
        shown="the value of `AUTH_ISSUER`",
    )
    webauthn_origins: StringList = setting(
        (),
        PASSKEYS,
        "The origins (`https://app.example`) whose pages may register and use passkeys; "
        "required with `AUTH_WEBAUTHN_RP_ID`.",
        shown="none",
    )
    webauthn_user_verification: Annotated[UserVerification, BeforeValidator(_lower)] = setting(
        "required",
        PASSKEYS,
        "`required` or `preferred`: whether authenticators must verify the user (PIN, "
        "biometrics). With `preferred`, an account with two-factor authentication still needs "
        "a user-verified passkey to log in.",
    )
    webauthn_challenge_ttl_s: int = setting(
        300, PASSKEYS, "How long a passkey challenge (options) stays usable, seconds.", gt=0
    )
    rate_limit_passkey: str = setting(
        "10/minute",
        PASSKEYS,
        "The passkey options and verify routes (registration and authentication), per client IP.",
    )

    # Client addresses
    trusted_proxies: Networks = setting(
        (),
        CLIENTS,
        "IP addresses or CIDR networks of your reverse proxies. `X-Forwarded-For` is believed "
        "only when the direct peer is one of them. See "
        "[Deployment](deployment.md#behind-a-reverse-proxy).",
    )

    # Headers
    csp_mode: Annotated[CspMode, BeforeValidator(_lower)] = setting(
        "strict",
        HEADERS,
        "`strict` (`default-src 'none'`), `relaxed` (same-origin pages work) or `disabled` (no "
        "CSP header). The OpenAPI pages get their own policy. The exact values are in [the "
        "security model](security.md#security-headers).",
    )
    security_headers_enabled: Flag = setting(
        True, HEADERS, "`false` turns off every security header, the CSP included."
    )
    cors_origins: StringList = setting(
        (),
        HEADERS,
        "Explicit allowed origins (`https://app.example`). `*` is refused at start. No origins "
        "means no CORS headers at all.",
    )

    # Browser cookies
    transport: Annotated[Transport, BeforeValidator(_lower)] = setting(
        "bearer",
        COOKIES,
        "How tokens travel: `bearer` (in bodies and the `Authorization` header), `cookie` "
        "(HttpOnly cookies with CSRF protection) or `both` (cookies for requests that send "
        "`X-Auth-Transport: cookie`). See [Browser cookies](cookies.md).",
    )
    cookie_access_name: CookieName = setting(
        "access_token", COOKIES, "The access token's cookie (HttpOnly, `Path=/`)."
    )
    cookie_refresh_name: CookieName = setting(
        "refresh_token",
        COOKIES,
        "The refresh token's cookie (HttpOnly, `SameSite=Strict`, sent only to the auth routes).",
    )
    cookie_csrf_name: CookieName = setting(
        "csrf_token",
        COOKIES,
        "The CSRF cookie, readable by scripts: send its value as `X-CSRF-Token`.",
    )
    cookie_domain: str | None = setting(
        None,
        COOKIES,
        "The cookies' `Domain` attribute. Unset: host-only cookies.",
        shown="none",
    )
    csrf_trusted_origins: StringList = setting(
        (),
        COOKIES,
        "Origins (`https://app.example`) allowed to send cookie requests. Empty: those of "
        "`AUTH_CORS_ORIGINS`. With `cookie` or `both`, no origin at all stops the start.",
        shown="those of `AUTH_CORS_ORIGINS`",
    )

    # Security events and notifications
    security_notifications: NotificationKinds = setting(
        NOTIFICATION_KINDS,
        EVENTS,
        "Which security notification mails are sent (after the answer, through the mailer's "
        "`send_message`): a comma-separated list of "
        + ", ".join(f"`{kind}`" for kind in NOTIFICATION_KINDS)
        + ". Empty: none. An unknown kind stops the start. See "
        "[the security model](security.md#security-events).",
        shown="`" + ",".join(NOTIFICATION_KINDS) + "`",
    )

    # Social login
    oauth_google_client_id: str | None = setting(
        None, SOCIAL, "Google's OAuth client id; with its secret, enables the `google` provider."
    )
    oauth_google_client_secret: str | None = setting(None, SOCIAL, "Google's client secret.")
    oauth_github_client_id: str | None = setting(
        None, SOCIAL, "GitHub's OAuth app client id; with its secret, enables `github`."
    )
    oauth_github_client_secret: str | None = setting(None, SOCIAL, "GitHub's client secret.")
    oidc_providers: OidcProviders = setting(
        (),
        SOCIAL,
        'Other OpenID Connect providers, a JSON list of `{"name", "display_name", "issuer", '
        '"client_id", "client_secret", "scopes"?, "icon"?}` (`name`: `^[a-z0-9-]{1,32}$`, '
        "unique; `scopes` default `openid email profile`). Each is found by discovery at "
        "`{issuer}/.well-known/openid-configuration`. See [Social login](social-login.md).",
        shown="none",
    )
    oauth_redirect_uris: StringList = setting(
        (),
        SOCIAL,
        "The front-end callback URIs a social login may return to, compared exactly, with "
        "`{provider}` standing for the provider's name "
        "(`https://app.example/auth/callback/{provider}`). Required once a provider is set.",
    )
    oauth_state_ttl_s: int = setting(
        600,
        SOCIAL,
        "How long a started social login or link waits for its callback, seconds.",
        gt=0,
    )
    oauth_auto_link_by_email: Flag = setting(
        True,
        SOCIAL,
        "Link a new social identity to the existing account of the same email when the "
        "provider verified the email and the account is verified; `false`: 409 "
        "`OAUTH_ACCOUNT_EXISTS` (the user logs in and links from the settings).",
    )
    oauth_http_timeout_s: float = setting(
        10, SOCIAL, "Time allowed for each call to a provider, seconds.", gt=0
    )
    oidc_discovery_cache_s: int = setting(
        3600, SOCIAL, "How long a provider's discovery document and keys are kept, seconds.", ge=0
    )
    rate_limit_oauth: str = setting(
        "10/minute",
        SOCIAL,
        "`GET /oauth/authorize/{provider}`, `POST /oauth/callback/{provider}` and "
        "`POST /oauth/link/{provider}`, each per client IP.",
    )
    rate_limit_oauth_unlink: str = setting(
        "5/minute", SOCIAL, "`DELETE /oauth/accounts/{provider}`, per user."
    )

    @field_validator("secret_key", mode="before")
    @classmethod
    def _secret_or_development_key(cls, value: Any, info: ValidationInfo) -> Any:
        if value:
            return str(value)
        if info.data.get("environment") in INSECURE_ENVIRONMENTS:
            return DEV_SECRET_KEY
        raise _refuse(
            "is required outside development and test "
            f"(at least {MIN_SECRET_KEY_CHARS} characters)."
        )

    @field_validator("mfa_encryption_key", mode="before")
    @classmethod
    def _mfa_key_is_32_bytes(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        try:
            raw = base64.b64decode(str(value).strip(), validate=True)
        except (binascii.Error, ValueError):
            raise _refuse("must be base64.") from None
        if len(raw) != MFA_KEY_BYTES:
            raise _refuse(f"must be {MFA_KEY_BYTES} bytes (base64), not {len(raw)}.")
        return str(value).strip()

    @model_validator(mode="after")
    def _mfa_key_in_production(self) -> AuthSettings:
        if self.is_production and self.mfa_encryption_key is None:
            raise _refuse(
                f"AUTH_MFA_ENCRYPTION_KEY is required when AUTH_ENVIRONMENT is "
                f"{self.environment!r} ({MFA_KEY_BYTES} random bytes, base64)."
            )
        return self

    @model_validator(mode="after")
    def _redirect_uris_with_providers(self) -> AuthSettings:
        if self.social_login_configured and not self.oauth_redirect_uris:
            raise _refuse(
                "AUTH_OAUTH_REDIRECT_URIS is required once a social login provider is configured."
            )
        return self

    @model_validator(mode="after")
    def _webauthn_origins_with_the_rp_id(self) -> AuthSettings:
        if self.webauthn_rp_id and not self.webauthn_origins:
            raise _refuse(
                "AUTH_WEBAUTHN_ORIGINS is required with AUTH_WEBAUTHN_RP_ID (the origins of the "
                "pages that use passkeys, e.g. https://app.example)."
            )
        return self

    @model_validator(mode="after")
    def _idle_timeout_outlasts_the_touch(self) -> AuthSettings:
        # last_used_at is written at most once per touch interval: a shorter idle timeout
        # would end sessions that are in use.
        idle = self.session_idle_timeout_s
        if idle and idle <= self.session_touch_interval_s:
            raise _refuse(
                f"AUTH_SESSION_IDLE_TIMEOUT_S ({idle}) must be greater than "
                f"AUTH_SESSION_TOUCH_INTERVAL_S ({self.session_touch_interval_s})."
            )
        return self

    @model_validator(mode="after")
    def _keys_fit_the_algorithm(self) -> AuthSettings:
        asymmetric = self.algorithm.startswith(ASYMMETRIC_PREFIXES)
        if self.verification_keys and not asymmetric:
            raise _refuse(
                f"AUTH_VERIFICATION_KEYS are public keys: they need an RS* or ES* "
                f"AUTH_ALGORITHM, not {self.algorithm}."
            )
        if asymmetric and not self.public_key:
            raise _refuse(
                f"AUTH_ALGORITHM={self.algorithm} needs AUTH_SECRET_KEY (the private key, PEM) "
                "and AUTH_PUBLIC_KEY (PEM)."
            )
        if self.is_production and not asymmetric and len(self.secret_key) < MIN_SECRET_KEY_CHARS:
            raise _refuse(
                f"AUTH_SECRET_KEY must be at least {MIN_SECRET_KEY_CHARS} characters when "
                f"AUTH_ENVIRONMENT is {self.environment!r}."
            )
        return self

    @model_validator(mode="after")
    def _cookies_have_origins(self) -> AuthSettings:
        if self.transport != "bearer" and not self.csrf_origins:
            raise _refuse(
                f"AUTH_TRANSPORT={self.transport} needs the origins allowed to send cookie "
                "requests: set AUTH_CSRF_TRUSTED_ORIGINS (or AUTH_CORS_ORIGINS)."
            )
        return self

    @property
    def csrf_origins(self) -> tuple[str, ...]:
        """``AUTH_CSRF_TRUSTED_ORIGINS``, or ``AUTH_CORS_ORIGINS`` when unset."""
        return self.csrf_trusted_origins or self.cors_origins

    @property
    def uses_cookies(self) -> bool:
        return self.transport != "bearer"

    @property
    def is_production(self) -> bool:
        return self.environment not in INSECURE_ENVIRONMENTS

    @property
    def sends_verification_on_register(self) -> bool:
        """``AUTH_SEND_VERIFICATION_ON_REGISTER``, or ``AUTH_REQUIRE_VERIFIED_EMAIL`` unset."""
        if self.send_verification_on_register is None:
            return self.require_verified_email
        return self.send_verification_on_register

    @property
    def social_login_configured(self) -> bool:
        """A social login provider has its client id and secret."""
        return bool(
            (self.oauth_google_client_id and self.oauth_google_client_secret)
            or (self.oauth_github_client_id and self.oauth_github_client_secret)
            or self.oidc_providers
        )

    @property
    def mfa_issuer_label(self) -> str:
        """``AUTH_MFA_ISSUER``, or ``AUTH_ISSUER`` when unset."""
        return self.mfa_issuer or self.issuer

    @property
    def passkeys_enabled(self) -> bool:
        """Whether ``AUTH_WEBAUTHN_RP_ID`` is set (the passkey routes answer 404 otherwise)."""
        return bool(self.webauthn_rp_id)

    @property
    def webauthn_rp_label(self) -> str:
        """``AUTH_WEBAUTHN_RP_NAME``, or ``AUTH_ISSUER`` when unset."""
        return self.webauthn_rp_name or self.issuer

    @property
    def verification_key(self) -> str:
        """Key that checks signatures: the public key for RS/ES algorithms."""
        if self.algorithm.startswith(ASYMMETRIC_PREFIXES):
            return self.public_key or ""
        return self.secret_key

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AuthSettings:
        """Settings from ``AUTH_*`` keys (``app.config``); defaults fill the missing ones."""
        raw = {
            name: config[config_key(name)]
            for name in cls.model_fields
            if config_key(name) in config
        }
        return cls.from_mapping(raw)

    @classmethod
    def from_defaults(cls, **overrides: Any) -> AuthSettings:
        """Settings from the documented defaults, e.g. ``from_defaults(environment="test")``."""
        return cls.from_mapping(overrides)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> AuthSettings:
        """Settings from lower-case names; :class:`ConfigurationError` names each bad key."""
        try:
            return cls.model_validate(dict(raw))
        except ValidationError as exc:
            raise ConfigurationError(
                " ".join(_explain(error) for error in exc.errors(include_url=False))
            ) from None


def config_key(name: str) -> str:
    """``access_token_ttl_s`` → ``AUTH_ACCESS_TOKEN_TTL_S``."""
    return CONFIG_PREFIX + name.upper()


# The default of each setting by upper-case name without the prefix (``DEFAULTS["BCRYPT_ROUNDS"]``).
DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {name.upper(): field.default for name, field in AuthSettings.model_fields.items()}
)


def fallback_config() -> dict[str, Any]:
    """Every ``AUTH_*`` key with its default: what a host app gets for the keys it leaves unset."""
    return {CONFIG_PREFIX + key: value for key, value in DEFAULTS.items()}


def _bounds(name: str) -> tuple[Any, Any]:
    low = high = None
    for item in AuthSettings.model_fields[name].metadata:
        if isinstance(item, annotated_types.Ge):
            low = item.ge
        elif isinstance(item, annotated_types.Le):
            high = item.le
    return low, high


def _explain(error: Mapping[str, Any]) -> str:
    """One pydantic error as a sentence that names the ``AUTH_*`` key."""
    loc = [part for part in error["loc"] if isinstance(part, str)]
    kind, given, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    if not loc:  # a rule across settings: its message names the keys itself
        return str(error["msg"])
    name = loc[0]
    key = config_key(name)
    if kind == _SETTING_ERROR:
        return f"{key} {error['msg']}"
    if kind in ("greater_than_equal", "less_than_equal"):
        low, high = _bounds(name)
        rule = (
            f"between {low} and {high}"
            if low is not None and high is not None
            else (f"at least {low}" if low is not None else f"at most {high}")
        )
        return f"{key} must be {rule}, not {given!r}."
    if kind == "greater_than" and ctx.get("gt") == 0:
        return f"{key} must be positive, not {given!r}."
    if kind == "literal_error":
        expected = str(ctx["expected"])
        return f"{key} must be {'one of ' if ',' in expected else ''}{expected}, not {given!r}."
    if kind in ("bool_parsing", "bool_type"):
        return f"{key} must be a boolean, not {given!r}."
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{key} must be an integer, not {given!r}."
    if kind == "extra_forbidden":
        return f"{name!r} is not a setting."
    return f"{key}: {error['msg']} (given {given!r})."
