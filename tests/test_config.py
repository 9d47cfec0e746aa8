from __future__ import annotations

from uuid import uuid4

import pytest
from sanic import Sanic

from sanic_auth_sessions import AuthSessions, AuthSettings, ConfigurationError


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
        AuthSettings.from_defaults(secret_key="short")
    settings = AuthSettings.from_defaults(secret_key="s" * 32)
    assert settings.is_production


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
    settings = AuthSettings.from_app(app)
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
        environment="production", algorithm="rs256", secret_key="PRIVATE", public_key="PUBLIC"
    )
    assert settings.verification_key == "PUBLIC"
