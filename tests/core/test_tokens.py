from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timedelta, timezone
from uuid import uuid4

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sanic_auth_sessions.core.config import AuthSettings, ConfigurationError
from sanic_auth_sessions.core.errors import InvalidToken
from sanic_auth_sessions.core.tokens import TokenCodec, new_jti

SETTINGS = AuthSettings.from_defaults(environment="test", secret_key="k" * 40)
CODEC = TokenCodec(SETTINGS)
NOW = datetime.now(timezone.utc)


def claims(**overrides: object) -> dict[str, object]:
    now = int(datetime.now(timezone.utc).timestamp())
    base: dict[str, object] = {
        "sub": str(uuid4()),
        "sid": str(uuid4()),
        "jti": new_jti(),
        "type": "access",
        "iat": now,
        "exp": now + 60,
        "iss": SETTINGS.issuer,
        "aud": SETTINGS.audience,
        "auth_time": now,
        "amr": ["pwd"],
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def sign(payload: dict[str, object], key: str = SETTINGS.secret_key, alg: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=alg)


def test_roundtrip() -> None:
    pair = CODEC.issue_pair(
        user_id=uuid4(), session_id=uuid4(), refresh_jti="abc", auth_time=NOW, amr=("pwd",)
    )
    access = CODEC.decode(pair.access_token, "access")
    refresh = CODEC.decode(pair.refresh_token, "refresh")
    assert access.session_id == refresh.session_id
    assert refresh.jti == "abc"
    assert pair.expires_in == 900


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "token",
    [
        # alg: none
        b64({"alg": "none", "typ": "JWT"}) + "." + b64(claims()) + ".",
        sign(claims(), key="another-key-of-sufficient-length-000"),
        sign(claims(exp=int(datetime.now(timezone.utc).timestamp()) - 10)),
        sign(claims(nbf=int((datetime.now(timezone.utc) + timedelta(hours=1)).timestamp()))),
        sign(claims(iss="someone-else")),
        sign(claims(aud="someone-else")),
        sign(claims(sub=None)),
        sign(claims(sid=None)),
        sign(claims(jti=None)),
        sign(claims(type=None)),
        sign(claims(type="refresh")),
        sign(claims(sub="not-a-uuid")),
        sign(claims(), alg="HS512"),
        "garbage",
        "a.b.c",
        "",
        sign(claims())[:-5],
        "x" * 5000,
    ],
)
def test_rejected_access_tokens(token: str) -> None:
    with pytest.raises(InvalidToken):
        CODEC.decode(token, "access")


def test_algorithm_confusion_public_key_as_hmac_secret_is_rejected() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    settings = AuthSettings.from_defaults(
        environment="test", algorithm="RS256", secret_key=private_pem, public_key=public_pem
    )
    codec = TokenCodec(settings)
    pair = codec.issue_pair(
        user_id=uuid4(), session_id=uuid4(), refresh_jti="r", auth_time=NOW, amr=("pwd",)
    )
    assert codec.decode(pair.access_token, "access").type == "access"
    # An attacker signs with HS256 using the public key as the secret.
    forged_header = b64({"alg": "HS256", "typ": "JWT"})
    import hashlib
    import hmac

    body = b64(claims(iss=settings.issuer, aud=settings.audience))
    signature = hmac.new(public_pem.encode(), f"{forged_header}.{body}".encode(), hashlib.sha256)
    forged = (
        f"{forged_header}.{body}."
        + base64.urlsafe_b64encode(signature.digest()).rstrip(b"=").decode()
    )
    with pytest.raises(InvalidToken):
        codec.decode(forged, "access")


def test_an_unusable_key_is_refused_when_the_codec_is_built() -> None:
    settings = AuthSettings.from_defaults(
        environment="test", algorithm="RS256", secret_key="not a pem", public_key="nor this"
    )
    with pytest.raises(ConfigurationError, match="Unusable key"):
        TokenCodec(settings)


def test_a_verified_access_token_is_remembered() -> None:
    codec = TokenCodec(SETTINGS)
    token = sign(claims())
    first = codec.decode(token, "access")
    assert codec.decode(token, "access") is first  # no second verification
    # Remembered as an access token only: it is still not a refresh token.
    with pytest.raises(InvalidToken):
        codec.decode(token, "refresh")


def test_a_remembered_access_token_is_refused_once_expired() -> None:
    # Without leeway (AUTH_CLOCK_SKEW_S=0); with it, see test_clock_skew.py.
    codec = TokenCodec(
        AuthSettings.from_defaults(
            environment="test", secret_key=SETTINGS.secret_key, clock_skew_s=0
        )
    )
    exp = int(time.time()) + 2
    token = sign(claims(exp=exp))
    assert codec.decode(token, "access").expires_at.timestamp() == exp
    time.sleep(exp - time.time() + 0.05)
    with pytest.raises(InvalidToken):
        codec.decode(token, "access")


def test_refresh_tokens_are_never_remembered() -> None:
    codec = TokenCodec(SETTINGS)
    token = sign(claims(type="refresh"))
    assert codec.decode(token, "refresh") is not codec.decode(token, "refresh")


def test_the_token_cache_is_bounded_and_can_be_turned_off() -> None:
    codec = TokenCodec(
        AuthSettings.from_defaults(
            environment="test", secret_key=SETTINGS.secret_key, access_token_cache_size=2
        )
    )
    tokens = [sign(claims()) for _ in range(3)]
    first = [codec.decode(token, "access") for token in tokens]
    # The oldest was dropped: verified again (a new object); the two newest are remembered.
    assert codec.decode(tokens[0], "access") is not first[0]
    assert codec.decode(tokens[2], "access") is first[2]

    off = TokenCodec(
        AuthSettings.from_defaults(
            environment="test", secret_key=SETTINGS.secret_key, access_token_cache_size=0
        )
    )
    assert off.decode(tokens[0], "access") is not off.decode(tokens[0], "access")
    with pytest.raises(ConfigurationError):
        AuthSettings.from_defaults(environment="test", access_token_cache_size=-1)
