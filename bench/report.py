"""The result table (markdown) and the machine/versions header."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

COLUMNS = (
    "Suite",
    "Figure",
    "Result",
    "Ceiling (same run)",
    "Ratio",
    "Target",
    "Status",
    "RSS MiB",
)


@dataclass
class Row:
    suite: str
    figure: str
    result: str
    ceiling: str = ""
    ratio: str = ""
    target: str = ""
    status: str = ""
    rss_mib: str = ""

    def cells(self) -> tuple[str, ...]:
        return (
            self.suite,
            self.figure,
            self.result,
            self.ceiling,
            self.ratio,
            self.target,
            self.status,
            self.rss_mib,
        )


def status(met: bool) -> str:
    return "met" if met else "NOT MET"


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    mem_kib = next(
        (
            int(line.split()[1])
            for line in _read("/proc/meminfo").splitlines()
            if line.startswith("MemTotal:")
        ),
        0,
    )
    try:
        wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10, check=False)
        wrk_version = (wrk.stdout or wrk.stderr).splitlines()[0].strip()
    except (OSError, IndexError, subprocess.TimeoutExpired):
        wrk_version = "unknown"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "Date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "Machine": f"{os.cpu_count()} CPUs ({cpu}), {mem_kib / 1024 / 1024:.1f} GiB RAM",
        "Load average at start": load,
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "sanic / sanic-ext": f"{_version('sanic')} / {_version('sanic-ext')}",
        "tortoise-orm / asyncpg / bcrypt": (
            f"{_version('tortoise-orm')} / {_version('asyncpg')} / {_version('bcrypt')}"
        ),
        "sanic-auth-sessions": _version("sanic-auth-sessions"),
        "wrk": wrk_version,
    }


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|")


def render(rows: list[Row], info: dict[str, str]) -> str:
    lines = ["## Benchmark results", ""]
    lines += [f"- **{key}**: {value}" for key, value in info.items()]
    lines += ["", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_escape(c) for c in row.cells()) + " |" for row in rows]
    return "\n".join(lines) + "\n"
