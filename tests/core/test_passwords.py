from __future__ import annotations

import asyncio
import time

import pytest

from sanic_auth_sessions.core.errors import WeakPassword
from sanic_auth_sessions.core.passwords import PasswordHasher, check_password_policy, personal_words


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
