"""The suite's own machinery: where its temporary files go, and coverage paused for sweeps."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import coverage
import pytest

from .conftest import MEMORY_TMP


def test_temporary_files_are_in_memory_where_the_machine_has_it(
    tmp_path: Path, pytestconfig: pytest.Config
) -> None:
    if not MEMORY_TMP.is_dir() or not os.access(MEMORY_TMP, os.W_OK):
        pytest.skip("no memory file system here")
    if "TMPDIR" in os.environ:
        pytest.skip("the run chose its own temporary directory")
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
