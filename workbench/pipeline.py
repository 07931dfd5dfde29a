"""One run, stage by stage: data -> model -> fixed point -> Leo -> Aleo -> snarkVM -> result.

Used by the CLI, the TUI (in a worker process) and the Python API alike. Progress is
reported as `Event` values to a callback; the pipeline never prints.
"""

from __future__ import annotations

import platform
import statistics
import time
from dataclasses import dataclass, replace
from importlib.metadata import version
from pathlib import Path
from typing import Callable

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError

from workbench import __version__
from workbench.algorithms import registry
from workbench.algorithms.base import QuantizedModel
from workbench.data import Dataset, load_dataset
from workbench.errors import UserError
from workbench.experiment import Experiment
from workbench.leo import generate, toolchain
from workbench.results import FunctionCost, ProofRecord, RunDirectory, RunResult, new_run_id, now_iso

STAGES = (
    "load data",
    "train",
    "quantize",
    "generate Leo",
    "compile",
    "synthesize keys",
    "execute samples",
    "prove",
    "verify",
    "save",
)


@dataclass(frozen=True)
class Event:
    """A progress event. kind: stage_started | stage_progress | stage_finished | log."""

    kind: str
    stage: str
    message: str = ""
    done: int = 0
    total: int = 0
    elapsed: float = 0.0


EventSink = Callable[[Event], None]


def _ignore(_: Event) -> None:
    pass


class _Stages:
    """Emits started/finished events and records each stage's wall time."""

    def __init__(self, emit: EventSink) -> None:
        self.emit = emit
        self.seconds: dict[str, float] = {}

    def run(self, stage: str, fn: Callable[[], object]) -> object:
        self.emit(Event("stage_started", stage))
        t0 = time.perf_counter()
        value = fn()
        elapsed = time.perf_counter() - t0
        self.seconds[stage] = elapsed
        self.emit(Event("stage_finished", stage, elapsed=elapsed))
        return value

    def progress(self, stage: str, done: int, total: int, message: str = "") -> None:
        self.emit(Event("stage_progress", stage, message, done, total))

    def log(self, stage: str, message: str) -> None:
        self.emit(Event("log", stage, message))


