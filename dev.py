"""Set-up and everyday commands of this repository, with nothing but python3 (3.10 or newer).

    python3 dev.py serve   # the example app on SQLite, http://127.0.0.1:8000 (runtime packages)
    python3 dev.py test    # the test suite, `pytest --cov` (development packages)
    python3 dev.py lint    # ruff and mypy
    python3 dev.py docs    # builds the documentation site, strict

Each makes ``.venv`` on first use and installs what it needs there (``serve`` only the
package's own dependencies; ``test``, ``lint`` and ``docs`` the ``dev`` and ``docs`` extras). It
installs again only when ``pyproject.toml`` changes, so later runs start at once. ``test``
keeps bytecode caches (in ``__pycache__``) even where ``PYTHONDONTWRITEBYTECODE`` is set.
Arguments after the command are passed on: ``python3 dev.py test -k login``,
``python3 dev.py serve --port 9000``.
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


def run(*argv: str, env: dict[str, str] | None = None) -> int:
    return subprocess.run([str(PYTHON), *argv], cwd=ROOT, env=env).returncode


def writing_bytecode() -> dict[str, str]:
    """The environment, with bytecode written even if ``PYTHONDONTWRITEBYTECODE`` is set.

    The suite starts about 80 Python processes (test workers, example apps, command lines);
    without a bytecode cache each compiles the package again (0.45 s a process) and each test
    worker compiles and rewrites the tests (3 s). The caches go to ``__pycache__``, which git
    ignores."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


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
    return run("-m", "pytest", "--cov", *args, env=writing_bytecode())


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
