"""Fixtures for the TUI tests: a private copy of the fixture experiments and results."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    """(experiments_dir, results_dir): copies of the fixtures the test may change freely."""
    exp_dir = tmp_path / "experiments"
    res_dir = tmp_path / "results"
    shutil.copytree(FIXTURES / "experiments", exp_dir)
    shutil.copytree(FIXTURES / "results", res_dir)
    return exp_dir, res_dir
