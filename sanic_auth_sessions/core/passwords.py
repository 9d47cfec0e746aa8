"""Password policy and hashing. CPU work (bcrypt, zxcvbn) runs in a thread pool."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import bcrypt
from zxcvbn import zxcvbn

from sanic_auth_sessions.core.errors import WeakPassword

BCRYPT_MAX_BYTES = 72
T = TypeVar("T")


class PasswordHasher:
    """bcrypt off the event loop; one thread per core by default (bcrypt releases the GIL)."""

    def __init__(self, rounds: int, threads: int | None = None) -> None:
        self.rounds = rounds
        self._executor = ThreadPoolExecutor(
            max_workers=threads or os.cpu_count() or 2, thread_name_prefix="auth-hash"
        )
        self._dummy_hash: bytes | None = None

    async def _run(self, func: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

    async def hash(self, password: str) -> str:
        encoded = password.encode()
        if len(encoded) > BCRYPT_MAX_BYTES:  # bcrypt 5 raises; the policy rejects it earlier
            raise WeakPassword("The password is too long.", code="PASSWORD_TOO_LONG")
        hashed = await self._run(bcrypt.hashpw, encoded, bcrypt.gensalt(self.rounds))
        return hashed.decode()

    async def verify(self, password: str, hashed: str | None) -> bool:
        """Constant work whether or not ``hashed`` exists, so timing reveals no account.

        No stored password is longer than bcrypt's 72 bytes, so a longer one never matches
        (bcrypt itself would compare only its first 72 bytes)."""
        encoded = password.encode()
        too_long = len(encoded) > BCRYPT_MAX_BYTES
        if hashed is None or too_long:
            if self._dummy_hash is None:
                self._dummy_hash = await self._run(
                    bcrypt.hashpw, b"dummy-password", bcrypt.gensalt(self.rounds)
                )
            await self._run(bcrypt.checkpw, encoded[:BCRYPT_MAX_BYTES], self._dummy_hash)
            return False
        try:
            return await self._run(bcrypt.checkpw, encoded, hashed.encode())
        except ValueError:  # a malformed stored hash never matches
            return False

    async def check_policy(
        self,
        password: str,
        *,
        min_length: int,
        min_score: int,
        user_inputs: Sequence[str] = (),
        field: str = "password",
    ) -> None:
        await self._run(check_password_policy, password, min_length, min_score, user_inputs, field)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def personal_words(user_inputs: Sequence[str]) -> list[str]:
    """Each input and its parts ("ada.lovelace@x.org" → "ada", "lovelace", …) for zxcvbn."""
    words: set[str] = set()
    for item in user_inputs:
        item = item.strip().lower()
        if not item:
            continue
        words.add(item)
        local = item.split("@", 1)[0]
        words.add(local)
        words.add(re.sub(r"[^0-9a-z]+", "", local))
        words.update(part for part in re.split(r"[^0-9a-z]+", item) if len(part) >= 3)
    words.discard("")
    return sorted(words)


def check_password_policy(
    password: str,
    min_length: int,
    min_score: int,
    user_inputs: Sequence[str] = (),
    field: str = "password",
) -> None:
    """Raise WeakPassword saying why, in words a user understands."""
    if len(password.encode()) > BCRYPT_MAX_BYTES:
        raise WeakPassword(
            f"The password is too long: at most {BCRYPT_MAX_BYTES} bytes "
            "(fewer characters if it uses accents or symbols).",
            field=field,
            code="PASSWORD_TOO_LONG",
        )
    if len(password) < min_length:
        raise WeakPassword(
            f"The password is too short: use at least {min_length} characters.",
            field=field,
            code="PASSWORD_TOO_SHORT",
        )
    if min_score <= 0:
        return
    result = zxcvbn(password, user_inputs=personal_words(user_inputs))
    if result["score"] < min_score:
        feedback = result.get("feedback") or {}
        hint = feedback.get("warning") or " ".join(feedback.get("suggestions") or [])
        message = "The password is too easy to guess."
        if hint:
            message = f"{message} {hint}"
        raise WeakPassword(message, field=field, code="PASSWORD_TOO_COMMON")
