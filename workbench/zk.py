"""The public Python API: `from workbench import zk`.

A thin shell over the stages for notebooks and scripts::

    from workbench import zk
    result, run_dir = zk.run("experiments/iris_decision_tree.toml")
    print(result.metrics.zk, result.circuit.functions)

`zk.stages` holds the stage functions themselves (load_data, train, quantize, plan,
generate_leo, compile_programs, synthesize_keys, execute, prove, verify, record, save),
for a caller who runs them one by one (see docs/architecture.md).
"""

from __future__ import annotations

from pathlib import Path

from workbench import stages
from workbench.experiment import Experiment, load_experiment
from workbench.pipeline import EventSink, run_experiment
from workbench.results import RunResult, load_result

__all__ = ["load", "run", "load_result", "stages", "Experiment", "RunResult"]


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
    """Train, quantize, generate Leo, compile, execute and prove with snarkVM; save under `results`."""
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    result, run_dir = run_experiment(exp, Path(results), on_event=on_event, samples=samples, proofs=proofs)
    assert run_dir is not None  # a snarkVM run with a results directory is always saved
    return result, run_dir