def metrics_for(task: str, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """The metric names of a task, computed on the given rows."""
    if len(y_true) == 0:
        return {}
    if task == "classification":
        return {"accuracy": float(np.mean(y_true == y_pred))}
    raise ValueError(f"no metrics for task {task!r}")


def versions(compiler: str) -> dict[str, str]:
    """Versions of everything that shapes a result."""
    return {
        "python": platform.python_version(),
        "workbench": __version__,
        "scikit-learn": version("scikit-learn"),
        "xgboost": version("xgboost"),
        "numpy": version("numpy"),
        "aleo-sdk": version("aleo-sdk"),
        "compiler": compiler,
    }


def _train(exp: Experiment, data: Dataset) -> object:
    algorithm = registry.get(exp.model.algorithm)
    try:
        estimator = algorithm.make_estimator(exp.model.params, exp.seed)
        estimator.fit(data.X_train, data.y_train)
    except InvalidParameterError as exc:
        raise UserError(f"{exp.path}: [model]: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise UserError(f"{exp.path}: [model]: {algorithm.name} could not be trained: {exc}") from None
    return estimator


def run_experiment(
    exp: Experiment,
    results_root: Path,
    on_event: EventSink | None = None,
    samples: int | None = None,
    proofs: int | None = None,
) -> tuple[RunResult, Path]:
    """Run an experiment end to end and save it; returns the result and its run directory.

    `samples` and `proofs` override the experiment's `[zk]` settings when given.
    """
    # The snarkVM side is imported here: loading aleo-sdk is not needed to validate or
    # train, and the TUI must never import it in its own process.
    from workbench.snarkvm.ledger import LedgerStub
    from workbench.snarkvm.prover import Prover

    zk = replace(
        exp.zk,
        samples=exp.zk.samples if samples is None else samples,
        proofs=exp.zk.proofs if proofs is None else proofs,
    )
    emit = on_event or _ignore
    st = _Stages(emit)
    algorithm = registry.get(exp.model.algorithm)
    run_id = new_run_id()
    t_start = time.perf_counter()

    data: Dataset = st.run(
        "load data", lambda: load_dataset(exp.dataset, exp.seed, stratify=algorithm.task == "classification")
    )  # type: ignore[assignment]
    estimator = st.run("train", lambda: _train(exp, data))
    model: QuantizedModel = st.run("quantize", lambda: algorithm.lower(estimator, data, exp.quantization))  # type: ignore[assignment]

    y_float = estimator.predict(data.X_test)  # type: ignore[attr-defined]
    Xq_test = model.quantize_inputs(data.X_test)
    int_ref = model.predict_int(Xq_test)
    y_quant = model.labels(int_ref)
    n_exec = len(Xq_test) if zk.samples is None else min(zk.samples, len(Xq_test))
    n_proofs = min(zk.proofs, n_exec)

    run = RunDirectory(results_root, exp.name, run_id)
    try:
        program = st.run(
            "generate Leo",
            lambda: generate.render(model, exp.program_name, exp.name, exp.description, zk.inputs, zk.output),
        )
        project_dir = generate.write_project(program, run.path("leo") )  # type: ignore[arg-type]
        built: toolchain.BuildOutput = st.run("compile", lambda: toolchain.build(project_dir, zk.compiler))  # type: ignore[assignment]
        run.path(f"{program.name}.aleo").write_text(built.aleo)  # type: ignore[attr-defined]
        fn = program.function  # type: ignore[attr-defined]

        # Key synthesis happens inside the first execution; its cost is that execution's
        # time minus a warm execution of the same row (measured right after).
        def synthesize() -> tuple[Prover, object, float]:
            prover = Prover(built.aleo)
            first = prover.execute(fn, model.aleo_inputs(Xq_test[0]))
            return prover, first, first.authorize_seconds + first.execute_seconds

        prover, first, first_seconds = st.run("synthesize keys", synthesize)  # type: ignore[misc]
        constraints = prover.constraints(fn)
        vk_path = run.path(f"verifying_keys/{program.name}.{fn}.verifier")  # type: ignore[attr-defined]
        vk_path.write_bytes(prover.verifying_key_bytes(fn))
        st.log("synthesize keys", f"{program.program_id}/{fn}: {constraints} constraints")  # type: ignore[attr-defined]

        executed: list = []

        def execute_all() -> None:
            for i in range(n_exec):
                executed.append(prover.execute(fn, model.aleo_inputs(Xq_test[i])))
                st.progress("execute samples", i + 1, n_exec)

        st.run("execute samples", execute_all)
        zk_int = np.array([model.decode_outputs(e.outputs) for e in executed], dtype=np.int64)
        y_zk = model.labels(zk_int)
        disagreements = [
            {"sample": i, "expected": int(int_ref[i]), "got": int(zk_int[i])}
            for i in range(n_exec)
            if zk_int[i] != int_ref[i]
        ]
        exec_seconds = [e.authorize_seconds + e.execute_seconds for e in executed]

        proofs_made: list = []
        with LedgerStub() as ledger:
            url = zk.endpoint or ledger.url

            def prove_all() -> None:
                for i in range(n_proofs):
                    proofs_made.append(prover.prove(executed[i], fn, url))
                    st.progress("prove", i + 1, n_proofs)

            st.run("prove", prove_all)

        verifications: list = []

        def verify_all() -> None:
            for i, proof in enumerate(proofs_made):
                verifications.append(prover.verify(proof))
                st.progress("verify", i + 1, n_proofs)

        st.run("verify", verify_all)

        proof_records = []
        for i, (proof, check) in enumerate(zip(proofs_made, verifications)):
            rel = f"proofs/sample-{i:04d}.execution.json"
            run.path(rel).write_text(proof.execution_json)
            proof_records.append(
                ProofRecord(
                    sample=i,
                    verified=check.verified,
                    prove_seconds=round(proof.prove_seconds, 4),
                    verify_seconds=round(check.verify_seconds, 4),
                    proof_bytes=len(proof.execution_json.encode()),
                    path=rel,
                    output=executed[i].outputs[0],
                    error=check.error,
                )
            )

        def build_result() -> RunResult:
            warm = statistics.median(exec_seconds)
            timings = {f"stage_{k.replace(' ', '_')}": round(v, 4) for k, v in st.seconds.items()}
            timings.update(
                {
                    "keygen": round(max(first_seconds - warm, 0.0), 4),
                    "first_execute": round(first_seconds, 4),
                    "execute_per_sample": round(statistics.mean(exec_seconds), 4),
                    "authorize_per_sample": round(statistics.mean(e.authorize_seconds for e in executed), 4),
                    "prove_mean": round(statistics.mean(p.prove_seconds for p in proofs_made), 4) if proofs_made else 0.0,
                    "verify_mean": round(statistics.mean(v.verify_seconds for v in verifications), 4)
                    if verifications
                    else 0.0,
                    "total": round(time.perf_counter() - t_start, 4),
                }
            )
            task = algorithm.task
            return RunResult(
                run_id=run_id,
                created=now_iso(),
                experiment={
                    "name": exp.name,
                    "path": str(exp.path),
                    "sha256": exp.sha256,
                    "description": exp.description,
                },
                dataset={
                    "name": data.name,
                    "n_train": int(len(data.X_train)),
                    "n_test": int(len(data.X_test)),
                    "n_features": data.n_features,
                    "sha256": data.sha256,
                    "scaling": exp.dataset.scaling,
                    "test_size": exp.dataset.test_size,
                },
                model={
                    "algorithm": algorithm.name,
                    "estimator": algorithm.estimator.__name__,
                    "params": exp.model.params,
                    "quantization": model.describe(),
                },
                task=task,
                metrics={
                    "float": metrics_for(task, data.y_test, y_float),
                    "quantized": metrics_for(task, data.y_test, y_quant),
                    "zk": metrics_for(task, data.y_test[:n_exec], y_zk),
                },
                metrics_on_zk_samples={
                    "float": metrics_for(task, data.y_test[:n_exec], y_float[:n_exec]),
                    "quantized": metrics_for(task, data.y_test[:n_exec], y_quant[:n_exec]),
                },
                zk_samples=n_exec,
                agreement=float(np.mean(zk_int == int_ref[:n_exec])) if n_exec else 0.0,
                disagreements=disagreements,
                circuit={
                    "transitions": 1,
                    "functions": [
                        FunctionCost(program.program_id, fn, constraints).__dict__  # type: ignore[attr-defined]
                    ],
                    "inputs": zk.inputs,
                    "output": zk.output,
                },
                proofs=proof_records,
                timings=timings,
                versions=versions(built.compiler),
            )

        st.emit(Event("stage_started", "save"))
        result = build_result()
        final = run.commit(result)
        st.emit(Event("stage_finished", "save"))
        return result, final
    except BaseException:
        run.discard()
        raise
