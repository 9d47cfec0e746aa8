"""Forged, tampered, stale and malformed JWTs, sent over HTTP: every one is a 401.

Each attack is tried on ``GET /users/me`` (as an access token) and ``POST /auth/refresh`` (as
a refresh token), against an app configured with HS256 and one configured with RS256, on every
database. Attacks start from the claims of a real login, so the only thing wrong with a forged
token is the attack itself; a control case signs the very same claims correctly and must pass.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import jwt
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sanic_auth_sessions import User, UserSession
from sanic_auth_sessions.core.config import DEFAULTS

from .conftest import (
    DATABASES,
    RecordingMailer,
    RunningApp,
    build_app,
    empty_database_url,
    start_app,
    stop_app,
)
from .helpers import assert_error

pytestmark = pytest.mark.asyncio(loop_scope="module")

HS_SECRET = "adversarial-hs256-secret-" + "0123456789abcdef" * 3  # 64 bytes: HS512 too
OTHER_HS_SECRET = "attacker-chosen-secret-" + "fedcba9876543210" * 3


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ATTACKER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True)
class Keys:
    algorithm: str
    signing_key: Any  # the HMAC secret, or the private key
    verification_key: str  # the HMAC secret, or the public PEM
    attacker_key: Any  # another secret, or another private key
    sibling_algorithm: str  # same family, not configured

    @property
    def asymmetric(self) -> bool:
        return not self.algorithm.startswith("HS")

    @property
    def signing_config(self) -> str:
        """What the app is configured with: the secret, or the private PEM."""
        return self.signing_key if isinstance(self.signing_key, str) else private_pem(RSA_KEY)


KEYS = {
    "HS256": Keys("HS256", HS_SECRET, HS_SECRET, OTHER_HS_SECRET, "HS512"),
    # Key objects, not PEM text, for signing here: PyJWT re-parses (and checks) a private PEM
    # on every encode, ~45 ms for RSA-2048.
    "RS256": Keys("RS256", RSA_KEY, public_pem(RSA_KEY), ATTACKER_RSA_KEY, "RS512"),
}


@dataclass
class Server:
    api: RunningApp
    keys: Keys


@pytest_asyncio.fixture(
    scope="module",
    loop_scope="module",
    params=[(db, alg) for db in DATABASES for alg in KEYS],
    ids=lambda p: f"{p[0]}-{p[1]}",
)
async def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Server]:
    database, algorithm = request.param
    keys = KEYS[algorithm]
    url = await empty_database_url(database, tmp_path_factory.mktemp("jwt"))
    mailer = RecordingMailer()
    config: dict[str, Any] = {"algorithm": algorithm, "secret_key": keys.signing_config}
    if keys.asymmetric:
        config["public_key"] = keys.verification_key
    app = build_app(url, mailer=mailer, **config)
    running, handle = await start_app(app, mailer)
    try:
        yield Server(running, keys)
    finally:
        await stop_app(running, handle)


@dataclass
class Victim:
    tokens: dict[str, Any]
    access_claims: dict[str, Any]
    refresh_claims: dict[str, Any]


async def new_victim(api: RunningApp) -> Victim:
    tokens = await api.user_with_tokens(f"victim-{uuid4().hex[:8]}@example.com")
    unverified = {"verify_signature": False}
    return Victim(
        tokens,
        jwt.decode(tokens["access_token"], options=unverified),
        jwt.decode(tokens["refresh_token"], options=unverified),
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def victim(server: Server) -> Victim:
    """One user with one session, the target of every attack (attacks must change nothing)."""
    return await new_victim(server.api)


@pytest_asyncio.fixture(loop_scope="module")
async def fresh_victim(server: Server) -> Victim:
    """A user of its own, for tests that change the session or the user."""
    return await new_victim(server.api)


# --- forging ------------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: Any) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def by_hand(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return f"{b64json(header)}.{b64json(claims)}.{b64(signature)}"


def hmac_by_hand(claims: dict[str, Any], secret: bytes, alg: str = "HS256") -> str:
    """HS256 computed without PyJWT, which refuses a PEM key as an HMAC secret."""
    signing_input = f"{b64json({'alg': alg, 'typ': 'JWT'})}.{b64json(claims)}".encode()
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return f"{signing_input.decode()}.{b64(signature)}"


def sign(keys: Keys, claims: dict[str, Any], **headers: Any) -> str:
    return jwt.encode(claims, keys.signing_key, algorithm=keys.algorithm, headers=headers or None)


def changed(claims: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**claims, **changes}


def without(claims: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in claims.items() if key != name}


def attacker_jwk(keys: Keys) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(
        jwt.algorithms.RSAAlgorithm.to_jwk(keys.attacker_key.public_key())
    )
    return jwk


NOW = int(time.time())
SKEW_S = DEFAULTS["CLOCK_SKEW_S"]  # AUTH_CLOCK_SKEW_S: leeway on iat, nbf and exp
Forge = Callable[[Keys, dict[str, Any], str], str | None]
"""(keys, claims of the genuine token, the genuine token) -> a forged token, or None when
the attack does not apply to the configured algorithm."""

ATTACKS: dict[str, Forge] = {
    "alg_none": lambda k, c, t: by_hand({"alg": "none", "typ": "JWT"}, c),
    "alg_None": lambda k, c, t: by_hand({"alg": "None", "typ": "JWT"}, c),
    "alg_none_keeping_the_signature": lambda k, c, t: (
        f"{b64json({'alg': 'none', 'typ': 'JWT'})}.{t.split('.')[1]}.{t.split('.')[2]}"
    ),
    "signed_with_another_key": lambda k, c, t: jwt.encode(c, k.attacker_key, algorithm=k.algorithm),
    "embedded_attacker_jwk": lambda k, c, t: (
        jwt.encode(c, k.attacker_key, algorithm=k.algorithm, headers={"jwk": attacker_jwk(k)})
        if k.asymmetric
        else None
    ),
    "unconfigured_algorithm_same_key": lambda k, c, t: jwt.encode(
        c, k.signing_key, algorithm=k.sibling_algorithm
    ),
    # Algorithm confusion: the verifier's public key used as an HMAC secret.
    "hs256_with_the_public_key_as_secret": lambda k, c, t: (
        hmac_by_hand(c, k.verification_key.encode()) if k.asymmetric else None
    ),
    "hs256_with_the_public_key_der_as_secret": lambda k, c, t: (
        hmac_by_hand(
            c,
            serialization.load_pem_public_key(k.verification_key.encode()).public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        )
        if k.asymmetric
        else None
    ),
    "expired": lambda k, c, t: sign(k, changed(c, iat=NOW - 7200, exp=NOW - 3600)),
    "expired_a_second_past_the_leeway": lambda k, c, t: sign(
        k, changed(c, iat=NOW - 600, exp=NOW - SKEW_S - 1)
    ),
    "not_yet_valid_nbf": lambda k, c, t: sign(k, changed(c, nbf=NOW + 3600)),
    # An ``iat`` further ahead than the leeway is refused; a day ahead is no clock skew.
    "issued_in_the_future": lambda k, c, t: sign(
        k, changed(c, iat=NOW + 86400, exp=NOW + 2 * 86400)
    ),
    "exp_not_a_number": lambda k, c, t: sign(k, changed(c, exp="tomorrow")),
    "iat_not_a_number": lambda k, c, t: sign(k, changed(c, iat="yesterday")),
    "exp_past_year_9999": lambda k, c, t: sign(k, changed(c, exp=10**12)),
    "wrong_issuer": lambda k, c, t: sign(k, changed(c, iss="https://evil.example.com")),
    "wrong_audience": lambda k, c, t: sign(k, changed(c, aud="another-service")),
    "audience_list_without_ours": lambda k, c, t: sign(k, changed(c, aud=["a", "b"])),
    **{
        f"missing_{claim}": (lambda name: lambda k, c, t: sign(k, without(c, name)))(claim)
        for claim in ("sub", "sid", "jti", "type", "iat", "exp", "iss", "aud")
    },
    "sub_not_a_uuid": lambda k, c, t: sign(k, changed(c, sub="1 OR 1=1")),
    "sid_not_a_uuid": lambda k, c, t: sign(k, changed(c, sid="' OR ''='")),
    "sub_of_nobody": lambda k, c, t: sign(k, changed(c, sub=str(uuid4()))),
    "sid_of_no_session": lambda k, c, t: sign(k, changed(c, sid=str(uuid4()))),
    "unknown_type": lambda k, c, t: sign(k, changed(c, type="admin")),
    "type_as_a_list": lambda k, c, t: sign(k, changed(c, type=[c["type"]])),
    "claims_not_an_object": lambda k, c, t: by_hand(
        {"alg": k.algorithm, "typ": "JWT"}, [c], b"x" * 32
    ),
    # The genuine signature over a payload with another user id.
    "tampered_payload": lambda k, c, t: (
        f"{t.split('.')[0]}.{b64json(changed(c, sub=str(uuid4())))}.{t.split('.')[2]}"
    ),
    "signature_stripped": lambda k, c, t: t.rsplit(".", 1)[0] + ".",
    "two_segments": lambda k, c, t: t.rsplit(".", 1)[0],
    "extra_segment": lambda k, c, t: t + ".e30",
    "truncated_signature": lambda k, c, t: t[:-6],
    "truncated_to_half": lambda k, c, t: t[: len(t) // 2],
    "signature_bit_flipped": lambda k, c, t: t[:-3] + ("A" if t[-3] != "A" else "B") + t[-2:],
    "garbage": lambda k, c, t: "definitely-not-a-jwt",
    "garbage_three_segments": lambda k, c, t: "a.b.c",
    "invalid_base64": lambda k, c, t: "eyJ!!!.eyJ$$$.%%%",
    "header_not_json": lambda k, c, t: f"{b64(b'not json')}.{t.split('.')[1]}.{t.split('.')[2]}",
}


async def me(api: RunningApp, token: str) -> Any:
    return await api.client.get(api.url("/users/me"), headers={"Authorization": f"Bearer {token}"})


async def refresh(api: RunningApp, token: str) -> Any:
    return await api.client.post(api.url("/auth/refresh"), json={"refresh_token": token})


async def test_control_the_same_claims_signed_correctly_are_accepted(
    server: Server, fresh_victim: Victim
) -> None:
    """Proves the forging harness: rejections below are due to the attack alone."""
    api, keys, victim = server.api, server.keys, fresh_victim
    assert (await me(api, sign(keys, victim.access_claims))).status_code == 200
    response = await refresh(api, sign(keys, victim.refresh_claims))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_forged_tokens_are_refused(server: Server, victim: Victim, attack: str) -> None:
    api, keys = server.api, server.keys
    forged_access = ATTACKS[attack](keys, victim.access_claims, victim.tokens["access_token"])
    forged_refresh = ATTACKS[attack](keys, victim.refresh_claims, victim.tokens["refresh_token"])
    if forged_access is None or forged_refresh is None:
        pytest.skip(f"{attack} only applies to an asymmetric algorithm")
    assert_error(await me(api, forged_access), 401)
    assert_error(await refresh(api, forged_refresh), 401)
    # The attack changed nothing for the real owner of the session.
    assert (await me(api, victim.tokens["access_token"])).status_code == 200


# Access tokens must name the session's latest authentication; refresh tokens never do.
ACCESS_ONLY_ATTACKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "missing_auth_time": lambda c: without(c, "auth_time"),
    "missing_amr": lambda c: without(c, "amr"),
    "auth_time_not_a_number": lambda c: changed(c, auth_time="now"),
    "auth_time_a_boolean": lambda c: changed(c, auth_time=True),
    "amr_not_a_list": lambda c: changed(c, amr="pwd"),
    "amr_empty": lambda c: changed(c, amr=[]),
    "amr_of_numbers": lambda c: changed(c, amr=[1]),
}


@pytest.mark.parametrize("attack", sorted(ACCESS_ONLY_ATTACKS))
async def test_access_tokens_without_a_valid_auth_time_and_amr_are_refused(
    server: Server, victim: Victim, attack: str
) -> None:
    """Access tokens issued before they carried ``auth_time`` and ``amr`` (or with either
    malformed), signed with the right key, are refused."""
    forged = sign(server.keys, ACCESS_ONLY_ATTACKS[attack](victim.access_claims))
    assert_error(await me(server.api, forged), 401, "AUTH_INVALID_TOKEN")
    assert (await me(server.api, victim.tokens["access_token"])).status_code == 200


async def test_after_every_attack_the_victims_session_is_intact(
    server: Server, victim: Victim
) -> None:
    """Runs after the attacks on the shared victim: none revoked or rotated its session."""
    session = await UserSession.get(id=victim.access_claims["sid"])
    assert session.is_active and session.refresh_token_jti == victim.refresh_claims["jti"]
    assert (await refresh(server.api, victim.tokens["refresh_token"])).status_code == 200


async def test_refresh_token_is_not_an_access_token(server: Server, fresh_victim: Victim) -> None:
    api, victim = server.api, fresh_victim
    assert_error(await me(api, victim.tokens["refresh_token"]), 401, "AUTH_INVALID_TOKEN")
    # Nor is an access token a refresh token; refusing it revokes nothing.
    assert_error(await refresh(api, victim.tokens["access_token"]), 401, "AUTH_INVALID_TOKEN")
    assert (await me(api, victim.tokens["access_token"])).status_code == 200
    assert (await refresh(api, victim.tokens["refresh_token"])).status_code == 200


async def test_a_valid_token_of_a_deleted_user_is_refused(
    server: Server, fresh_victim: Victim
) -> None:
    api, victim = server.api, fresh_victim
    user_id = victim.tokens["user"]["id"]
    assert await UserSession.filter(user_id=user_id).count() == 1
    await User.filter(id=user_id).delete()
    assert await UserSession.filter(user_id=user_id).count() == 0  # cascaded
    assert_error(await me(api, victim.tokens["access_token"]), 401, "AUTH_INVALID_TOKEN")
    assert_error(await refresh(api, victim.tokens["refresh_token"]), 401, "AUTH_INVALID_TOKEN")
    # Re-signing the same claims with the real key does not bring the user back either.
    assert_error(await me(api, sign(server.keys, victim.access_claims)), 401)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Token {access}",
        "{access}",
        "Bearer {access}x",
        "Bearer {refresh}",
        "Bearer " + "A" * 5000,
    ],
    ids=lambda h: "none" if h is None else (h[:24] or "empty"),
)
async def test_malformed_authorization_headers_are_refused(
    server: Server, victim: Victim, header: str | None
) -> None:
    api = server.api
    headers = {}
    if header is not None:
        headers["Authorization"] = header.format(
            access=victim.tokens["access_token"], refresh=victim.tokens["refresh_token"]
        )
    assert_error(await api.client.get(api.url("/users/me"), headers=headers), 401)


async def test_every_attack_is_a_distinct_token() -> None:
    """Guards the table itself: no two attacks silently produce the same token."""
    claims = {
        "sub": str(uuid4()),
        "sid": str(uuid4()),
        "jti": "j",
        "type": "access",
        "iat": NOW,
        "exp": NOW + 60,
        "iss": "sanic-auth-sessions",
        "aud": "sanic-auth-sessions",
        "auth_time": NOW,
        "amr": ["pwd"],
    }
    for keys in KEYS.values():
        genuine = sign(keys, claims)
        forged = [forge(keys, claims, genuine) for forge in ATTACKS.values()]
        made = [token for token in forged if token is not None]
        assert genuine not in made
        assert len(set(made)) == len(made)


async def test_a_signed_token_with_an_exp_beyond_any_date_is_a_401_not_a_500(
    server: Server, fresh_victim: Victim
) -> None:
    # Needs the signing key, so not an outside attack; but a bad claim must never be a 500.
    api, keys, victim = server.api, server.keys, fresh_victim
    assert_error(await me(api, sign(keys, changed(victim.access_claims, exp=10**20))), 401)
    assert_error(await refresh(api, sign(keys, changed(victim.refresh_claims, exp=10**20))), 401)
