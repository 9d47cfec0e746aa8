from __future__ import annotations

import base64
from uuid import uuid4

import pytest
from pydantic import ValidationError
from sanic import Sanic

from sanic_auth_sessions import AuthSessions, AuthSettings, ConfigurationError
from sanic_auth_sessions.core.config import DEFAULTS, fallback_config
from sanic_auth_sessions.http.app_config import settings_from_app

MFA_KEY = base64.b64encode(b"m" * 32).decode()


def test_defaults() -> None:
    settings = AuthSettings.from_defaults(environment="test")
    assert settings.algorithm == "HS256"
    assert settings.access_token_ttl_s == 900
    assert settings.refresh_token_ttl_s == 7 * 24 * 3600
    assert settings.url_prefix == "/api/v1"
    assert settings.bcrypt_rounds == 12
    assert settings.registration_enabled is True
    assert settings.trusted_proxies == ()
    assert not settings.is_production


def test_production_requires_a_long_secret() -> None:
    with pytest.raises(ConfigurationError, match="AUTH_SECRET_KEY is required"):
        AuthSettings.from_defaults()
    with pytest.raises(ConfigurationError, match="at least 32"):
        AuthSettings.from_defaults(secret_key="short", mfa_encryption_key=MFA_KEY)
    settings = AuthSettings.from_defaults(secret_key="s" * 32, mfa_encryption_key=MFA_KEY)
    assert settings.is_production


def test_production_requires_an_mfa_encryption_key_of_32_bytes() -> None:
    with pytest.raises(ConfigurationError, match="AUTH_MFA_ENCRYPTION_KEY is required"):
        AuthSettings.from_defaults(secret_key="s" * 32)
    short = base64.b64encode(b"k" * 16).decode()
    with pytest.raises(ConfigurationError, match="AUTH_MFA_ENCRYPTION_KEY must be 32 bytes"):
        AuthSettings.from_defaults(secret_key="s" * 32, mfa_encryption_key=short)
    with pytest.raises(ConfigurationError, match="AUTH_MFA_ENCRYPTION_KEY must be base64"):
        AuthSettings.from_defaults(environment="test", mfa_encryption_key="not base64!")
    # In development and test a key is derived from the secret key when none is set.
    derived = AuthSettings.from_defaults(environment="test")
    assert derived.mfa_encryption_key is None
    assert derived.mfa_issuer_label == derived.issuer


