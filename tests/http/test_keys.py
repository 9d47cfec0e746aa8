"""Keys for other services: ``kid`` on every RS*/ES* token, ``AUTH_VERIFICATION_KEYS`` for a
rotation, the JWK Set at ``/.well-known/jwks.json``, and ``generate-keys``."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from uuid import uuid4

import jwt
import pytest

from sanic_auth_sessions.cli import main as cli
from sanic_auth_sessions.core.config import AuthSettings, ConfigurationError
from sanic_auth_sessions.core.errors import InvalidToken
from sanic_auth_sessions.core.tokens import TokenCodec, generate_key_pair, public_jwk

from ..conftest import RunningApp, bearer
from ..helpers import assert_error

ES_OLD = generate_key_pair("ES256")
ES_NEW = generate_key_pair("ES256")
RS_PAIR = generate_key_pair("RS256")


def es_settings(pair: tuple[str, str], *older: str) -> AuthSettings:
    return AuthSettings.from_defaults(
        environment="test",
        algorithm="ES256",
        secret_key=pair[0],
        public_key=pair[1],
        verification_keys=list(older),
    )


def access_token(codec: TokenCodec) -> str:
    now = datetime.now(timezone.utc)
    return codec.encode(
        user_id=uuid4(),
        session_id=uuid4(),
        jti="j",
        type="access",
        now=now,
        auth_time=now,
        amr=("pwd",),
    )


def test_tokens_name_their_key_and_older_keys_still_verify() -> None:
    old, new = TokenCodec(es_settings(ES_OLD)), TokenCodec(es_settings(ES_NEW, ES_OLD[1]))
    old_token, new_token = access_token(old), access_token(new)
    assert jwt.get_unverified_header(old_token)["kid"] == public_jwk(ES_OLD[1], "ES256")["kid"]
    assert jwt.get_unverified_header(new_token)["kid"] == new.jwks[0]["kid"]
    # After the rotation both verify; the old server never knew the new key.
    assert new.decode(old_token, "access").jti == new.decode(new_token, "access").jti == "j"
    with pytest.raises(InvalidToken):
        old.decode(new_token, "access")
    # Without the old key in AUTH_VERIFICATION_KEYS, its tokens die.
    with pytest.raises(InvalidToken):
        TokenCodec(es_settings(ES_NEW)).decode(old_token, "access")


def test_an_unknown_kid_is_refused_and_a_missing_one_means_the_signing_key() -> None:
    codec = TokenCodec(es_settings(ES_NEW, ES_OLD[1]))
    claims = jwt.decode(access_token(codec), options={"verify_signature": False})
    forged = jwt.encode(claims, ES_NEW[0], algorithm="ES256", headers={"kid": "someone-else"})
    with pytest.raises(InvalidToken):
        codec.decode(forged, "access")
    without_kid = jwt.encode(claims, ES_NEW[0], algorithm="ES256")
    assert codec.decode(without_kid, "access").jti == "j"
    old_without_kid = jwt.encode(claims, ES_OLD[0], algorithm="ES256")
    with pytest.raises(InvalidToken):  # no kid: the signing key only, not the older ones
        codec.decode(old_without_kid, "access")
    hs = TokenCodec(AuthSettings.from_defaults(environment="test"))
    assert "kid" not in jwt.get_unverified_header(access_token(hs)) and hs.jwks == []


def test_verification_keys_must_suit_the_algorithm() -> None:
    with pytest.raises(ConfigurationError, match="AUTH_VERIFICATION_KEYS"):
        AuthSettings.from_defaults(environment="test", verification_keys=[ES_OLD[1]])
    with pytest.raises(ConfigurationError, match=r"AUTH_VERIFICATION_KEYS\[0\]"):
        TokenCodec(es_settings(ES_NEW, RS_PAIR[1]))
    # Several PEM blocks in one string (an environment variable) are several keys.
    settings = es_settings(ES_NEW)
    both = AuthSettings.from_defaults(
        **{**settings.model_dump(), "verification_keys": ES_OLD[1] + RS_PAIR[1]}
    )
    assert len(both.verification_keys) == 2


async def test_the_jwks_document_lists_the_signing_key_then_the_older_ones(
    make_app: Any,
) -> None:
    api: RunningApp = await make_app(
        algorithm="ES256",
        secret_key=ES_NEW[0],
        public_key=ES_NEW[1],
        verification_keys=[ES_OLD[1], ES_NEW[1], ES_OLD[1]],
    )
    response = await api.client.get("/.well-known/jwks.json")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "public, max-age=300"
    keys = response.json()["keys"]
    assert [k["kid"] for k in keys] == [
        public_jwk(ES_NEW[1], "ES256")["kid"],
        public_jwk(ES_OLD[1], "ES256")["kid"],
    ]
    for key in keys:
        assert set(key) == {"kty", "use", "alg", "kid", "crv", "x", "y"}
        assert (key["kty"], key["use"], key["alg"], key["crv"]) == ("EC", "sig", "ES256", "P-256")
    # The private part ("d") never leaves: the members above are all there is.


async def test_no_jwks_with_a_shared_secret(api: RunningApp) -> None:
    assert_error(await api.client.get("/.well-known/jwks.json"), 404, "NOT_FOUND")


VERIFIER = """
import sys, jwt
client = jwt.PyJWKClient(sys.argv[1])
for token in sys.argv[2:]:
    key = client.get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key, algorithms=["ES256"], audience="sanic-auth-sessions")
    print(claims["sub"], claims["type"])
