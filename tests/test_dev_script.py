"""``dev.py``, the README's set-up commands: each installs once, then starts at once."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def dev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("DEV_VENV", str(tmp_path / "venv"))
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def installs(dev: ModuleType, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every pip and tool command, recorded instead of run; the venv is made empty."""
    calls: list[list[str]] = []

    def record(argv: list[str], **_: Any) -> subprocess.CompletedProcess[bytes]:
        calls.append([str(part) for part in argv])
        return subprocess.CompletedProcess(argv, 0)

    def make_venv(self: object, path: Path) -> None:
        dev.PYTHON.parent.mkdir(parents=True)
        dev.PYTHON.touch()

    monkeypatch.setattr(dev.subprocess, "run", record)
    monkeypatch.setattr(dev.venv.EnvBuilder, "create", make_venv)
    return calls


def pip_installs(calls: list[list[str]]) -> list[str]:
    return [call[-1] for call in calls if "pip" in call]


def test_serve_installs_the_runtime_only_once(dev: ModuleType, installs: list[list[str]]) -> None:
    assert dev.main(["serve", "--port", "9000"]) == 0
    assert pip_installs(installs) == ["."]
    assert installs[-1][-4:] == ["-m", "example_app", "--port", "9000"]
    installs.clear()
    assert dev.main(["serve"]) == 0
    assert pip_installs(installs) == []


def test_test_installs_the_development_extras_and_serve_is_content_with_them(
    dev: ModuleType, installs: list[list[str]]
) -> None:
    assert dev.main(["test", "-k", "login"]) == 0
    assert pip_installs(installs) == [".[dev,docs]"]
    assert installs[-1][-5:] == ["-m", "pytest", "--cov", "-k", "login"]
    installs.clear()
    assert dev.main(["serve"]) == 0
    assert dev.main(["lint"]) == 0
    assert pip_installs(installs) == []


def test_the_tests_write_bytecode_caches_even_where_the_environment_says_not_to(
    dev: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    environments: list[dict[str, str] | None] = []

    def record(argv: list[str], **options: Any) -> subprocess.CompletedProcess[bytes]:
        environments.append(options.get("env"))
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.setattr(dev, "ensure", lambda extras: None)
    monkeypatch.setattr(dev.subprocess, "run", record)
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("SOMETHING_ELSE", "kept")
    assert dev.main(["test"]) == 0
    [env] = environments
    assert env is not None and "PYTHONDONTWRITEBYTECODE" not in env
    assert env["SOMETHING_ELSE"] == "kept"
    assert dev.main(["serve"]) == 0
    assert environments[-1] is None  # the other commands leave the environment alone


def test_a_changed_project_file_installs_again(
    dev: ModuleType, installs: list[list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert dev.main(["serve"]) == 0
    project = tmp_path / "pyproject.toml"
    project.write_text((ROOT / "pyproject.toml").read_text() + "\n# changed\n")
    monkeypatch.setattr(dev, "ROOT", tmp_path)
    installs.clear()
    assert dev.main(["serve"]) == 0
    assert pip_installs(installs) == ["."]


def test_an_unknown_command_says_what_there_is(
    dev: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert dev.main(["deploy"]) == 2
    assert "python3 dev.py serve" in capsys.readouterr().err


def test_it_runs_with_the_interpreter_alone() -> None:
    """No third-party import at the top: a bare python3 can run it."""
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(ROOT / "dev.py")], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "python3 dev.py test" in done.stderr
