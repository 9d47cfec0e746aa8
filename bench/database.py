"""Throwaway databases: a PostgreSQL cluster (or a database on BENCH_DATABASE_URL), SQLite."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import random
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.servers import free_port

PG_USER = "postgres"


def _postgres_bin() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parent.parent.name),
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError(
        "PostgreSQL server binaries not found (initdb). Install them "
        "(`sudo apt-get install -y postgresql`) or set BENCH_DATABASE_URL to a server "
        "where the harness may create and drop a database."
    )


def _as_postgres(argv: list[str]) -> list[str]:
    """Run as the ``postgres`` user when root (PostgreSQL refuses to run as root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", PG_USER, "--", *argv]
    return argv


@contextlib.contextmanager
def throwaway_cluster(workdir: Path) -> Iterator[str]:
    """A PostgreSQL cluster in a temp dir, on 127.0.0.1 only; stopped and deleted at the end.

    Yields the server URL (no database name)."""
    bindir = _postgres_bin()
    root = workdir / "pg"
    root.mkdir()
    if os.geteuid() == 0:
        user = pwd.getpwnam(PG_USER)
        os.chown(root, user.pw_uid, user.pw_gid)
        workdir.chmod(0o755)  # let postgres reach its directory
    data = root / "data"
    port = free_port()
    subprocess.run(
        _as_postgres(
            [str(bindir / "initdb"), "-D", str(data), "-U", PG_USER, "-A", "trust", "-E", "UTF8"]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200"
    pg_ctl = str(bindir / "pg_ctl")
    subprocess.run(
        _as_postgres(
            [pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    try:
        yield f"postgres://{PG_USER}@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_postgres([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
            timeout=120,
            check=False,
        )


def postgres_version(server_url: str) -> str:
    async def query() -> str:
        import asyncpg

        conn = await asyncpg.connect(server_url + "/postgres")
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()

    return asyncio.run(query())


@contextlib.contextmanager
def postgres_database(server_url: str, name: str) -> Iterator[str]:
    """A fresh database on ``server_url``, dropped at the end. Yields its URL."""
    import asyncpg

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(server_url + "/postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server_url}/{name}"
    finally:
        with contextlib.suppress(Exception):
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def server_of(database_url: str) -> str:
    """``postgres://u@h:p/db`` → ``postgres://u@h:p`` (BENCH_DATABASE_URL may name a db)."""
    parts = urlsplit(database_url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", "")).rstrip("/")


@contextlib.contextmanager
def postgres_server(workdir: Path) -> Iterator[str]:
    """BENCH_DATABASE_URL's server if given, else a throwaway cluster."""
    given = os.environ.get("BENCH_DATABASE_URL")
    if given:
        yield server_of(given)
    else:
        with throwaway_cluster(workdir) as url:
            yield url


@contextlib.contextmanager
def pgbouncer(server_url: str, workdir: Path) -> Iterator[str]:
    """A throwaway PgBouncer in transaction mode in front of ``server_url`` (any database
    name), on 127.0.0.1; stopped at the end. Yields its server URL (no database name)."""
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not Path(binary).exists():
        raise RuntimeError("pgbouncer not found: `sudo apt-get install -y pgbouncer`")
    target = urlsplit(server_url)
    root = workdir / "pgbouncer"
    root.mkdir()
    port = free_port()
    (root / "users.txt").write_text(f'"{target.username or PG_USER}" ""\n')
    ini = root / "pgbouncer.ini"
    ini.write_text(
        f"[databases]\n* = host={target.hostname} port={target.port}\n[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {root / 'users.txt'}\npool_mode = transaction\n"
        "max_client_conn = 1000\ndefault_pool_size = 20\n"
        f"logfile = {root / 'log'}\npidfile = {root / 'pid'}\n"
    )
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        user = pwd.getpwnam(PG_USER)
        workdir.chmod(0o755)
        for path in (root, *root.iterdir()):
            os.chown(path, user.pw_uid, user.pw_gid)
    subprocess.run(_as_postgres([binary, "-d", str(ini)]), check=True, timeout=30)
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            time.sleep(0.05)
        yield f"postgres://{target.username or PG_USER}@127.0.0.1:{port}"
    finally:
        with contextlib.suppress(OSError, ValueError):
            os.kill(int((root / "pid").read_text()), 15)


# --- seeding for the admin sessions phase ---------------------------------------------------

USER_COLUMNS = [
    "id",
    "email",
    "hashed_password",
    "first_name",
    "last_name",
    "is_active",
    "is_superuser",
    "created_at",
    "updated_at",
]
SESSION_COLUMNS = [
    "id",
    "refresh_token_jti",
    "device_name",
    "device_id",
    "ip_address",
    "user_agent",
    "location_city",
    "location_country",
    "last_used_at",
    "expires_at",
    "is_active",
    "created_at",
    "updated_at",
    "user_id",
]
SESSIONS_PER_USER = 10
# Not a real hash: nobody logs in as a seeded user.
DUMMY_HASH = "$2b$12$" + "x" * 53
DEVICES = ["Chrome on Windows", "Safari on iPhone", "Firefox on Linux", "Edge on Windows"]
CHUNK = 50_000


def seeded_email(index: int) -> str:
    return f"bench-user-{index:07d}@bench.example"


@dataclass
class Seeder:
    """Adds users and sessions with COPY, continuing where the previous call stopped."""

    database_url: str
    users: int = 0
    sessions: int = 0
    user_ids: list[uuid.UUID] | None = None

    def seed_to(self, total_sessions: int) -> float:
        """Grow to ``total_sessions`` seeded sessions; returns the seconds it took."""
        started = time.perf_counter()
        asyncio.run(self._seed(total_sessions))
        return time.perf_counter() - started

    async def _seed(self, total_sessions: int) -> None:
        import asyncpg

        rng = random.Random(total_sessions)
        now = datetime.now(timezone.utc)
        conn = await asyncpg.connect(self.database_url)
        try:
            if self.user_ids is None:
                self.user_ids = []
            new_users = max(total_sessions // SESSIONS_PER_USER - self.users, 0)
            for start in range(0, new_users, CHUNK):
                count = min(CHUNK, new_users - start)
                records: list[tuple[Any, ...]] = []
                for offset in range(count):
                    index = self.users + start + offset
                    user_id = uuid.uuid4()
                    self.user_ids.append(user_id)
                    created = now - timedelta(days=rng.uniform(30, 365))
                    records.append(
                        (
                            user_id,
                            seeded_email(index),
                            DUMMY_HASH,
                            f"First{index}",
                            f"Last{index}",
                            True,
                            False,
                            created,
                            created,
                        )
                    )
                await conn.copy_records_to_table(
                    "auth_users", records=records, columns=USER_COLUMNS
                )
            self.users += new_users
            new_sessions = max(total_sessions - self.sessions, 0)
            user_ids = self.user_ids
            for start in range(0, new_sessions, CHUNK):
                count = min(CHUNK, new_sessions - start)
                records = []
                for offset in range(count):
                    index = self.sessions + start + offset
                    last_used = now - timedelta(seconds=rng.uniform(60, 30 * 86400))
                    expired = rng.random() < 0.1
                    expires = now + timedelta(days=-1 if expired else rng.uniform(1, 7))
                    records.append(
                        (
                            uuid.uuid4(),
                            f"seed{index:012d}",
                            DEVICES[index % len(DEVICES)],
                            None,
                            f"10.{index % 250}.{index // 250 % 250}.{index % 199}",
                            "Mozilla/5.0 (bench)",
                            None,
                            None,
                            last_used,
                            expires,
                            rng.random() >= 0.05,
                            last_used - timedelta(hours=1),
                            last_used,
                            # the first users get SESSIONS_PER_USER each, the rest at random
                            user_ids[index // SESSIONS_PER_USER]
                            if index < 100 * SESSIONS_PER_USER
                            else rng.choice(user_ids),
                        )
                    )
                await conn.copy_records_to_table(
                    "auth_sessions", records=records, columns=SESSION_COLUMNS
                )
            self.sessions += new_sessions
            await conn.execute("ANALYZE auth_users")
            await conn.execute("ANALYZE auth_sessions")
        finally:
            await conn.close()


def count_sessions(database_url: str) -> int:
    async def query() -> int:
        import asyncpg

        conn = await asyncpg.connect(database_url)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM auth_sessions"))
        finally:
            await conn.close()

    return asyncio.run(query())


def count_users(database_url: str) -> int:
    async def query() -> int:
        import asyncpg

        conn = await asyncpg.connect(database_url)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM auth_users"))
        finally:
            await conn.close()

    return asyncio.run(query())
