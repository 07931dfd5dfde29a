"""One run, stage by stage: data -> model -> fixed point -> Leo -> Aleo -> snarkVM -> result.

Used by the CLI, the TUI (in a worker process) and the Python API alike. Progress is
reported as `Event` values to a callback; the pipeline never prints.
"""

from __future__ import annotations

import platform
import statistics
import time
from dataclasses import asdict, dataclass, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any, Callable, TypeVar

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError

from workbench import __version__, split
from workbench.algorithms import registry
from workbench.algorithms.base import Algorithm, QuantizedModel
from workbench.data import Dataset, load_dataset
from workbench.errors import UserError
from workbench.events import STAGES, Event  # noqa: F401 - re-exported for callers
from workbench.experiment import Experiment, ZkSpec
from workbench.leo import generate, toolchain
from workbench.snarkvm.costs import OFFLINE_BUDGET, estimate_constraints
from workbench.snarkvm.errors import CircuitTooLarge
from workbench.results import FunctionCost, ProofRecord, RunDirectory, RunResult, new_run_id, now_iso

EventSink = Callable[[Event], None]
MAX_BATCH = 64  # the largest `[zk] batch` accepted (experiment.py checks the same bound)
T = TypeVar("T")


def _ignore(_: Event) -> None:
    pass


def _reset_peak_memory() -> None:
    # Writing 5 to clear_refs resets the kernel's peak-RSS mark (VmHWM) of this process,
    # so each stage's peak is its own, not the run's so far (Linux only; elsewhere the
    # figures are the run's peak so far).
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_memory_mb() -> float:
    """Peak resident memory of this process since the last reset, in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Stages:
    """Emits started/finished events and records each stage's wall time and peak memory."""

    def __init__(self, emit: EventSink) -> None:
        self.emit = emit
        self.seconds: dict[str, float] = {}
        self.peak_mb: dict[str, float] = {}

    def run(self, stage: str, fn: Callable[[], T]) -> T:
        self.emit(Event("stage_started", stage))
        _reset_peak_memory()
        t0 = time.perf_counter()
        value = fn()
        elapsed = time.perf_counter() - t0
        self.seconds[stage] = elapsed
        self.peak_mb[stage] = round(_peak_memory_mb(), 1)
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
    if task == "regression":
        err = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
        total = float(np.sum((y_true - np.mean(y_true)) ** 2))
        return {
            "mae": float(np.mean(np.abs(err))),
            "rmse": float(np.sqrt(np.mean(err**2))),
            "r2": 1.0 - float(np.sum(err**2)) / total if total > 0 else 0.0,
        }
    if task == "clustering":
        # Compared with the float model's assignment (y_true is that assignment).
        return {"assignment_agreement": float(np.mean(y_true == y_pred))}
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


