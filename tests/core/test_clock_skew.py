"""``AUTH_CLOCK_SKEW_S``: tokens minted on a host whose clock is ahead or behind.

"A host 5 s ahead" is the app's own codec (same keys) minting with a clock 5 s fast, as another
instance of the app would.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import jwt
import pytest

from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.core.errors import InvalidToken
from sanic_auth_sessions.core.tokens import TokenCodec, TokenType, new_jti

from ..conftest import RunningApp, bearer

SECRET = "s" * 40


def codec(**overrides: Any) -> TokenCodec:
    return TokenCodec(
        AuthSettings.from_defaults(environment="test", secret_key=SECRET, **overrides)
    )


def minted(
    issuer: TokenCodec, ahead_s: float, type: TokenType = "access", jti: str | None = None
) -> str:
    """A token from a host whose clock is ``ahead_s`` seconds ahead (negative: behind)."""
    now = datetime.now(timezone.utc) + timedelta(seconds=ahead_s)
    return issuer.encode(
        user_id=uuid4(),
        session_id=uuid4(),
        jti=jti or new_jti(),
        type=type,
        now=now,
        auth_time=now,
        amr=("pwd",),
    )


def signed(**claims: Any) -> str:
    settings = AuthSettings.from_defaults(environment="test", secret_key=SECRET)
    now = int(time.time())
    payload = {
        "sub": str(uuid4()),
        "sid": str(uuid4()),
        "jti": new_jti(),
        "type": "access",
        "iat": now,
        "exp": now + 60,
        "iss": settings.issuer,
        "aud": settings.audience,
        "auth_time": now,
        "amr": ["pwd"],
        **claims,
    }
    return jwt.encode(payload, SECRET, algorithm="HS256")


@pytest.mark.parametrize("type", ["access", "refresh"])
def test_the_default_leeway_accepts_5_s_ahead_and_refuses_60_s_ahead(type: TokenType) -> None:
    verifier = codec()
    assert verifier.decode(minted(verifier, 5, type), type).type == type
    with pytest.raises(InvalidToken):
        verifier.decode(minted(verifier, 60, type), type)


def test_without_leeway_a_token_from_a_host_a_few_seconds_ahead_is_refused() -> None:
    verifier = codec(clock_skew_s=0)
    with pytest.raises(InvalidToken):
        verifier.decode(minted(verifier, 5), "access")


def test_exp_and_nbf_have_the_same_leeway() -> None:
    verifier = codec(clock_skew_s=10)
    now = int(time.time())
    assert verifier.decode(signed(iat=now - 600, exp=now - 5), "access")  # expired 5 s ago
    assert verifier.decode(signed(nbf=now + 5), "access")
    for token in (signed(iat=now - 600, exp=now - 15), signed(nbf=now + 15)):
        with pytest.raises(InvalidToken):
            verifier.decode(token, "access")


def test_the_token_cache_honours_the_leeway_on_exp() -> None:
    verifier = codec(clock_skew_s=2)
    exp = int(time.time()) + 1
    token = signed(exp=exp)
    first = verifier.decode(token, "access")
    time.sleep(max(0.0, exp - time.time()) + 0.1)
    # Past ``exp`` but within the leeway: still accepted, and from the cache.
    assert verifier.decode(token, "access") is first
    time.sleep(max(0.0, exp + 2 - time.time()) + 0.1)
    with pytest.raises(InvalidToken):
        verifier.decode(token, "access")


async def test_a_running_app_accepts_tokens_of_a_host_5_s_ahead(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("skewed@example.com")
    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    refresh = jwt.decode(tokens["refresh_token"], options={"verify_signature": False})
    other_host: TokenCodec = api.app.ctx.auth_manager.codec  # same keys, clock ahead

    def mint(ahead_s: int, type: TokenType, jti: str) -> str:
        now = datetime.now(timezone.utc) + timedelta(seconds=ahead_s)
        return other_host.encode(
            user_id=UUID(access["sub"]),
            session_id=UUID(access["sid"]),
            jti=jti,
            type=type,
            now=now,
            auth_time=now,
            amr=("pwd",),
        )

    me = await api.client.get(
        api.url("/users/me"), headers=bearer({"access_token": mint(5, "access", new_jti())})
    )
    assert me.status_code == 200, me.text
    refused = await api.client.get(
        api.url("/users/me"), headers=bearer({"access_token": mint(60, "access", new_jti())})
    )
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["code"] == "AUTH_INVALID_TOKEN"
    rotated = await api.client.post(
        api.url("/auth/refresh"), json={"refresh_token": mint(5, "refresh", refresh["jti"])}
    )
    assert rotated.status_code == 200, rotated.text
