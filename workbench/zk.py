"""The public Python API: `from workbench import zk`.

A thin shell over the pipeline for notebooks and scripts::

    from workbench import zk
    result, run_dir = zk.run("experiments/iris_decision_tree.toml")
    print(result.metrics["zk"], result.circuit["functions"])
"""

from __future__ import annotations

from pathlib import Path

from workbench.experiment import Experiment, load_experiment
from workbench.pipeline import EventSink, run_experiment
from workbench.results import RunResult, load_result

__all__ = ["load", "run", "load_result", "Experiment", "RunResult"]


def load(path: str | Path) -> Experiment:
    """Read and validate an experiment file (raises ExperimentError with every problem)."""
    return load_experiment(path)


def run(
    experiment: str | Path | Experiment,
    results: str | Path = "results",
    on_event: EventSink | None = None,
    samples: int | None = None,
    proofs: int | None = None,
) -> tuple[RunResult, Path]:
    """Train, quantize, generate Leo, compile, execute and prove; save under `results`."""
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    return run_experiment(exp, Path(results), on_event=on_event, samples=samples, proofs=proofs)