def _train(exp: Experiment, data: Dataset) -> Any:
    algorithm = registry.get(exp.model.algorithm)
    try:
        estimator = algorithm.make_estimator(exp.model.params, exp.seed)
        estimator.fit(data.X_train, data.y_train)
    except InvalidParameterError as exc:
        raise UserError(f"{exp.path}: [model]: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise UserError(f"{exp.path}: [model]: {algorithm.name} could not be trained: {exc}") from None
    return estimator


@dataclass
class _Trained:
    """What the Python side produced: data, the fitted estimator, its quantized twin."""

    data: Dataset
    estimator: Any
    model: QuantizedModel
    y_float: np.ndarray  # float predictions on every test row
    Xq_test: np.ndarray  # the circuit's input integers for every test row
    int_ref: np.ndarray  # the integer reference's outputs for every test row


@dataclass
class _Executed:
    """What snarkVM produced for the executed rows."""

    outputs: np.ndarray  # the circuit's output integer for each executed row
    scores: np.ndarray | None  # with `[zk] scores`: the score vector output for each row
    seconds: list[float]  # authorize + execute, per execution
    authorize_seconds: list[float]
    proven: list[Any]  # Executed values (with traces) of the executions to prove
    first_seconds: float  # the first execution, which synthesizes keys unless cached
    transitions: int
    key_cache: str  # hit | miss | off
    workers: int


def _train_and_quantize(exp: Experiment, algorithm: Algorithm, st: _Stages) -> _Trained:
    data: Dataset = st.run(
        "load data", lambda: load_dataset(exp.dataset, exp.seed, stratify=algorithm.task != "regression")
    )
    estimator = st.run("train", lambda: _train(exp, data))
    model: QuantizedModel = st.run("quantize", lambda: algorithm.lower(estimator, data, exp.quantization))
    Xq_test = model.quantize_inputs(data.X_test)
    return _Trained(data, estimator, model, estimator.predict(data.X_test), Xq_test, model.predict_int(Xq_test))


def _batches(n_rows: int, batch: int) -> list[list[int]]:
    """Row indices per execution: consecutive groups of `batch` (the last may be short)."""
    return [list(range(i, min(i + batch, n_rows))) for i in range(0, n_rows, batch)]


def _execute(
    prover: Any,
    fn: str,
    t: _Trained,
    units: list[list[int]],
    batch: int,
    n_proofs: int,
    use_cache: bool,
    workers: int | None,
    st: _Stages,
    scores: bool = False,
) -> tuple[_Executed, dict[Any, Any]]:
    """Synthesize (or load) keys, then execute every unit (a batch of rows).

    A short last batch is padded by repeating its last row; the padding's outputs are
    dropped.
    """
    from workbench.snarkvm import parallel

    def padded(rows: list[int]) -> np.ndarray:
        return t.Xq_test[rows + [rows[-1]] * (batch - len(rows))]

    inputs = [t.model.aleo_inputs(padded(rows)) for rows in units]
    n_rows = sum(len(u) for u in units)

    # Key synthesis happens inside the first execution; the keygen figure is that
    # execution's time minus the median warm execution.
    def synthesize() -> tuple[Any, str, dict[Any, Any]]:
        cached = prover.load_cached_keys()
        first = prover.execute(fn, inputs[0])
        keys = cached or prover.key_bytes()
        if use_cache and cached is None:
            prover.store_keys(keys)
        return first, ("miss" if cached is None else "hit") if use_cache else "off", keys

    first, cache_state, keys = st.run("synthesize keys", synthesize)
    st.log("synthesize keys", f"key cache: {cache_state}")

    outputs = np.zeros(n_rows, dtype=np.int64)
    reveal = t.model.revealed_scores() if scores else None
    revealed = np.zeros((n_rows, len(reveal.variables)), dtype=np.int64) if reveal else None
    auth = [0.0] * len(units)
    seconds = [0.0] * len(units)
    proven: list[Any] = []
    # Units to prove run here (their traces cannot leave this process); the rest may go
    # to worker processes, one snarkVM each, when there are enough of them.
    rest = list(range(n_proofs, len(units)))
    n_workers = parallel.worker_count(len(rest)) if workers is None else min(workers, len(rest))
    done = 0

    def record(u: int, outs: list[str], a: float, e: float) -> None:
        nonlocal done
        rows = units[u]
        outputs[rows] = t.model.decode_outputs(outs, batch)[: len(rows)]
        if revealed is not None:
            revealed[rows] = t.model.decode_scores(outs, batch)[: len(rows)]
        auth[u], seconds[u] = a, a + e
        done += len(rows)
        st.progress("execute samples", done, n_rows)

    def execute_all() -> None:
        for u in range(n_proofs):
            e = prover.execute(fn, inputs[u])
            proven.append(e)
            record(u, e.outputs, e.authorize_seconds, e.execute_seconds)
        if n_workers >= 2:
            parallel.execute_rows(
                prover.sources, fn, keys, [(u, inputs[u]) for u in rest], n_workers,
                on_row=lambda o: record(o.index, o.outputs, o.authorize_seconds, o.execute_seconds),
            )
        else:
            for u in rest:
                e = prover.execute(fn, inputs[u])
                record(u, e.outputs, e.authorize_seconds, e.execute_seconds)

    st.run("execute samples", execute_all)
    st.log("execute samples", f"{n_rows} rows in {len(units)} executions, {max(n_workers, 1)} process(es)")
    executed = _Executed(
        outputs=outputs,
        scores=revealed,
        seconds=seconds,
        authorize_seconds=auth,
        proven=proven,
        first_seconds=first.authorize_seconds + first.execute_seconds,
        transitions=len(first.trace.transitions()),
        key_cache=cache_state,
        workers=max(n_workers, 1),
    )
    return executed, keys


class _AutoBatchTooLarge(Exception):
    """An automatically chosen batch did not fit at key synthesis (carries the batch)."""

    def __init__(self, batch: int, error: CircuitTooLarge) -> None:
        super().__init__(str(error))
        self.batch = batch
        self.error = error


class _ChainTooLarge(Exception):
    """A chain of transitions planned for `budget` did not fit at key synthesis."""

    def __init__(self, budget: int, error: CircuitTooLarge) -> None:
        super().__init__(str(error))
        self.budget = budget
        self.error = error


# A chain refused at key synthesis is planned again for a budget this much smaller, down
# to CHAIN_BUDGET_FLOOR of the offline budget (then the refusal is reported).
CHAIN_BUDGET_STEP = 0.03
CHAIN_BUDGET_FLOOR = 0.85


def run_experiment(
    exp: Experiment,
    results_root: Path,
    on_event: EventSink | None = None,
    samples: int | None = None,
    proofs: int | None = None,
    use_key_cache: bool = True,
    workers: int | None = None,
    batch: int | str | None = None,
    chain_budget: int = OFFLINE_BUDGET,
) -> tuple[RunResult, Path]:
    """Run an experiment end to end and save it; returns the result and its run directory.

    `samples`, `proofs` and `batch` (an int or "auto") override the experiment's `[zk]`
    settings when given.
    `use_key_cache` reads and writes the on-disk key cache; `workers` sets the number of
    processes executing rows (None: by the number of rows and cores; 1: this process only).

    With batch "auto", the batch comes from the cost model's estimate. The estimate counts
    constraints, but the setup also bounds other sizes of the circuit (its non-zero
    entries), so a batch estimated to fit can still be refused at key synthesis; the run
    then retries with three quarters of that batch. Likewise a model split across a chain
    of transitions is planned for `chain_budget` constraints per transition (the offline
    budget); a chain refused at key synthesis is planned again for 3% less, down to 85%.
    """
    cap = MAX_BATCH
    emit = on_event or _ignore
    while True:
        try:
            return _run_experiment(
                exp, results_root, on_event, samples, proofs, use_key_cache, workers, batch, cap, chain_budget
            )
        except _AutoBatchTooLarge as exc:
            if exc.batch <= 1:
                raise exc.error from None
            cap = max(1, exc.batch * 3 // 4)
            emit(Event("log", "synthesize keys", f"batch {exc.batch} too large for the setup; retrying with at most {cap}"))
        except _ChainTooLarge as exc:
            chain_budget = int(exc.budget * (1 - CHAIN_BUDGET_STEP))
            if chain_budget < OFFLINE_BUDGET * CHAIN_BUDGET_FLOOR:
                raise exc.error from None
            emit(Event("log", "synthesize keys", f"a link planned for {exc.budget:,} constraints was refused by the "
                                                 f"setup; planning the chain again for {chain_budget:,}"))


def _run_experiment(
    exp: Experiment,
    results_root: Path,
    on_event: EventSink | None,
    samples: int | None,
    proofs: int | None,
    use_key_cache: bool,
    workers: int | None,
    batch: int | str | None,
    batch_cap: int,
    chain_budget: int,
) -> tuple[RunResult, Path]:
    # The snarkVM side is imported here: loading aleo-sdk is not needed to validate or
    # train, and a UI process must never import it.
    from workbench.snarkvm.keycache import KeyCache
    from workbench.snarkvm.prover import Prover, sdk_version

    zk = replace(
        exp.zk,
        samples=exp.zk.samples if samples is None else samples,
        proofs=exp.zk.proofs if proofs is None else proofs,
        batch=exp.zk.batch if batch is None else batch,
    )
    st = _Stages(on_event or _ignore)
    algorithm = registry.get(exp.model.algorithm)
    t_start = time.perf_counter()

    t = _train_and_quantize(exp, algorithm, st)
    if zk.scores and t.model.revealed_scores() is None:
        raise UserError(
            f"{exp.path}: [zk] scores: {algorithm.name} has no score vector to output (its output is "
            f"{'the predicted value itself' if algorithm.task == 'regression' else 'the class of the leaf reached'}); "
            f"remove `scores = true`"
        )
    n_exec = len(t.Xq_test) if zk.samples is None else min(zk.samples, len(t.Xq_test))
    plan = st.run("generate Leo", lambda: _generate(exp, zk, t, n_exec, batch_cap, chain_budget, st))
    units = _batches(n_exec, plan.batch)
    n_proofs = min(zk.proofs, len(units))

    run = RunDirectory(results_root, exp.name, new_run_id())
    try:
        built, estimates = st.run("compile", lambda: _compile(plan.programs, zk.compiler, run))
        # A chain was planned for `chain_budget` (larger only when a caller asks for it).
        _check_fits(estimates, t.model, t.data, plan.batch, max(OFFLINE_BUDGET, chain_budget) if plan.cuts else OFFLINE_BUDGET)
        sources = [b.aleo for b in built]
        fn = plan.programs[-1].function
        prover = Prover(sources, KeyCache(sources, sdk_version()) if use_key_cache else None)
        try:
            ex, keys = _execute(prover, fn, t, units, plan.batch, n_proofs, use_key_cache, workers, st, zk.scores)
        except CircuitTooLarge as exc:
            error = CircuitTooLarge(f"{exc}\n{_model_size(t.model, t.data)}")
            if plan.cuts:
                raise _ChainTooLarge(chain_budget, error) from None
            if zk.batch == "auto":
                raise _AutoBatchTooLarge(plan.batch, error) from None
            raise error from None
        for (program_id, function), k in keys.items():
            run.path(f"verifying_keys/{program_id.removesuffix('.aleo')}.{function}.verifier").write_bytes(k.verifier)
        costs = _function_costs(prover, plan.programs, built, estimates, st)
        proof_records = _prove_and_verify(prover, fn, ex, units, n_proofs, zk.endpoint, run, st)

        st.emit(Event("stage_started", "save"))
        result = _result(exp, algorithm, t, ex, st, n_exec, proof_records, costs, plan, zk, built, run)
        result.timings["total"] = round(time.perf_counter() - t_start, 4)
        final = run.commit(result)
        st.emit(Event("stage_finished", "save"))
        return result, final
    except BaseException:
        run.discard()
        raise


@dataclass(frozen=True)
class _Plan:
    """The programs of a run and how they evaluate rows."""

    batch: int  # rows per execution
    cuts: tuple[int, ...]  # where a model split across transitions is cut; () if it is not
    programs: list[generate.LeoProgram]  # dependencies first, the main program last


def _generate(
    exp: Experiment, zk: ZkSpec, t: _Trained, n_exec: int, batch_cap: int, chain_budget: int, st: _Stages
) -> _Plan:
    """Render the Leo programs: one, a batch of rows, or a chain of transitions."""

    def render(batch: int, cuts: tuple[int, ...] = ()) -> list[generate.LeoProgram]:
        return generate.render(
            t.model, exp.program_name, exp.name, exp.description, zk.inputs, zk.output,
            batch=batch, cuts=cuts, scores=zk.scores,
        )

    # A model whose single program does not fit one transition is split into a chain of
    # transitions (families that can be split), one row per execution.
    cuts = _split(t.model, t.data, lambda c: render(1, c), chain_budget)
    if cuts:
        if zk.batch != 1:
            st.log("generate Leo", f"the model is split across {len(cuts) + 1} transitions: one row per execution")
        return _Plan(1, cuts, render(1, cuts))
    # With batch = "auto" the largest batch whose estimated circuit fits the offline setup
    # is chosen from the compiled program; the synthesized key confirms it later.
    b = zk.batch if isinstance(zk.batch, int) else _auto_batch(render, min(n_exec, batch_cap))
    return _Plan(b, cuts, render(b))


def _compile(
    programs: list[generate.LeoProgram], compiler: str, run: RunDirectory
) -> tuple[list[toolchain.BuildOutput], dict[tuple[str, str], int]]:
    """Write each program's Leo project into the run, compile it, and estimate every
    function's constraints (a caller with the sources of the programs it calls)."""
    built = []
    for p in programs:  # dependencies first
        project = generate.write_project(p, run.path(f"leo/{p.name}"))
        built.append(toolchain.build(project, compiler))
        run.path(f"{p.name}.aleo").write_text(built[-1].aleo)
    aleo_of = {p.name: b.aleo for p, b in zip(programs, built)}
    estimates = {
        (p.program_id, f): n
        for p, b in zip(programs, built)
        for f, n in estimate_constraints(b.aleo, [aleo_of[i] for i in p.imports]).items()
    }
    return built, estimates


def _function_costs(
    prover: Any,
    programs: list[generate.LeoProgram],
    built: list[toolchain.BuildOutput],
    estimates: dict[tuple[str, str], int],
    st: _Stages,
) -> list[FunctionCost]:
    """Each function's constraints (from its key), measured fixed overhead and estimate."""
    from workbench.snarkvm import overhead
    from workbench.snarkvm.prover import sdk_version

    by_program = {p.program_id: b.aleo for p, b in zip(programs, built)}
    costs = [
        FunctionCost(
            p, f, prover.constraints(p, f), overhead.measure(prover, by_program[p], f, sdk_version()),
            estimates.get((p, f)),
        )
        for p, f in prover.functions()
    ]
    for c in costs:
        st.log(
            "synthesize keys",
            f"{c.program}/{c.function}: {c.constraints} constraints ({c.overhead} fixed transition overhead, "
            f"{c.constraints - c.overhead} model)",
        )
    return costs


def _prove_and_verify(
    prover: Any,
    fn: str,
    ex: _Executed,
    units: list[list[int]],
    n_proofs: int,
    endpoint: str | None,
    run: RunDirectory,
    st: _Stages,
) -> list[ProofRecord]:
    """Prove the first executions, verify each proof, save them into the run."""
    from workbench.snarkvm.ledger import LedgerStub

    proofs_made: list[Any] = []
    with LedgerStub() as ledger:
        url = endpoint or ledger.url

        def prove_all() -> None:
            for i in range(n_proofs):
                proofs_made.append(prover.prove(ex.proven[i], fn, url))
                st.progress("prove", i + 1, n_proofs)

        st.run("prove", prove_all)

    verifications: list[Any] = []

    def verify_all() -> None:
        for i, proof in enumerate(proofs_made):
            verifications.append(prover.verify(proof))
            st.progress("verify", i + 1, n_proofs)

    st.run("verify", verify_all)

    records = []
    for i, (proof, check) in enumerate(zip(proofs_made, verifications)):
        rel = f"proofs/sample-{units[i][0]:04d}.execution.json"
        run.path(rel).write_text(proof.execution_json)
        records.append(
            ProofRecord(
                sample=units[i][0],
                verified=check.verified,
                prove_seconds=round(proof.prove_seconds, 4),
                verify_seconds=round(check.verify_seconds, 4),
                proof_bytes=len(proof.execution_json.encode()),
                path=rel,
                output=ex.proven[i].outputs[0],
                error=check.error,
                samples=units[i],
                prove_seconds_per_sample=round(proof.prove_seconds / len(units[i]), 4),
            )
        )
    return records


def _result(
    exp: Experiment,
    algorithm: Algorithm,
    t: _Trained,
    ex: _Executed,
    st: _Stages,
    n_exec: int,
    proof_records: list[ProofRecord],
    costs: list[FunctionCost],
    plan: _Plan,
    zk: ZkSpec,
    built: list[toolchain.BuildOutput],
    run: RunDirectory,
) -> RunResult:
    """The run's record (result.json), without the total time (the caller adds it)."""
    zk_int = ex.outputs
    task = algorithm.task
    data = t.data
    y_quant = t.model.labels(t.int_ref)
    # Clustering has no ground truth to score against: each assignment is compared with
    # the float model's.
    y_ref = t.y_float if task == "clustering" else data.y_test
    warm = statistics.median(ex.seconds)
    timings = {f"stage_{k.replace(' ', '_')}": round(v, 4) for k, v in st.seconds.items()}
    timings.update(
        {
            "keygen": round(max(ex.first_seconds - warm, 0.0), 4),
            "first_execute": round(ex.first_seconds, 4),
            "execute_per_sample": round(sum(ex.seconds) / n_exec, 4),
            "execute_per_execution": round(statistics.mean(ex.seconds), 4),
            "authorize_per_sample": round(sum(ex.authorize_seconds) / n_exec, 4),
            "execute_rows_per_second": round(n_exec / st.seconds["execute samples"], 3),
            "prove_mean": _mean(r.prove_seconds for r in proof_records),
            "prove_per_sample": _mean(r.prove_seconds_per_sample for r in proof_records),
            "verify_mean": _mean(r.verify_seconds for r in proof_records),
        }
    )
    return RunResult(
        run_id=run.final.name,
        created=now_iso(),
        experiment={"name": exp.name, "path": str(exp.path), "sha256": exp.sha256, "description": exp.description},
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
            "quantization": t.model.describe(),
        },
        task=task,
        metrics={
            "float": metrics_for(task, y_ref, t.y_float),
            "quantized": metrics_for(task, y_ref, y_quant),
            "zk": metrics_for(task, y_ref[:n_exec], t.model.labels(zk_int)),
        },
        metrics_on_zk_samples={
            "float": metrics_for(task, y_ref[:n_exec], t.y_float[:n_exec]),
            "quantized": metrics_for(task, y_ref[:n_exec], y_quant[:n_exec]),
        },
        zk_samples=n_exec,
        agreement=float(np.mean(zk_int == t.int_ref[:n_exec])) if n_exec else 0.0,
        disagreements=[
            {"sample": i, "expected": int(t.int_ref[i]), "got": int(zk_int[i])}
            for i in range(n_exec)
            if zk_int[i] != t.int_ref[i]
        ],
        memory_mb={
            **{k.replace(" ", "_"): v for k, v in st.peak_mb.items()},
            # Worker processes that executed rows: the largest of them.
            "execute_workers": round(_children_peak_mb(), 1) if ex.workers > 1 else None,
        },
        circuit={
            "transitions": ex.transitions,
            "functions": [asdict(c) for c in costs],
            "programs": [p.program_id for p in plan.programs],
            # Where a model split across transitions is cut: the first unit of each link.
            "chain": (
                {"unit": t.model.chain_unit, "units": t.model.chain_units(), "cuts": list(plan.cuts)}
                if plan.cuts
                else None
            ),
            "batch": plan.batch,
            "scores": _scores_record(t, ex),
            "inputs": zk.inputs,
            "output": zk.output,
            "key_cache": ex.key_cache,
            "execute_workers": ex.workers,
        },
        proofs=proof_records,
        timings=timings,
        versions=versions(built[-1].compiler),
    )


def _scores_record(t: _Trained, ex: _Executed) -> dict[str, Any] | None:
    """What the circuit output besides the prediction (`[zk] scores`), and its agreement."""
    info = t.model.revealed_scores()
    if ex.scores is None or info is None:
        return None
    ref = t.model.revealed_scores_int(t.Xq_test[: len(ex.scores)])
    same = [np.array_equal(ref[i], ex.scores[i]) for i in range(len(ex.scores))]
    return {
        "what": info.what,
        "type": info.leo_type,
        "encoding": info.encoding,
        "agreement": float(np.mean(same)) if same else 0.0,
        # Rows whose output scores differ from the integer reference's (a bug if any).
        "disagreements": [
            {"sample": i, "expected": [int(v) for v in ref[i]], "got": [int(v) for v in ex.scores[i]]}
            for i in range(len(same))
            if not same[i]
        ],
    }


def _model_size(model: QuantizedModel, data: Dataset) -> str:
    size = ", ".join(f"{k} {v}" for k, v in model.describe().items() if isinstance(v, (int, str)) and k != "rounding")
    return f"The model: {size}; {data.n_features} input features."


_SHRINK = (
    "shrink the model: fewer trees, nodes or depth, fewer hidden units, fewer stored rows or features, "
    "fewer fractional bits"
)


def _check_fits(
    estimates: dict[tuple[str, str], int], model: QuantizedModel, data: Dataset, batch: int, budget: int = OFFLINE_BUDGET
) -> None:
    """Refuse, before key synthesis, a circuit whose estimate exceeds the offline budget."""
    over = {k: v for k, v in estimates.items() if v > budget}
    if not over:
        return
    (program, function), n = max(over.items(), key=lambda kv: kv[1])
    advice = "lower [zk] batch, or " if batch > 1 else ""
    raise CircuitTooLarge(
        f"{program}/{function} is estimated at {n:,} constraints; the offline setup (degree 2^16) proves at "
        f"most about {OFFLINE_BUDGET:,} per transition, of which about 10,400 are the fixed cost of any "
        f"transition. To fit, {advice}{_SHRINK}.\n{_model_size(model, data)}"
    )


def _split(model: QuantizedModel, data: Dataset, render: split.Render, budget: int = OFFLINE_BUDGET) -> tuple[int, ...]:
    """Cuts of a chain of transitions for a model that does not fit one; () if it fits
    or its family cannot be split (then `_check_fits` reports it)."""
    if model.chain_units() < 2:
        return ()
    try:
        return split.choose_cuts(render, model.chain_units(), budget, model.chain_unit)
    except CircuitTooLarge as exc:
        raise CircuitTooLarge(f"{exc}. To fit, {_SHRINK}.\n{_model_size(model, data)}") from None


def _auto_batch(render: Callable[[int], list[generate.LeoProgram]], n_rows: int) -> int:
    """The largest batch (1..64, at most the rows executed) whose estimated circuit fits."""
    from workbench.leo.compiler import compile_source

    def fits(k: int) -> bool:
        return all(
            n <= OFFLINE_BUDGET
            for p in render(k)
            for n in estimate_constraints(compile_source(p.source, f"{p.name}/src/main.leo").aleo).values()
        )

    lo, hi = 1, max(1, min(MAX_BATCH, n_rows))
    if not fits(lo):
        return 1  # the run reports the model as too large with its estimate
    while lo < hi:  # the estimate grows with the batch: binary search the largest fit
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid - 1)
    return lo


def _children_peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _mean(values: Any) -> float:
    values = list(values)
    return round(statistics.mean(values), 4) if values else 0.0
