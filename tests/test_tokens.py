from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from uuid import uuid4

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sanic_auth_sessions.config import AuthSettings, ConfigurationError
from sanic_auth_sessions.errors import InvalidToken
from sanic_auth_sessions.tokens import TokenCodec, new_jti

SETTINGS = AuthSettings.from_defaults(environment="test", secret_key="k" * 40)
CODEC = TokenCodec(SETTINGS)


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
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def sign(payload: dict[str, object], key: str = SETTINGS.secret_key, alg: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=alg)


def test_roundtrip() -> None:
    pair = CODEC.issue_pair(user_id=uuid4(), session_id=uuid4(), refresh_jti="abc")
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
    pair = codec.issue_pair(user_id=uuid4(), session_id=uuid4(), refresh_jti="r")
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