def test_host_settings_win_and_fallbacks_fill_the_rest() -> None:
    app = Sanic(f"cfg_{uuid4().hex[:8]}")
    app.config.update(
        AUTH_ENVIRONMENT="test",
        AUTH_ACCESS_TOKEN_TTL_S="60",
        AUTH_REGISTRATION_ENABLED="false",
        AUTH_TRUSTED_PROXIES="10.0.0.0/8, 192.168.1.1",
        AUTH_CORS_ORIGINS='["https://app.example.com"]',
        AUTH_URL_PREFIX="api/v2/",
    )
    settings = settings_from_app(app)
    assert settings.access_token_ttl_s == 60
    assert settings.registration_enabled is False
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.0/8", "192.168.1.1/32"]
    assert settings.cors_origins == ("https://app.example.com",)
    assert settings.url_prefix == "/api/v2"
    assert app.config.AUTH_REFRESH_TOKEN_TTL_S == 7 * 24 * 3600  # fallback added


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"algorithm": "none"}, "AUTH_ALGORITHM"),
        ({"algorithm": "RS256"}, "AUTH_PUBLIC_KEY"),
        ({"access_token_ttl_s": 0}, "must be positive"),
        ({"access_token_ttl_s": "soon"}, "integer"),
        ({"bcrypt_rounds": 3}, "BCRYPT_ROUNDS"),
        ({"password_min_score": 5}, "MIN_SCORE"),
        ({"registration_enabled": "perhaps"}, "boolean"),
        ({"trusted_proxies": "not-an-ip"}, "TRUSTED_PROXIES"),
        ({"cors_origins": "[oops"}, "JSON"),
        ({"cors_origins": 5}, "list"),
        ({"csp_mode": "loose"}, "CSP_MODE"),
        ({"rate_limit_strategy": "sliding"}, "STRATEGY"),
    ],
)
def test_invalid_settings_are_refused_at_start(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        AuthSettings.from_defaults(environment="test", **overrides)


def test_app_refuses_to_start_without_secret_in_production() -> None:
    app = Sanic(f"prod_{uuid4().hex[:8]}")
    with pytest.raises(ConfigurationError):
        app.extend(extensions=[AuthSessions()])


def test_asymmetric_settings_use_the_public_key() -> None:
    settings = AuthSettings.from_defaults(
        environment="production",
        algorithm="rs256",
        secret_key="PRIVATE",
        public_key="PUBLIC",
        mfa_encryption_key=MFA_KEY,
    )
    assert settings.verification_key == "PUBLIC"


def test_environment_variables_reach_the_settings_through_sanic(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Sanic loads SANIC_-prefixed variables into app.config, converting "120" and "no" itself.
    monkeypatch.setenv("SANIC_AUTH_ACCESS_TOKEN_TTL_S", "120")
    monkeypatch.setenv("SANIC_AUTH_REGISTRATION_ENABLED", "no")
    monkeypatch.setenv("SANIC_AUTH_SECRET_KEY", "1" * 40)  # digits: Sanic makes it an int
    monkeypatch.setenv("SANIC_AUTH_CSP_MODE", "Relaxed")
    monkeypatch.setenv("SANIC_AUTH_MFA_ENCRYPTION_KEY", MFA_KEY)
    monkeypatch.setenv("SANIC_AUTH_REFRESH_TOKEN_TTL_S", "600")
    app = Sanic(f"env_{uuid4().hex[:8]}")
    app.config.AUTH_REFRESH_TOKEN_TTL_S = 700  # assigned in code afterwards: it wins
    settings = settings_from_app(app)
    assert settings.access_token_ttl_s == 120
    assert settings.registration_enabled is False
    assert settings.secret_key == "1" * 40
    assert settings.csp_mode == "relaxed"
    assert settings.refresh_token_ttl_s == 700
    assert settings.is_production


def test_a_value_the_host_set_is_never_replaced_by_a_default() -> None:
    app = Sanic(f"cfg_{uuid4().hex[:8]}")
    app.config.update(AUTH_ENVIRONMENT="test", AUTH_DATABASE_URL=None, AUTH_LOCKOUT_ENABLED=False)
    settings = settings_from_app(app)
    assert settings.database_url is None
    assert settings.lockout_enabled is False
    assert app.config.AUTH_LOCKOUT_ENABLED is False
    assert app.config.AUTH_CSP_MODE == "strict"


def test_settings_read_from_a_plain_mapping() -> None:
    settings = AuthSettings.from_config(
        {"AUTH_ENVIRONMENT": "Development", "AUTH_BCRYPT_ROUNDS": "4", "OTHER": 1}
    )
    assert settings.environment == "development"
    assert settings.bcrypt_rounds == 4
    assert settings.secret_key  # the development key
    assert settings.rate_limit_login == DEFAULTS["RATE_LIMIT_LOGIN"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"bcrypt_rounds": 3}, r"^AUTH_BCRYPT_ROUNDS must be between 4 and 31, not 3\.$"),
        ({"cleanup_batch_size": 0}, r"^AUTH_CLEANUP_BATCH_SIZE must be at least 1, not 0\.$"),
        ({"max_header_bytes": 20000}, r"AUTH_MAX_HEADER_BYTES must be between 1024 and 16384"),
        ({"access_token_cache_size": -1}, "AUTH_ACCESS_TOKEN_CACHE_SIZE must be at least 0"),
        ({"refresh_token_ttl_s": -5}, "AUTH_REFRESH_TOKEN_TTL_S must be positive"),
        ({"rate_limit_strategy": "x"}, r"must be 'moving-window' or 'fixed-window', not 'x'"),
        ({"database_pooler": "pgpool"}, "AUTH_DATABASE_POOLER must be"),
        ({"hashing_threads": "many"}, "AUTH_HASHING_THREADS must be an integer"),
        ({"lockout_enabled": None}, "AUTH_LOCKOUT_ENABLED must be a boolean, not None"),
        ({"issuer": None}, r"^AUTH_ISSUER: "),
        ({"secret_key_typo": "x"}, "'secret_key_typo' is not a setting"),
        # Every bad key is named, not only the first.
        ({"bcrypt_rounds": "x", "csp_mode": "x"}, "AUTH_BCRYPT_ROUNDS.* AUTH_CSP_MODE"),
    ],
)
def test_messages_name_the_key_and_the_rule(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        AuthSettings.from_defaults(environment="test", **overrides)


def test_forgiving_values() -> None:
    settings = AuthSettings.from_defaults(
        environment=" TEST ",
        registration_enabled=" Yes ",
        generate_schemas="off",
        lockout_max_failures=" 7 ",
        trusted_proxies=("10.1.2.3/8", "", " ::1 "),
        cors_origins="https://a.example, https://b.example,",
        algorithm="hs512",
        url_prefix="/",
        hashing_threads="0",
    )
    assert settings.environment == "test"
    assert settings.registration_enabled is True
    assert settings.generate_schemas is False
    assert settings.lockout_max_failures == 7
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.0/8", "::1/128"]
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.algorithm == "HS512"
    assert settings.url_prefix == "/"
    assert settings.hashing_threads == 0
    assert AuthSettings.from_defaults(environment="test", cors_origins=None).cors_origins == ()


def test_settings_are_frozen_and_defaults_read_only() -> None:
    settings = AuthSettings.from_defaults(environment="test")
    with pytest.raises(ValidationError):
        settings.bcrypt_rounds = 4  # type: ignore[misc]
    with pytest.raises(TypeError):
        DEFAULTS["BCRYPT_ROUNDS"] = 4  # type: ignore[index]
    assert fallback_config()["AUTH_BCRYPT_ROUNDS"] == 12
