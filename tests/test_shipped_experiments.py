"""Every shipped experiment runs in snarkVM, agrees with its integer reference, fits the
offline setup, and the cost model's estimate is within 10% of the synthesized key."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.experiment import load_experiment
from workbench.pipeline import run_experiment
from workbench.limits import setup_limits

EXPERIMENTS = sorted((Path(__file__).resolve().parent.parent / "experiments").glob("*.toml"))


@pytest.mark.slow
@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_shipped_experiment_fits_agrees_and_is_estimated_within_ten_percent(path: Path, tmp_path: Path) -> None:
    result, _ = run_experiment(load_experiment(path), tmp_path, samples=2, proofs=0)
    assert result.agreement == 1.0
    for fn in result.circuit.functions:
        # Within every size the setup bounds (a link planned to the budget may reach the
        # setup's own 16,384 constraints: the estimate is a few percent under some keys).
        assert fn.shape is not None and setup_limits(16).over(fn.shape) == [], fn
        assert fn.estimated is not None and abs(fn.estimated - fn.constraints) <= 0.10 * fn.constraints, fn
        assert fn.overhead is not None and fn.overhead < fn.constraints
