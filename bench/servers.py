"""Server processes under test: start, wait until ready, measure RSS, stop."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_json(
    method: str,
    url: str,
    body: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    timeout_s: float = 30.0,
) -> tuple[int, Any]:
    """A single request with the standard library (set-up calls, not load)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw or b"null")
        except ValueError:
            return exc.code, raw.decode(errors="replace")


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from /proc; Linux)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants (Sanic's workers), in MiB."""
    total_kib = 0
    for each in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
        except OSError:
            continue
    return total_kib / 1024


@dataclass
class Server:
    """One server process (its own process group), logging to ``log_path``."""

    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    log_path: Path
    ready_path: str = "/health"
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 120.0) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv,
            cwd=REPO_ROOT,
            env={**os.environ, **self.env, "PORT": str(self.port), "HOST": "127.0.0.1"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start; see {self.log_path}")
            try:
                status, _ = http_json("GET", self.base_url + self.ready_path, timeout_s=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} not ready in {timeout_s:.0f} s; see {self.log_path}")

    def rss_mib(self) -> float:
        return rss_mib(self.process.pid) if self.process else 0.0

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def stop(self) -> None:
        """SIGINT (Sanic's graceful stop), then SIGKILL of this server's own group if stuck."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _argv(module: str, app_path: str, workers: int, port: int) -> list[str]:
    """One worker: ``python -m <module>`` (single process, as documented). More: Sanic's CLI
    with ``--workers N``, which starts the example app and the ceiling app alike (the ceiling
    app has no ``AppLoader`` of its own)."""
    if workers == 1:
        return [sys.executable, "-m", module]
    return [
        sys.executable,
        "-m",
        "sanic",
        app_path,
        "--host=127.0.0.1",
        f"--port={port}",
        "--no-motd",
        f"--workers={workers}",
    ]


def example_app(env: dict[str, str], log_dir: Path, workers: int, tag: str = "") -> Server:
    port = free_port()
    return Server(
        name=f"example_app ({workers} worker{'s' if workers > 1 else ''}{tag and ', ' + tag})",
        argv=_argv("example_app", "example_app.server:app", workers, port),
        env={**env, "WORKERS": str(workers)},
        port=port,
        log_path=log_dir / f"example_app-w{workers}{tag and '-' + tag}.log",
    )


def ceiling_app(env: dict[str, str], log_dir: Path, workers: int) -> Server:
    port = free_port()
    return Server(
        name="ceiling app",
        argv=_argv("bench.ceiling_app", "bench.ceiling_app:app", workers, port),
        env={**env, "WORKERS": str(workers)},
        port=port,
        log_path=log_dir / f"ceiling-w{workers}.log",
    )
