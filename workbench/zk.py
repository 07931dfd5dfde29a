"""The public Python API: `from workbench import zk`.

Bring your own fitted model (scikit-learn, XGBoost, a Pipeline with scalers, PyTorch, or
ONNX from PyTorch or TensorFlow), get its Leo program and prove its inference::

    from workbench import zk
    model = zk.compile(fitted_estimator, X_train)   # or zk.compile_onnx("net.onnx", X_train)
    proof = model.prove(X_test[:1])                 # executed and proven in snarkVM
    model.save("my_model")                          # Leo project, Aleo program, verifying keys
    assert zk.verify(proof.to_json(), "my_model")   # anyone, from the saved files alone

Or run an experiment file end to end, as `workbench run` does::

    result, run_dir = zk.run("experiments/iris_decision_tree.toml")

`zk.stages` holds the stage functions themselves (load_data, train, quantize, plan,
generate_leo, compile_programs, synthesize_keys, execute, prove, verify, record, save),
for a caller who runs them one by one (see docs/architecture.md and docs/python-api.md).
"""

from __future__ import annotations

from pathlib import Path

from workbench import stages
from workbench.api import CompiledModel, ModelCard, Preprocess, ZkProof, compile, compile_onnx, load, verify
from workbench.experiment import Experiment, load_experiment
from workbench.pipeline import EventSink, run_experiment
from workbench.results import RunResult, load_result

__all__ = [
    "compile",
    "compile_onnx",
    "load",
    "verify",
    "CompiledModel",
    "ZkProof",
    "ModelCard",
    "Preprocess",
    "run",
    "load_experiment",
    "load_result",
    "stages",
    "Experiment",
    "RunResult",
]


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
