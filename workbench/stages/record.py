"""The last stages: assemble the run's record from every stage's output, and save the run.

Three accuracies are kept apart: float (the estimator), quantized (the integer reference)
and ZK (what the prover computed). Quantized and ZK are compared row by row; any
disagreement is listed (it would be a bug).
"""

from __future__ import annotations

import platform
import statistics
from hashlib import sha256
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from workbench import __version__
from workbench.data import Dataset
from workbench.kinds import Task, Topology
from workbench.results import (
    ChainInfo,
    Circuit,
    DatasetInfo,
    Disagreement,
    ExperimentInfo,
    Memory,
    Metrics,
    ModelInfo,
    ProofRecord,
    RunDirectory,
    RunResult,
    Scaling,
    ScoresRecord,
    Timings,
    now_iso,
    read_values,
)
from workbench.stages.build import plan_packing
from workbench.stages.records import (
    Compiled,
    Executions,
    Keys,
    Plan,
    Proofs,
    Quantized,
    StageTimes,
    Trained,
    Verifications,
)


def metrics_for(task: Task | str, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """The metric names of a task, computed on the given rows."""
    if len(y_true) == 0:
        return {}
    if task == Task.CLASSIFICATION:
        return {"accuracy": float(np.mean(y_true == y_pred))}
    if task == Task.REGRESSION:
        err = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
        total = float(np.sum((y_true - np.mean(y_true)) ** 2))
        return {
            "mae": float(np.mean(np.abs(err))),
            "rmse": float(np.sqrt(np.mean(err**2))),
            "r2": 1.0 - float(np.sum(err**2)) / total if total > 0 else 0.0,
        }
    if task == Task.CLUSTERING:
        # Compared with the float model's assignment (y_true is that assignment).
        return {"assignment_agreement": float(np.mean(y_true == y_pred))}
    raise ValueError(f"no metrics for task {task!r}")


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "-"


def versions(compiler: str) -> dict[str, str]:
    """Versions of everything that shapes a result."""
    return {
        "python": platform.python_version(),
        "workbench": __version__,
        "scikit-learn": _version("scikit-learn"),
        "xgboost": _version("xgboost"),
        "numpy": _version("numpy"),
        "aleo-sdk": _version("aleo-sdk"),
        "compiler": compiler,
    }


def _mean(values: list[float]) -> float | None:
    return round(statistics.mean(values), 4) if values else None


def _scores_record(quantized: Quantized, executions: Executions) -> ScoresRecord | None:
    info = quantized.model.revealed_scores()
    if executions.scores is None or info is None:
        return None
    got = executions.scores
    ref = quantized.model.revealed_scores_int(quantized.inputs[: len(got)])
    same = [np.array_equal(ref[i], got[i]) for i in range(len(got))]
    return ScoresRecord(
        what=info.what,
        type=f"[{info.type.name}; {info.count}]",
        encoding=info.encoding,
        agreement=float(np.mean(same)) if same else 0.0,
        disagreements=tuple(
            Disagreement(i, tuple(int(v) for v in ref[i]), tuple(int(v) for v in got[i]))
            for i in range(len(same))
            if not same[i]
        ),
    )


def _link_workers_peak(plan: Plan, executions: Executions, children_peak_mb: float | None) -> float | None:
    """The largest worker process that ran links (links by commitments run in workers,
    workbench/snarkvm/linked_prover.py); None when the links ran in the run's process (the
    children's peak is then another child's, the ledger helper's)."""
    if plan.topology != Topology.COMMITMENTS or not plan.cuts or not children_peak_mb or executions.workers < 2:
        return None
    return round(children_peak_mb, 1)


def _execute_workers_peak(
    times: StageTimes, plan: Plan, executions: Executions, children_peak_mb: float | None
) -> float | None:
    """The largest worker process that executed rows: as the backend reports it (its workers
    may be another process's children: the prover host's); else, for a model linked by
    commitments (its link workers are this process's children), this process's children."""
    if executions.workers < 2:
        return None
    if times.workers_peak_mb is not None:
        return round(times.workers_peak_mb, 1)
    if plan.topology == Topology.COMMITMENTS and children_peak_mb is not None:
        return round(children_peak_mb, 1)
    return None


def _timings(times: StageTimes, keys: Keys, executions: Executions, proofs: Proofs,
             verifications: Verifications, n_exec: int) -> Timings:
    warm = statistics.median(executions.seconds) if executions.seconds else 0.0
    first = keys.first.authorize_seconds + keys.first.execute_seconds
    prove_seconds = [p.proof.prove_seconds for p in proofs.items]
    return Timings(
        stages={k: round(v, 4) for k, v in times.seconds.items()},
        keygen=round(max(first - warm, 0.0), 4),
        first_execute=round(first, 4),
        execute_per_sample=round(sum(executions.seconds) / n_exec, 4) if n_exec else None,
        execute_per_execution=_mean(list(executions.seconds)),
        authorize_per_sample=round(sum(executions.authorize_seconds) / n_exec, 4) if n_exec else None,
        execute_rows_per_second=round(n_exec / executions.wall_seconds, 3) if executions.wall_seconds > 0 else None,
        prove_mean=_mean(prove_seconds),
        prove_per_sample=_mean([p.proof.prove_seconds / len(p.rows) for p in proofs.items]),
        verify_mean=_mean([v.verify_seconds for v in verifications.items]),
        total=round(times.total, 4),
    )


def record(
    run_id: str,
    experiment: ExperimentInfo,
    data: Dataset,
    scaling: str,
    test_size: float,
    params: dict,
    trained: Trained,
    quantized: Quantized,
    plan: Plan,
    compiled: Compiled,
    keys: Keys,
    executions: Executions,
    proofs: Proofs,
    verifications: Verifications,
    times: StageTimes,
    children_peak_mb: float | None = None,
    declared_range: tuple[float, float] | None = None,
    proofs_requested: int | None = None,
) -> RunResult:
    """The run's record (result.json) from every stage's output."""
    task = trained.task
    model = quantized.model
    zk_int = executions.outputs
    n_exec = len(zk_int)
    reference = quantized.reference
    y_quant = model.labels(reference)
    # Clustering has no ground truth to score against: each assignment is compared with
    # the float model's.
    y_ref = trained.y_float if task == Task.CLUSTERING else data.y_test
    spec = plan.request.program
    label_codec = model.label_codec
    labels = output_labels(label_codec.classes, data.class_names)
    proof_records = tuple(
        ProofRecord(
            sample=item.rows[0],
            verified=check.verified,
            prove_seconds=round(item.proof.prove_seconds, 4),
            verify_seconds=round(check.verify_seconds, 4),
            proof_bytes=len(item.proof.execution_json.encode()),
            path=item.path or "",
            output=item.output,
            error=check.error,
            samples=item.rows,
            prove_seconds_per_sample=round(item.proof.prove_seconds / len(item.rows), 4),
            prediction=tuple(read_values(zk_int[list(item.rows)].tolist(), labels, label_codec.divisor)),
        )
        for item, check in zip(proofs.items, verifications.items)
    )
    return RunResult(
        run_id=run_id,
        created=now_iso(),
        prover=keys.prover,
        experiment=experiment,
        dataset=DatasetInfo(
            name=data.name,
            n_train=int(len(data.X_train)),
            n_test=int(len(data.X_test)),
            n_features=data.n_features,
            sha256=data.sha256,
            scaling=scaling,
            test_size=test_size,
            feature_names=tuple(data.feature_names),
            class_names=data.class_names,
            target=data.target,
            dropped_rows=data.dropped_rows,
            scaler=Scaling(data.scaler.kind, data.scaler.offset, data.scaler.scale) if data.scaler else None,
        ),
        model=ModelInfo(
            algorithm=trained.family.name,
            estimator=type(trained.estimator).__name__,
            params=dict(params),
            quantization=model.describe(),
            declared_input_range=declared_range,
        ),
        task=task,
        metrics=Metrics(
            float_model=metrics_for(task, y_ref, trained.y_float),
            quantized=metrics_for(task, y_ref, y_quant),
            zk=metrics_for(task, y_ref[:n_exec], model.labels(zk_int)),
            float_on_zk_rows=metrics_for(task, y_ref[:n_exec], trained.y_float[:n_exec]),
            quantized_on_zk_rows=metrics_for(task, y_ref[:n_exec], y_quant[:n_exec]),
        ),
        zk_samples=n_exec,
        agreement=float(np.mean(zk_int == reference[:n_exec])) if n_exec else 0.0,
        disagreements=tuple(
            Disagreement(i, int(reference[i]), int(zk_int[i])) for i in range(n_exec) if zk_int[i] != reference[i]
        ),
        circuit=Circuit(
            transitions=executions.transitions,
            functions=keys.costs,
            programs=tuple(p.program_id for p in compiled.programs),
            chain=ChainInfo(plan.unit, plan.units, plan.cuts, str(plan.topology)) if plan.cuts else None,
            batch=plan.batch,
            scores=_scores_record(quantized, executions),
            inputs=spec.inputs,
            output=spec.output,
            key_cache=keys.key_cache,
            execute_workers=executions.workers,
            output_labels=labels,
            output_divisor=label_codec.divisor,
            program_sha256={p.program_id: sha256(p.aleo.encode()).hexdigest() for p in compiled.programs},
            setup_degree=plan.request.degree,
            input_encoding=_input_encoding(quantized, plan),
        ),
        proofs=proof_records,
        timings=_timings(times, keys, executions, proofs, verifications, n_exec),
        memory_mb=Memory(
            stages=dict(times.peak_mb),
            execute_workers=_execute_workers_peak(times, plan, executions, children_peak_mb),
            link_workers=_link_workers_peak(plan, executions, children_peak_mb),
            prover_process=dict(times.prover_peak_mb),
        ),
        versions=versions(compiled.compiler),
        proofs_requested=proofs_requested,
    )


def _input_encoding(quantized: Quantized, plan: Plan) -> str:
    """What the entry function's private input holds (results.Circuit.input_encoding)."""
    if plan.request.program.tree_inputs == "thresholds":
        return "threshold bits"
    return "packed features" if plan_packing(quantized.model, plan) is not None else "features"


def output_labels(classes: tuple | None, class_names: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """Output integer i -> the label it stands for: the model's i-th class, by its name when
    the data names its classes (class indices 0..k-1), else as the class value itself."""
    if classes is None:
        return None
    names = class_names or ()
    return tuple(
        names[int(c)] if isinstance(c, (int, np.integer)) and 0 <= int(c) < len(names) else str(c) for c in classes
    )


def save(result: RunResult, run: RunDirectory) -> Path:
    """Write result.json and move the run into place; refuses a result made without snarkVM."""
    return run.commit(result)
