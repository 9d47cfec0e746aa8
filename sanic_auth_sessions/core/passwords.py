"""Password policy and hashing. CPU work (bcrypt, argon2id, zxcvbn) runs in a thread pool."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal, TypeVar

import bcrypt
from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import Argon2Error

from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.core.errors import WeakPassword

BCRYPT_MAX_BYTES = 72
ZXCVBN_MAX_CHARS = 72
T = TypeVar("T")
Algorithm = Literal["bcrypt", "argon2id"]
ARGON2_PREFIX = "$argon2id$"


@dataclass(frozen=True)
class Argon2Parameters:
    """argon2id costs; the defaults are OWASP's first recommendation (19 MiB, 2 passes, 1 lane)."""

    memory_kib: int = 19456
    time_cost: int = 2
    parallelism: int = 1


class PasswordHasher:
    """bcrypt or argon2id, off the event loop; one thread per core by default (both release
    the GIL). New hashes use ``algorithm``; every stored hash of either kind verifies, and
    :meth:`needs_rehash` says when one should be replaced at the next login."""

    def __init__(
        self,
        rounds: int,
        threads: int | None = None,
        *,
        algorithm: Algorithm = "bcrypt",
        argon2: Argon2Parameters = Argon2Parameters(),
    ) -> None:
        self.rounds = rounds
        self.algorithm: Algorithm = algorithm
        self._argon2 = Argon2Hasher(
            time_cost=argon2.time_cost,
            memory_cost=argon2.memory_kib,
            parallelism=argon2.parallelism,
        )
        self._executor = ThreadPoolExecutor(
            max_workers=threads or os.cpu_count() or 2, thread_name_prefix="auth-hash"
        )
        self._dummy_hash: str | None = None

    @property
    def max_bytes(self) -> int | None:
        """The longest password new hashes take, in UTF-8 bytes (bcrypt's 72), or None."""
        return BCRYPT_MAX_BYTES if self.algorithm == "bcrypt" else None

    async def _run(self, func: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

    async def hash(self, password: str) -> str:
        encoded = password.encode()
        if self.algorithm == "argon2id":
            return await self._run(self._argon2.hash, encoded)
        if len(encoded) > BCRYPT_MAX_BYTES:  # bcrypt 5 raises; the policy rejects it earlier
            raise WeakPassword("The password is too long.", code="PASSWORD_TOO_LONG")
        hashed = await self._run(bcrypt.hashpw, encoded, bcrypt.gensalt(self.rounds))
        return hashed.decode()

    async def verify(self, password: str, hashed: str | None) -> bool:
        """Constant work whether or not ``hashed`` exists, so timing reveals no account: without
        a stored hash, a dummy one of the configured algorithm is checked.

        No bcrypt hash holds a password longer than 72 bytes, so a longer one never matches it
        (bcrypt itself would compare only its first 72 bytes)."""
        encoded = password.encode()
        if hashed is None:
            if self._dummy_hash is None:
                self._dummy_hash = await self.hash("dummy-password")
            await self._run(self._check, encoded, self._dummy_hash)
            return False
        return await self._run(self._check, encoded, hashed)

    def _check(self, encoded: bytes, hashed: str) -> bool:
        if hashed.startswith(ARGON2_PREFIX):
            try:
                return self._argon2.verify(hashed, encoded)
            except Argon2Error:  # a mismatch, or a malformed stored hash
                return False
        try:
            matches = bcrypt.checkpw(encoded[:BCRYPT_MAX_BYTES], hashed.encode())
        except ValueError:  # a malformed stored hash never matches
            return False
        return matches and len(encoded) <= BCRYPT_MAX_BYTES  # the same work either way

    def needs_rehash(self, hashed: str) -> bool:
        """True when ``hashed`` uses the other algorithm, or other (weaker) parameters."""
        if hashed.startswith(ARGON2_PREFIX):
            return self.algorithm != "argon2id" or self._argon2.check_needs_rehash(hashed)
        if self.algorithm != "bcrypt":
            return True
        match = re.match(r"^\$2[aby]?\$(\d\d)\$", hashed)
        return match is None or int(match.group(1)) < self.rounds

    async def check_policy(
        self,
        password: str,
        *,
        min_length: int,
        min_score: int,
        user_inputs: Sequence[str] = (),
        field: str = "password",
    ) -> None:
        await self._run(
            check_password_policy,
            password,
            min_length,
            min_score,
            user_inputs,
            field,
            self.max_bytes,
        )

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
    max_bytes: int | None = BCRYPT_MAX_BYTES,
) -> None:
    """Raise WeakPassword saying why, in words a user understands. ``max_bytes`` is the
    hasher's limit (bcrypt's 72 bytes; None for argon2id)."""
    if max_bytes is not None and len(password.encode()) > max_bytes:
        raise WeakPassword(
            f"The password is too long: at most {max_bytes} bytes "
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
    from zxcvbn import zxcvbn  # its word lists load at the first check, not at every start

    # zxcvbn refuses longer texts (its cost grows fast with the length): a longer password
    # (argon2id) is judged by its first characters, which it is at least as strong as.
    result = zxcvbn(password[:ZXCVBN_MAX_CHARS], user_inputs=personal_words(user_inputs))
    if result["score"] < min_score:
        feedback = result.get("feedback") or {}
        hint = feedback.get("warning") or " ".join(feedback.get("suggestions") or [])
        message = "The password is too easy to guess."
        if hint:
            message = f"{message} {hint}"
        raise WeakPassword(message, field=field, code="PASSWORD_TOO_COMMON")


def hasher_for(settings: AuthSettings, threads: int | None = None) -> PasswordHasher:
    """The hasher ``settings`` describe (``AUTH_PASSWORD_HASHER`` and its costs)."""
    return PasswordHasher(
        settings.bcrypt_rounds,
        threads,
        algorithm=settings.password_hasher,
        argon2=Argon2Parameters(
            memory_kib=settings.argon2_memory_kib,
            time_cost=settings.argon2_time_cost,
            parallelism=settings.argon2_parallelism,
        ),
    )
