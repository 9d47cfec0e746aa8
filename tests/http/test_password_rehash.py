"""``AUTH_PASSWORD_HASHER``: argon2id beside bcrypt, and the transparent rehash at login."""

from __future__ import annotations

from typing import Any

from sanic_auth_sessions import User
from sanic_auth_sessions.core.passwords import Argon2Parameters, PasswordHasher

from ..conftest import STRONG_PASSWORD, RunningApp, bearer

CHEAP_ARGON2 = {"password_hasher": "argon2id", "argon2_memory_kib": 1024, "argon2_time_cost": 1}


async def stored_hash(email: str) -> str:
    return (await User.get(email=email)).hashed_password


async def test_a_bcrypt_hash_becomes_argon2id_at_the_next_login(make_app: Any) -> None:
    api: RunningApp = await make_app(**CHEAP_ARGON2)
    await api.register("ann@example.com")
    earlier = await api.login("ann@example.com")
    # An account from before the switch: its hash is bcrypt.
    old_hash = await PasswordHasher(rounds=4, threads=1).hash(STRONG_PASSWORD)
    await User.filter(email="ann@example.com").update(hashed_password=old_hash)
    stamp = (await User.get(email="ann@example.com")).security_stamp

    wrong = await api.client.post(
        api.url("/auth/login"), json={"email": "ann@example.com", "password": "x" * 12}
    )
    assert wrong.status_code == 401 and await stored_hash("ann@example.com") == old_hash
    await api.login("ann@example.com")
    new_hash = await stored_hash("ann@example.com")
    assert new_hash.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    # Not a password change: the stamp and the other sessions stay.
    assert (await User.get(email="ann@example.com")).security_stamp == stamp
    assert (await api.client.get(api.url("/users/me"), headers=bearer(earlier))).status_code == 200
    await api.login("ann@example.com")
    assert await stored_hash("ann@example.com") == new_hash  # once is enough


async def test_an_argon2id_hash_goes_back_to_bcrypt_when_bcrypt_is_configured(
    make_app: Any,
) -> None:
    api: RunningApp = await make_app()
    await api.register("bob@example.com")
    argon2 = PasswordHasher(rounds=4, algorithm="argon2id", argon2=Argon2Parameters(1024, 1, 1))
    await User.filter(email="bob@example.com").update(
        hashed_password=await argon2.hash(STRONG_PASSWORD)
    )
    await api.login("bob@example.com")
    assert (await stored_hash("bob@example.com")).startswith("$2b$04$")


async def test_argon2id_takes_passwords_over_72_bytes(make_app: Any) -> None:
    api: RunningApp = await make_app(**CHEAP_ARGON2)
    long_password = STRONG_PASSWORD + " ünïcödé" * 10  # well over 72 bytes in UTF-8
    await api.register("cy@example.com", password=long_password)
    await api.login("cy@example.com", password=long_password)
    refused = await api.client.post(
        api.url("/auth/login"),
        json={"email": "cy@example.com", "password": long_password[:72]},
    )
    assert refused.status_code == 401
