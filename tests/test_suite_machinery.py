"""The suite's own machinery: where its temporary files go, coverage paused for sweeps, and
how many workers `--numprocesses=auto` starts."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import coverage
import pytest
from xdist.plugin import pytest_xdist_auto_num_workers as xdist_cores

from .conftest import (
    EXTRA_WORKERS,
    MEMORY_TMP,
    memory_tmp_usable,
    pytest_xdist_auto_num_workers,
)


def test_temporary_files_are_in_memory_where_the_machine_has_it(
    tmp_path: Path, pytestconfig: pytest.Config
) -> None:
    if not memory_tmp_usable():
        pytest.skip("no memory file system with room here, or TMPDIR is set")
    assert Path(tempfile.gettempdir()) == MEMORY_TMP
    if not any(arg.startswith("--basetemp") for arg in pytestconfig.invocation_params.args):
        assert tmp_path.is_relative_to(MEMORY_TMP)


def test_coverage_measures_an_ordinary_test() -> None:
    if coverage.Coverage.current() is None:
        pytest.skip("coverage is not measuring this run")
    assert sys.gettrace() is not None


@pytest.mark.coverage_paused
def test_coverage_is_paused_for_a_sweep_and_resumed_after() -> None:
    assert coverage.Coverage.current() is None
    assert sys.gettrace() is None


def test_coverage_measures_again_after_a_sweep() -> None:
    test_coverage_measures_an_ordinary_test()


def test_a_memory_file_system_without_room_or_a_chosen_tmpdir_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TMPDIR", raising=False)
    free = shutil.disk_usage(tmp_path).free
    assert memory_tmp_usable(tmp_path, min_free=free // 2)
    assert not memory_tmp_usable(tmp_path, min_free=free * 2)  # too small for a run
    assert not memory_tmp_usable(tmp_path / "missing", min_free=0)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    assert not memory_tmp_usable(tmp_path, min_free=0)


def test_auto_gives_a_worker_more_than_the_cores_unless_the_environment_says(
    pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTEST_XDIST_AUTO_NUM_WORKERS", raising=False)
    cores = xdist_cores(pytestconfig)
    assert pytest_xdist_auto_num_workers(pytestconfig) == cores + EXTRA_WORKERS
    monkeypatch.setenv("PYTEST_XDIST_AUTO_NUM_WORKERS", "1")
    assert pytest_xdist_auto_num_workers(pytestconfig) is None  # pytest-xdist's hook reads it
    assert pytestconfig.hook.pytest_xdist_auto_num_workers(config=pytestconfig) == 1
