"""Set-up and everyday commands of this repository, with nothing but python3 (3.10 or newer).

    python3 dev.py serve   # the example app on SQLite, http://127.0.0.1:8000 (runtime packages)
    python3 dev.py test    # the test suite, `pytest --cov` (development packages)
    python3 dev.py lint    # ruff and mypy
    python3 dev.py docs    # builds the documentation site, strict

Each makes ``.venv`` on first use and installs what it needs there (``serve`` only the
package's own dependencies; ``test``, ``lint`` and ``docs`` the ``dev`` and ``docs`` extras). It
installs again only when ``pyproject.toml`` changes, so later runs start at once. Arguments after
the command are passed on: ``python3 dev.py test -k login``, ``python3 dev.py serve --port 9000``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("DEV_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
DEVELOPMENT = "dev,docs"


def stamp(extras: str) -> Path:
    return VENV / f".installed-{extras.replace(',', '-') or 'runtime'}"


def wanted(extras: str) -> str:
    """What an install with ``extras`` depends on: the project file and the extras."""
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()


def ensure(extras: str) -> None:
    """``.venv`` with the package installed (editable) with ``extras``; only once per change."""
    # ``serve`` is content with the development install too: it holds the runtime packages.
    enough = [extras] if extras else ["", DEVELOPMENT]
    if PYTHON.exists() and any(
        stamp(e).exists() and stamp(e).read_text() == wanted(e) for e in enough
    ):
        return
    if not PYTHON.exists():
        print(f"Creating {VENV.name} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    target = f".[{extras}]" if extras else "."
    print(f"Installing {target} into {VENV.name} ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "-e", target], cwd=ROOT, check=True)
    stamp(extras).write_text(wanted(extras))


def run(*argv: str) -> int:
    return subprocess.run([str(PYTHON), *argv], cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    return COMMANDS[command](rest)


def serve(args: list[str]) -> int:
    ensure("")
    return run("-m", "example_app", *args)


def test(args: list[str]) -> int:
    ensure(DEVELOPMENT)
    return run("-m", "pytest", "--cov", *args)


def lint(args: list[str]) -> int:
    ensure(DEVELOPMENT)
    checks = [
        ("-m", "ruff", "check", "."),
        ("-m", "ruff", "format", "--check", "."),
        ("-m", "mypy", "sanic_auth_sessions"),
    ]
    return max(run(*check) for check in checks)


def docs(args: list[str]) -> int:
    ensure(DEVELOPMENT)
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    return run("-m", "mkdocs", "build", "--strict", "--quiet", *args)


COMMANDS = {"serve": serve, "test": test, "lint": lint, "docs": docs}

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
