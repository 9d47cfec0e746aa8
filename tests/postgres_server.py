"""Test helpers: a throwaway PostgreSQL server that a test may stop and restart, and a
throwaway PgBouncer in transaction mode in front of it.

The shared test server (``TEST_DATABASE_URL``) must never be stopped; these are the test's own,
on free loopback ports, in a temporary directory removed afterwards. Both refuse to run as
root, so as root they run as the ``postgres`` user. Tests needing them are skipped when the
PostgreSQL server binaries (or ``pgbouncer``) are not installed.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from .serving import free_port

START_TIMEOUT_S = 30


def server_binaries() -> Path | None:
    """The directory of ``initdb`` and ``pg_ctl``: Debian's newest, or from PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _version(path: str) -> tuple[int, ...]:
    return tuple(int(part) for part in path.split("/")[4].split(".") if part.isdigit())


def as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _run(command: list[str]) -> None:
    subprocess.run(as_server_user(command), check=True, capture_output=True, timeout=60)


def _listens(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def _workdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="auth-pg-"))
    path.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(path, "postgres")
    return path


class ThrowawayPostgres:
    def __init__(self) -> None:
        binaries = server_binaries()
        if binaries is None:
            pytest.skip("the PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        self.bin = binaries
        self.dir = _workdir()
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        initdb = [str(self.bin / "initdb"), "-D", str(self.dir / "data"), "-U", "postgres"]
        _run([*initdb, "-A", "trust", "-E", "UTF8", "-N"])
        self.start()

    def _ctl(self, *arguments: str) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off"
        pg_ctl = [
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.dir / "data"),
            "-l",
            str(self.dir / "log"),
        ]
        _run([*pg_ctl, "-w", "-t", str(START_TIMEOUT_S), *arguments, "-o", options])

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        """A fast shutdown: sessions are terminated, as in a restart by an operator."""
        self._ctl("stop", "-m", "fast")

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # unless already stopped
            self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class ThrowawayPgBouncer:
    """PgBouncer in transaction mode in front of ``target`` (any database name)."""

    def __init__(self, target: ThrowawayPostgres) -> None:
        binary = shutil.which("pgbouncer") or (
            "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
        )
        if binary is None:
            pytest.skip("pgbouncer is not installed")
        self.dir = _workdir()
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        (self.dir / "users.txt").write_text('"postgres" ""\n')
        ini = self.dir / "pgbouncer.ini"
        ini.write_text(
            "[databases]\n"
            f"* = host=127.0.0.1 port={target.port}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.dir / 'users.txt'}\n"
            "pool_mode = transaction\nmax_client_conn = 200\ndefault_pool_size = 10\n"
            # Retry a failed server login after 1 s, not 15 (the tests wait for recovery);
            # a query waiting for a server that cannot be reached fails after 2 s, not 120.
            "server_login_retry = 1\nquery_wait_timeout = 2\n"
            f"logfile = {self.dir / 'pgbouncer.log'}\npidfile = {self.dir / 'pgbouncer.pid'}\n"
        )
        if os.geteuid() == 0:
            for path in self.dir.iterdir():
                shutil.chown(path, "postgres")
        _run([binary, "-d", str(ini)])
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _listens(self.port):
            if time.monotonic() > deadline:
                pytest.fail("pgbouncer did not start")
            time.sleep(0.05)

    def close(self) -> None:
        pid_file = self.dir / "pgbouncer.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text())
            os.kill(pid, 15)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
        shutil.rmtree(self.dir, ignore_errors=True)
