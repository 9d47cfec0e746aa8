"""Run ``wrk`` (the load generator) with one of bench/lua/*.lua and read its figures."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

LUA_DIR = Path(__file__).parent / "lua"
RESULT_MARK = "BENCH_RESULT "
INSTALL_HINT = (
    "wrk (the HTTP load generator) is not installed. On Debian/Ubuntu: "
    "`sudo apt-get install -y wrk`; on macOS: `brew install wrk`."
)


class WrkError(RuntimeError):
    pass


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    errors: int  # connect/read/write errors and timeouts
    status_errors: int  # responses with a status >= 400
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def ok_rps(self) -> float:
        """Requests/s that succeeded (status < 400, no socket error)."""
        good = max(self.requests - self.status_errors - self.errors, 0)
        return good / self.duration_s if self.duration_s else 0.0


def wrk_path() -> str | None:
    return shutil.which("wrk")


def _script(name: str, workdir: Path) -> Path:
    """The phase's script with the shared ``done`` reporter appended (wrk takes one -s)."""
    target = workdir / f"wrk-{name}"
    target.write_text(
        (LUA_DIR / name).read_text() + "\n" + (LUA_DIR / "common.lua").read_text(),
        encoding="utf-8",
    )
    return target


def _parse(stdout: str, stderr: str, returncode: int | None) -> WrkResult:
    for line in stdout.splitlines():
        if line.startswith(RESULT_MARK):
            data = json.loads(line[len(RESULT_MARK) :])
            socket_errors = (
                data["connect_errors"] + data["read_errors"] + data["write_errors"]
            ) + data["timeouts"]
            return WrkResult(
                requests=int(data["requests"]),
                duration_s=data["duration_us"] / 1e6,
                errors=int(socket_errors),
                status_errors=int(data["status_errors"]),
                p50_ms=data["p50_us"] / 1000,
                p95_ms=data["p95_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
                max_ms=data["max_us"] / 1000,
            )
    raise WrkError(f"wrk gave no result (exit {returncode}): {stdout[-2000:]} {stderr[-2000:]}")


def start_wrk(
    url: str,
    *,
    script: str,
    duration_s: float,
    connections: int,
    workdir: Path,
    threads: int = 1,
    timeout_s: float = 10.0,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    """Start one bounded wrk run against ``url`` (only ever a 127.0.0.1 URL)."""
    if not url.startswith("http://127.0.0.1:"):
        raise WrkError(f"refusing to load anything but 127.0.0.1: {url}")
    binary = wrk_path()
    if binary is None:
        raise WrkError(INSTALL_HINT)
    threads = max(1, min(threads, connections))
    argv = [
        binary,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration_s))}s",
        f"--timeout={max(1, round(timeout_s))}s",
        "-s",
        str(_script(script, workdir)),
        url,
    ]
    return subprocess.Popen(
        argv,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish_wrk(process: subprocess.Popen[str], duration_s: float) -> WrkResult:
    """Wait for a run from ``start_wrk`` (bounded: killed well after its duration)."""
    try:
        stdout, stderr = process.communicate(timeout=duration_s + 60)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    return _parse(stdout, stderr, process.returncode)


def run_wrk(
    url: str,
    *,
    script: str,
    duration_s: float,
    connections: int,
    threads: int = 1,
    timeout_s: float = 10.0,
    env: dict[str, str] | None = None,
) -> WrkResult:
    """One bounded wrk run, waited for."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        process = start_wrk(
            url,
            script=script,
            duration_s=duration_s,
            connections=connections,
            workdir=Path(tmp),
            threads=threads,
            timeout_s=timeout_s,
            env=env,
        )
        return finish_wrk(process, duration_s)
