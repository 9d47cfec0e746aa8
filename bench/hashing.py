"""The login ceiling: the raw verification rate (``bcrypt.checkpw`` or argon2id's ``verify``) in
as many threads as the app hashes with."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import bcrypt
from argon2 import PasswordHasher as Argon2Hasher

from sanic_auth_sessions.core.config import AuthSettings


def verify_rate(hasher: str, threads: int, duration_s: float) -> float:
    """The ceiling of ``hasher`` (``bcrypt`` or ``argon2id``) at the default costs."""
    defaults = AuthSettings.from_defaults(environment="test")
    if hasher == "argon2id":
        return argon2_rate(
            threads,
            defaults.argon2_memory_kib,
            defaults.argon2_time_cost,
            defaults.argon2_parallelism,
            duration_s,
        )
    return bcrypt_rate(threads, defaults.bcrypt_rounds, duration_s)


def argon2_rate(
    threads: int, memory_kib: int, time_cost: int, parallelism: int, duration_s: float
) -> float:
    """Verifications per second of argon2id (argon2-cffi releases the GIL as bcrypt does)."""
    argon2 = Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    password = b"correct horse battery staple 42"
    hashed = argon2.hash(password)
    return _rate(threads, duration_s, lambda: argon2.verify(hashed, password))


def bcrypt_rate(threads: int, rounds: int, duration_s: float) -> float:
    """Verifications per second of ``threads`` threads for about ``duration_s`` seconds.

    bcrypt releases the GIL, so this is what the cores give, the same way the app's hashing
    thread pool uses them. Every thread stops at the deadline (each check takes a fraction
    of a second), so the loop is bounded in time."""
    password = b"correct horse battery staple 42"
    hashed = bcrypt.hashpw(password, bcrypt.gensalt(rounds))
    return _rate(threads, duration_s, lambda: bcrypt.checkpw(password, hashed))


def _rate(threads: int, duration_s: float, check: Callable[[], object]) -> float:
    counts = [0] * threads
    deadline = time.perf_counter() + duration_s
    finished = [0.0] * threads

    def work(slot: int) -> None:
        while time.perf_counter() < deadline:
            check()
            counts[slot] += 1
        finished[slot] = time.perf_counter()

    started = time.perf_counter()
    workers = [threading.Thread(target=work, args=(slot,)) for slot in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=duration_s + 60)
    elapsed = max(finished) - started
    return sum(counts) / elapsed if elapsed > 0 else 0.0
