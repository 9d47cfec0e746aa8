"""The login ceiling: raw ``bcrypt.checkpw`` rate in as many threads as the app hashes with."""

from __future__ import annotations

import threading
import time

import bcrypt


def bcrypt_rate(threads: int, rounds: int, duration_s: float) -> float:
    """Verifications per second of ``threads`` threads for about ``duration_s`` seconds.

    bcrypt releases the GIL, so this is what the cores give, the same way the app's hashing
    thread pool uses them. Every thread stops at the deadline (each check takes a fraction
    of a second), so the loop is bounded in time."""
    password = b"correct horse battery staple 42"
    hashed = bcrypt.hashpw(password, bcrypt.gensalt(rounds))
    counts = [0] * threads
    deadline = time.perf_counter() + duration_s
    finished = [0.0] * threads

    def work(slot: int) -> None:
        while time.perf_counter() < deadline:
            bcrypt.checkpw(password, hashed)
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