"""


async def verify_elsewhere(jwks_url: str, *tokens: str) -> list[str]:
    """Another process, knowing only the JWKS URL, verifies ``tokens`` (the server answers
    meanwhile: the event loop is not blocked)."""
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", VERIFIER, jwks_url, *tokens],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


async def test_another_process_verifies_with_the_jwks_alone_across_a_rotation(
    make_app: Any,
) -> None:
    before: RunningApp = await make_app(
        algorithm="ES256", secret_key=ES_OLD[0], public_key=ES_OLD[1]
    )
    ann = await before.user_with_tokens("ann@example.com")
    user_id = ann["user"]["id"]
    jwks_before = before.base_url + "/.well-known/jwks.json"
    assert await verify_elsewhere(jwks_before, ann["access_token"]) == [user_id, "access"]

    # The rotation: a new pair, the old public key kept for verification.
    after: RunningApp = await make_app(
        algorithm="ES256",
        secret_key=ES_NEW[0],
        public_key=ES_NEW[1],
        verification_keys=[ES_OLD[1]],
    )
    assert (await after.client.get(after.url("/users/me"), headers=bearer(ann))).status_code == 200
    fresh = await after.login("ann@example.com")
    jwks_after = after.base_url + "/.well-known/jwks.json"
    assert await verify_elsewhere(jwks_after, ann["access_token"], fresh["access_token"]) == [
        user_id,
        "access",
        user_id,
        "access",
    ]
    # The old document does not know the new key: that verifier must refresh its JWKS.
    failed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", VERIFIER, jwks_before, fresh["access_token"]],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert failed.returncode != 0 and "Unable to find a signing key" in failed.stderr


def test_generate_keys_prints_or_writes_a_usable_pair(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["generate-keys", "--algorithm", "ES256"]) == 0
    printed = capsys.readouterr()
    assert printed.out.count("-----BEGIN") == 2 and printed.err.startswith("kid: ")
    assert cli(["generate-keys", "--algorithm", "RS256", "--out", str(tmp_path / "signing")]) == 0
    private, public = tmp_path / "signing.pem", tmp_path / "signing.pub.pem"
    assert private.stat().st_mode & 0o777 == 0o600
    settings = AuthSettings.from_defaults(
        environment="test",
        algorithm="RS256",
        secret_key=private.read_text(),
        public_key=public.read_text(),
    )
    codec = TokenCodec(settings)
    assert codec.decode(access_token(codec), "access").jti == "j"
    assert public_jwk(public.read_text(), "RS256")["kid"] in capsys.readouterr().out
    assert cli(["generate-keys", "--out", str(tmp_path / "signing")]) == 2  # never overwrites
    assert "exists" in capsys.readouterr().err
