"""One run of an experiment file: the driver over the stage functions of `workbench/stages/`.

Used by the CLI, the TUI (in a worker process) and the Python API alike. Progress is
reported as `Event` values to a callback; the pipeline never prints. Each stage's wall
time and peak memory are measured here (`StageClock`), not inside the stages.

A plan the setup refuses at key synthesis (an auto batch, a chain's links) is planned
again from the same quantized model (`stages.shrink`): nothing is trained twice.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, TypeVar

from workbench import memory, stages
from workbench.algorithms import catalogue
from workbench.errors import UserError
from workbench.events import STAGES, Event, EventKind, Stage  # noqa: F401 - re-exported for callers
from workbench.data import Dataset
from workbench.experiment import Experiment, ZkSpec
from workbench.kinds import Task, Topology
from workbench.leo import thresholds
from workbench.leo.checker import MAX_ARRAY_ELEMENTS
from workbench.prover import Prover, ProverFactory, ProverRequest
from workbench.results import ExperimentInfo, RunDirectory, RunResult, new_run_id
from workbench.snarkvm import setup_files
from workbench.snarkvm.errors import CircuitTooLarge
from workbench.snarkvm.setup_files import SetupChoice
from workbench.stages.records import Keys, Plan, PlanRequest, ProgramSpec, Quantized, StageTimes, Trained

EventSink = Callable[[Event], None]
T = TypeVar("T")


def _ignore(_: Event) -> None:
    pass


class StageClock:
    """Emits started/finished events and records each stage's wall time and peak memory.

    A stage that runs again (a re-plan) adds its time to what it took before.
    """

    def __init__(self, emit: EventSink) -> None:
        self.emit = emit
        self.seconds: dict[str, float] = {}
        self.peak_mb: dict[str, float] = {}
        # The backend's own processes (workbench/prover.py `BackendMemory`): the process it
        # runs snarkVM in, per stage, and the largest worker that executed rows.
        self.backend: Prover | None = None
        self.prover_peak_mb: dict[str, float] = {}
        self.workers_peak_mb: float | None = None
        self.t0 = time.perf_counter()

    def run(self, stage: Stage, fn: Callable[[], T]) -> T:
        self.emit(Event(EventKind.STAGE_STARTED, stage.value))
        memory.reset_peak()
        t0 = time.perf_counter()
        value = fn()
        elapsed = time.perf_counter() - t0
        self.seconds[stage.value] = self.seconds.get(stage.value, 0.0) + elapsed
        self.peak_mb[stage.value] = max(self.peak_mb.get(stage.value, 0.0), round(memory.peak_mb(), 1))
        if self.backend is not None:
            m = self.backend.memory()
            if m.host is not None:
                self.prover_peak_mb[stage.value] = max(self.prover_peak_mb.get(stage.value, 0.0), m.host)
            if m.workers is not None:
                self.workers_peak_mb = max(self.workers_peak_mb or 0.0, m.workers)
        self.emit(Event(EventKind.STAGE_FINISHED, stage.value, elapsed=elapsed))
        return value

    def progress(self, stage: Stage) -> Callable[[int, int], None]:
        """A `(done, total)` callback reporting progress within `stage`."""
        return lambda done, total: self.emit(Event(EventKind.STAGE_PROGRESS, stage.value, "", done, total))

    def log(self, stage: Stage, message: str) -> None:
        self.emit(Event(EventKind.LOG, stage.value, message))

    def times(self) -> StageTimes:
        return StageTimes(
            dict(self.seconds), dict(self.peak_mb), time.perf_counter() - self.t0, dict(self.prover_peak_mb),
            self.workers_peak_mb,
        )


def snarkvm_prover(request: ProverRequest) -> Prover:
    """The default `ProverFactory`: snarkVM through aleo-sdk, in a lean child process of its
    own (workbench/snarkvm/host.py), or for a model linked by commitments, in this process
    and its link workers (workbench/snarkvm/linked_prover.py)."""
    if request.topology == Topology.COMMITMENTS:
        from workbench.snarkvm.linked_prover import LinkedProver

        return LinkedProver.open(request)
    from workbench.snarkvm.host import HostedProver

    return HostedProver.open(request)


def choose_setup(exp: Experiment, zk: ZkSpec, clock: StageClock) -> SetupChoice:
    """The setup degree `[zk] setup` (or --setup) resolves to on this machine; a corrupt
    setup file is logged and left out (snarkVM would refuse it)."""
    where = f"{exp.path}: [zk] setup" if zk.setup == exp.zk.setup else "--setup"
    choice = setup_files.choose(zk.setup, where)
    for s in choice.corrupt:
        clock.log(Stage.PLAN, f"ignoring corrupt setup file {s.path} ({s.problem}); see `workbench setup`")
    return choice


def prepare(
    exp: Experiment, zk: ZkSpec, clock: StageClock, chain_budget: int | None = None
) -> tuple[Dataset, Trained, Quantized, PlanRequest]:
    """The stages before planning (load data, train, quantize) and what the planner is asked for.

    The plan is made against the setup `[zk] setup` chooses (checked first: a setup that is
    not installed is refused before any training); `chain_budget` lowers its budget.
    """
    setup = choose_setup(exp, zk, clock)
    family = catalogue.get(exp.model.algorithm)
    task = family.task_for(exp.model.params)
    data = clock.run(Stage.LOAD_DATA, lambda: stages.load_data(exp.dataset, exp.seed, task))
    if data.dropped_rows:
        clock.log(Stage.LOAD_DATA, f"dropped {data.dropped_rows} CSV row(s) with missing or non-numeric values")
    trained = clock.run(Stage.TRAIN, lambda: stages.train(family, exp.model.params, data, exp.seed, exp.path))
    quantized = clock.run(Stage.QUANTIZE, lambda: stages.quantize(trained, data, exp.quantization))
    if zk.tree_inputs == "thresholds" and not thresholds.applies(quantized.model.form):
        raise UserError(
            f'{exp.path}: [zk] tree_inputs = "thresholds" is for tree ensembles (random forests, XGBoost, AdaBoost, '
            f'gradient boosting); {family.name} takes its features; remove the key or set it to "features"'
        )
    n_tests = len(thresholds.tests(quantized.model.form)) if zk.tree_inputs == "thresholds" else 0
    if n_tests > MAX_ARRAY_ELEMENTS:
        raise UserError(
            f'{exp.path}: [zk] tree_inputs = "thresholds": the model makes {n_tests:,} distinct tests, more than the '
            f"{MAX_ARRAY_ELEMENTS:,} elements a Leo array holds (and about {round(n_tests * 1.7):,} constraints of input "
            f'alone, more than one transition leaves); use fewer or shallower trees, or tree_inputs = "features", '
            "with which the model is split across transitions"
        )
    if zk.scores and quantized.model.revealed_scores() is None:
        raise UserError(
            f"{exp.path}: [zk] scores: {family.name} has no score vector to output (its output is "
            f"{'the predicted value itself' if task == Task.REGRESSION else 'the class of the leaf reached'}); "
            f"remove `scores = true`"
        )
    n_exec = len(quantized.inputs) if zk.samples is None else min(zk.samples, len(quantized.inputs))
    if n_exec < 1:
        raise UserError(f"{exp.path}: [zk] samples: at least one test row must be executed")
    request = PlanRequest(
        ProgramSpec(exp.program_name, exp.name, exp.description, zk.inputs, zk.output, zk.scores, zk.tree_inputs),
        batch=zk.batch, rows=n_exec, budget=chain_budget, compiler=zk.compiler, topology=zk.topology,
        degree=setup.degree, downloads=setup.downloads,
    )
    return data, trained, quantized, request


def check_experiment(
    exp: Experiment, on_event: EventSink | None = None, setup: str | int | None = None
) -> tuple[Dataset, Plan]:
    """What a run would refuse before proving: load the data, train, quantize and plan the
    circuit (generating and compiling the Leo programs the planner estimates); no snarkVM.
    `setup` overrides `[zk] setup`."""
    clock = StageClock(on_event or _ignore)
    zk = exp.zk if setup is None else replace(exp.zk, setup=setup)
    data, _, quantized, request = prepare(exp, zk, clock)
    return data, clock.run(Stage.PLAN, lambda: stages.plan(quantized.model, request))


def run_experiment(
    exp: Experiment,
    results_root: Path | None,
    on_event: EventSink | None = None,
    samples: int | None = None,
    proofs: int | None = None,
    use_key_cache: bool = True,
    workers: int | None = None,
    batch: int | str | None = None,
    chain_budget: int | None = None,
    setup: str | int | None = None,
    prover: ProverFactory = snarkvm_prover,
) -> tuple[RunResult, Path | None]:
    """Run an experiment end to end; returns the result and its saved run directory.

    `samples`, `proofs`, `batch` (an int or "auto") and `setup` ("installed", "download" or a
    degree) override the experiment's `[zk]` settings when given. `use_key_cache` reads and
    writes the on-disk key cache; `workers` sets the number of processes executing rows
    (None: by the number of rows and cores; 1: this process only). A model split across a
    chain is planned for `chain_budget` constraints per link (default: what the chosen setup
    holds). `prover` opens the backend: snarkVM, or in tests the reference backend, whose
    result is never saved (pass `results_root=None`; saving it raises NotAZkResult). With
    `results_root=None` nothing is written and the directory is None.
    """
    zk = replace(
        exp.zk,
        samples=exp.zk.samples if samples is None else samples,
        proofs=exp.zk.proofs if proofs is None else proofs,
        batch=exp.zk.batch if batch is None else batch,
        setup=exp.zk.setup if setup is None else setup,
    )
    clock = StageClock(on_event or _ignore)
    data, trained, quantized, request = prepare(exp, zk, clock, chain_budget)
    n_exec = request.rows

    run = RunDirectory(results_root, exp.name, new_run_id()) if results_root is not None else None
    backend: Prover | None = None
    try:
        while True:
            plan = clock.run(Stage.PLAN, lambda: stages.plan(quantized.model, request))
            if plan.cuts:
                how = "separate executions linked by commitments" if plan.topology == Topology.COMMITMENTS else "a chain of calls"
                clock.log(Stage.PLAN, f"the model is split across {len(plan.cuts) + 1} transitions ({how}): one row per execution")
            sources = clock.run(Stage.GENERATE, lambda: stages.generate_leo(quantized.model, plan, run))
            compiled = clock.run(Stage.COMPILE, lambda: stages.compile_programs(sources, zk.compiler, run))
            packing = stages.plan_packing(quantized.model, plan)
            batches = stages.batch_rows(quantized, plan.batch, n_exec, zk.proofs, packing, zk.tree_inputs)
            backend = prover(ProverRequest(
                compiled.sources, compiled.function, use_key_cache, quantized.model, zk.scores, plan.topology, plan.cuts,
                workers, packing, zk.tree_inputs,
            ))
            clock.backend = backend
            try:
                keys: Keys = clock.run(Stage.SYNTHESIZE, lambda: stages.synthesize_keys(backend, compiled, batches, run))
                break
            except CircuitTooLarge as exc:
                backend.close()
                backend = clock.backend = None
                request = stages.shrink(plan, exc, quantized.model)  # raises when nothing smaller is left
                clock.log(Stage.SYNTHESIZE, _replan_message(plan.request, request))
        clock.log(Stage.SYNTHESIZE, f"key cache: {keys.key_cache}")
        for c in keys.costs:
            overhead = "" if c.overhead is None else f" ({c.overhead} fixed transition overhead, {c.constraints - c.overhead} model)"
            clock.log(Stage.SYNTHESIZE, f"{c.program}/{c.function}: {c.constraints} constraints{overhead}")

        executions = clock.run(
            Stage.EXECUTE,
            lambda: stages.execute(backend, quantized, batches, zk.scores, workers, clock.progress(Stage.EXECUTE)),
        )
        clock.log(Stage.EXECUTE, f"{n_exec} rows in {len(batches.units)} executions, {executions.workers} process(es)")
        proven = clock.run(
            Stage.PROVE, lambda: stages.prove(backend, executions, batches, zk.endpoint, run, clock.progress(Stage.PROVE))
        )
        verified = clock.run(Stage.VERIFY, lambda: stages.verify(backend, proven, clock.progress(Stage.VERIFY)))
        result = stages.record(
            run_id=run.final.name if run is not None else new_run_id(),
            experiment=ExperimentInfo(exp.name, str(exp.path), exp.sha256, exp.description),
            data=data, scaling=exp.dataset.scaling, test_size=exp.dataset.test_size, params=exp.model.params,
            trained=trained, quantized=quantized, plan=plan, compiled=compiled, keys=keys,
            executions=executions, proofs=proven, verifications=verified, times=clock.times(),
            children_peak_mb=memory.children_peak_mb(), declared_range=exp.quantization.input_range,
            proofs_requested=zk.proofs,
        )
        if run is None:
            return result, None
        return result, clock.run(Stage.SAVE, lambda: stages.save(result, run))
    except BaseException:
        if run is not None:
            run.discard()
        raise
    finally:
        if backend is not None:
            backend.close()


def _replan_message(before: PlanRequest, after: PlanRequest) -> str:
    if after.budget != before.budget:
        return (
            f"a link planned for {before.budget:,} constraints was refused by the setup; "
            f"planning the chain again for {after.budget:,}"
        )
    return f"the batch was too large for the setup; planning again with at most {after.max_batch} rows"
