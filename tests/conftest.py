"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

@pytest.fixture(scope="session", autouse=True)
def isolated_key_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tests never touch the user's key cache; they share one for the session instead."""
    path = tmp_path_factory.mktemp("key-cache")
    os.environ["WORKBENCH_CACHE_DIR"] = str(path)  # inherited by CLI subprocesses too
    return path


@pytest.fixture(scope="session", autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tests never read or write the user's ~/.aleo: the setup files snarkVM proves with are
    looked for (and the shipped one installed) under a temporary HOME, so which setup degrees
    a run plans against does not depend on the machine (workbench/snarkvm/setup_files.py)."""
    path = tmp_path_factory.mktemp("home")
    os.environ["HOME"] = str(path)  # inherited by CLI subprocesses too
    # Install the shipped file there at once: tests that run snarkVM without the
    # workbench's own process (the Leo conformance cases) would otherwise find none and
    # try to download it.
    from workbench.snarkvm import params

    params.ensure_installed()
    return path


@pytest.fixture
def write_toml(tmp_path: Path):
    """Write a TOML experiment into a temporary directory and return its path."""

    def write(text: str, name: str = "exp.toml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


@pytest.fixture(scope="session")
def iris_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real run of the shipped iris experiment (4 rows executed, 1 proof), shared by tests."""
    from workbench.experiment import load_experiment
    from workbench.pipeline import run_experiment

    exp = load_experiment(Path(__file__).resolve().parent.parent / "experiments" / "iris_decision_tree.toml")
    _, run_dir = run_experiment(exp, tmp_path_factory.mktemp("results"), samples=4, proofs=1)
    return run_dir
