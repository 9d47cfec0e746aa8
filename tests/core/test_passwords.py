from __future__ import annotations

import asyncio
import time

import pytest

from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.core.errors import WeakPassword
from sanic_auth_sessions.core.passwords import (
    Argon2Parameters,
    PasswordHasher,
    check_password_policy,
    hasher_for,
    personal_words,
)


@pytest.fixture
def hasher() -> PasswordHasher:
    return PasswordHasher(rounds=4, threads=2)


async def test_hash_and_verify(hasher: PasswordHasher) -> None:
    hashed = await hasher.hash("correct horse battery staple")
    assert hashed.startswith("$2b$04$")
    assert await hasher.verify("correct horse battery staple", hashed)
    assert not await hasher.verify("correct horse battery stapler", hashed)


async def test_unknown_user_still_spends_a_check(hasher: PasswordHasher) -> None:
    assert not await hasher.verify("anything at all", None)
    assert hasher._dummy_hash is not None  # the dummy hash was computed and checked


async def test_malformed_stored_hash_never_matches(hasher: PasswordHasher) -> None:
    assert not await hasher.verify("whatever", "not-a-bcrypt-hash")


async def test_over_72_bytes_never_matches_and_never_hashes(hasher: PasswordHasher) -> None:
    base = "a" * 72
    hashed = await hasher.hash(base)
    assert not await hasher.verify(base + "extra", hashed)
    with pytest.raises(WeakPassword):
        await hasher.hash("é" * 40)


async def test_hashing_does_not_block_the_event_loop() -> None:
    hasher = PasswordHasher(rounds=12, threads=1)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    await hasher.hash("correct horse battery staple")
    elapsed = time.perf_counter() - started
    task.cancel()
    # The loop kept running while bcrypt worked in the thread pool.
    assert ticks >= int(elapsed / 0.01) // 2 > 0
    hasher.close()


def test_personal_words_split_emails_and_names() -> None:
    words = personal_words(["Ada.Lovelace@Example.org", "", "Byron"])
    assert {"ada", "lovelace", "adalovelace", "byron"} <= set(words)


def test_policy_messages_name_the_field() -> None:
    with pytest.raises(WeakPassword) as info:
        check_password_policy("short", 12, 3, field="new_password")
    assert info.value.errors[0].field == "new_password"
    check_password_policy("aaaaaaaaaaaa", 12, 0)  # score 0 turns the strength check off


CHEAP_ARGON2 = Argon2Parameters(memory_kib=1024, time_cost=1, parallelism=1)


@pytest.fixture
def argon2id() -> PasswordHasher:
    return PasswordHasher(rounds=4, threads=2, algorithm="argon2id", argon2=CHEAP_ARGON2)


async def test_argon2id_hashes_verify_and_take_long_passwords(argon2id: PasswordHasher) -> None:
    hashed = await argon2id.hash("correct horse battery staple")
    assert hashed.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert await argon2id.verify("correct horse battery staple", hashed)
    assert not await argon2id.verify("correct horse battery stapler", hashed)
    # No 72-byte limit: the whole of a long password counts.
    long = "é" * 100
    long_hash = await argon2id.hash(long)
    assert await argon2id.verify(long, long_hash)
    assert not await argon2id.verify(long[:-1], long_hash)
    assert argon2id.max_bytes is None
    check_password_policy("Zq8!" + long, 12, 0, max_bytes=argon2id.max_bytes)
    assert not await argon2id.verify("x", "$argon2id$v=19$broken")
    assert not await argon2id.verify("anything", None)  # the dummy is an argon2id hash too
    assert argon2id._dummy_hash is not None and argon2id._dummy_hash.startswith("$argon2id$")


async def test_either_hasher_verifies_the_others_hashes(
    hasher: PasswordHasher, argon2id: PasswordHasher
) -> None:
    from_bcrypt = await hasher.hash("correct horse battery staple")
    from_argon2 = await argon2id.hash("correct horse battery staple")
    assert await argon2id.verify("correct horse battery staple", from_bcrypt)
    assert await hasher.verify("correct horse battery staple", from_argon2)


async def test_needs_rehash_on_the_other_algorithm_or_other_costs(
    hasher: PasswordHasher, argon2id: PasswordHasher
) -> None:
    bcrypt_4 = await hasher.hash("correct horse battery staple")
    argon2_cheap = await argon2id.hash("correct horse battery staple")
    assert not hasher.needs_rehash(bcrypt_4) and hasher.needs_rehash(argon2_cheap)
    assert argon2id.needs_rehash(bcrypt_4) and not argon2id.needs_rehash(argon2_cheap)
    stronger_bcrypt = PasswordHasher(rounds=5, threads=1)
    assert stronger_bcrypt.needs_rehash(bcrypt_4)
    stronger_argon2 = PasswordHasher(
        rounds=4, algorithm="argon2id", argon2=Argon2Parameters(memory_kib=2048, time_cost=1)
    )
    assert stronger_argon2.needs_rehash(argon2_cheap)
    assert hasher.needs_rehash("not-a-hash")


def test_the_hasher_follows_the_settings() -> None:
    settings = AuthSettings.from_defaults(environment="test", password_hasher="argon2id")
    built = hasher_for(settings, 1)
    assert built.algorithm == "argon2id" and built.max_bytes is None
    assert hasher_for(AuthSettings.from_defaults(environment="test")).max_bytes == 72


def test_the_strength_of_a_long_password_is_judged_on_its_start() -> None:
    check_password_policy("Zq8!vT#m2pLw" + "a" * 200, 12, 3, max_bytes=None)
    with pytest.raises(WeakPassword) as weak:
        check_password_policy("a" * 200, 12, 3, max_bytes=None)
    assert weak.value.errors[0].code == "PASSWORD_TOO_COMMON"
