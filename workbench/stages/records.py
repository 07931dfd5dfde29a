"""The records the stages pass along: each stage takes some of these and returns one.

    load_data  -> Dataset (workbench/data.py)
    train      -> Trained
    quantize   -> Quantized
    plan       -> Plan
    generate   -> LeoSources
    compile    -> Compiled
    synthesize -> Keys
    execute    -> Executions
    prove      -> Proofs
    verify     -> Verifications
    record     -> RunResult (workbench/results.py)

Records holding numpy arrays compare by identity (`eq=False`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from workbench.algorithms.base import QuantizedModel
from workbench.algorithms.catalogue import Family
from workbench.kinds import KeyCacheState, ProverKind, Task, Topology, Visibility
from workbench.leo.generate import LeoProgram
from workbench.limits import MAX_BATCH, SRS_DEGREE, CircuitShape, planning_budget
from workbench.prover import Executed, FunctionKey, Proof, Verification
from workbench.results import FunctionCost


@dataclass(frozen=True, eq=False)
class Trained:
    """A fitted estimator, its task and its float predictions on every test row."""

    family: Family
    estimator: Any
    y_float: np.ndarray
    task: Task


@dataclass(frozen=True, eq=False)
class Quantized:
    """The quantized twin of a trained model, with the circuit's inputs and the integer
    reference's outputs for every test row."""

    model: QuantizedModel
    inputs: np.ndarray  # the integers the circuit receives, one row per test row
    reference: np.ndarray  # the integer reference's output for each test row


@dataclass(frozen=True)
class ProgramSpec:
    """How the programs are named and what they reveal."""

    name: str  # Leo program name of the main program (links get `<name>_p<k>`)
    experiment: str = ""  # for the generated program's comments
    description: str = ""
    inputs: Visibility = Visibility.PRIVATE
    output: Visibility = Visibility.PUBLIC
    scores: bool = False  # the main function also outputs the model's score vector
    tree_inputs: str = "features"  # or "thresholds": a tree ensemble takes threshold bits


@dataclass(frozen=True)
class PlanRequest:
    """What a plan must satisfy: the batch asked for, the rows to run and the budget.

    `budget` left out (None) is the setup's: `limits.planning_budget(degree)`; a lower one
    is given when the setup refused a plan and a chain is planned again for less.
    """

    program: ProgramSpec
    batch: int | str = 1  # rows per execution, or "auto"
    rows: int = 1  # rows that will be executed (an auto batch never exceeds them)
    budget: int | None = None  # constraints per transition (always an int once made, see __post_init__)
    max_batch: int = MAX_BATCH  # an auto batch's cap (lowered when the setup refused a batch)
    # `[zk] compiler`: the toolchain whose programs are estimated ("auto", "workbench", "leo"),
    # the same one the compile stage builds with.
    compiler: str = "auto"
    # The universal setup planned against: transitions hold what `limits.setup_limits(degree)`
    # allows (the shipped file is degree 16; `[zk] setup` may name a larger one).
    degree: int = SRS_DEGREE
    # `[zk] topology`: "auto" (the planner chooses), or a Topology to use when splitting.
    topology: str = "auto"
    # Whether snarkVM may download setup files the planned circuits need (`[zk] setup = "download"`);
    # only the advice of a refusal depends on it.
    downloads: bool = False

    def __post_init__(self) -> None:
        if self.budget is None:
            object.__setattr__(self, "budget", planning_budget(self.degree))


@dataclass(frozen=True)
class Plan:
    """How the model becomes programs: rows per execution, and where a chain is cut."""

    request: PlanRequest
    batch: int
    cuts: tuple[int, ...]  # first unit of each link after the main program; () for one program
    units: int  # pieces a chain may cut between (0: the model cannot be split)
    unit: str  # what those pieces are ("trees")
    estimates: Mapping[FunctionKey, int]  # the programs of `request.compiler`, estimated
    topology: Topology = Topology.CALL  # how the programs of a split model are linked


@dataclass(frozen=True)
class LeoSources:
    """The generated Leo programs, dependencies first, the main program last."""

    programs: tuple[LeoProgram, ...]

    @property
    def main(self) -> LeoProgram:
        return self.programs[-1]


@dataclass(frozen=True)
class AleoProgram:
    """One program's Aleo instructions and the compiler that produced them."""

    name: str
    program_id: str
    aleo: str


@dataclass(frozen=True)
class Compiled:
    """Every program compiled, with each function's estimated constraints and sizes."""

    programs: tuple[AleoProgram, ...]  # dependencies first
    function: str  # the main program's entry function
    compiler: str  # e.g. "workbench-leo 0.1.0" or "leo 4.3.2"
    estimates: Mapping[FunctionKey, int]
    shapes: Mapping[FunctionKey, CircuitShape] = field(default_factory=dict)  # the six sizes estimated

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(p.aleo for p in self.programs)


@dataclass(frozen=True, eq=False)
class Batches:
    """Which test rows each execution evaluates, and its Aleo inputs.

    A short last batch is padded by repeating its last row; the padding's outputs are
    dropped when decoding.
    """

    units: tuple[tuple[int, ...], ...]
    inputs: tuple[tuple[str, ...], ...]
    batch: int
    n_proofs: int  # the first executions are proven

    @property
    def n_rows(self) -> int:
        return sum(len(u) for u in self.units)


@dataclass(frozen=True)
class Keys:
    """Every function's keys were made (or read from the cache); what they cost."""

    key_cache: KeyCacheState
    first: Executed  # the execution that made the keys (keygen is its time minus a warm one)
    costs: tuple[FunctionCost, ...]  # constraints from each verifying key
    verifiers: Mapping[FunctionKey, bytes]
    prover: ProverKind


@dataclass(frozen=True, eq=False)
class Executions:
    """What the circuit output for every executed row, and what it took."""

    outputs: np.ndarray  # the prediction integer of each executed row
    scores: np.ndarray | None  # with `[zk] scores`: each row's score vector
    seconds: tuple[float, ...]  # authorize + execute, per execution
    authorize_seconds: tuple[float, ...]
    proven: tuple[Executed, ...]  # the executions to prove (with their handles)
    transitions: int
    workers: int
    wall_seconds: float


@dataclass(frozen=True)
class ProvenExecution:
    """One proof and the rows it covers."""

    proof: Proof
    rows: tuple[int, ...]
    output: str  # the first output the proof attests, as the backend printed it
    path: str | None  # where the stage saved it, relative to the run (None: not saved)


@dataclass(frozen=True)
class Proofs:
    """The proofs of the first executions."""

    items: tuple[ProvenExecution, ...] = ()


@dataclass(frozen=True)
class Verifications:
    """The verification of each proof, in order."""

    items: tuple[Verification, ...] = ()


@dataclass(frozen=True)
class StageTimes:
    """Wall seconds and peak resident memory (MB) of each stage that ran, by stage name: of
    the run's process, and of the process the backend ran snarkVM in when it has its own
    (`prover_peak_mb`, stages that called it); and the largest worker that executed rows."""

    seconds: Mapping[str, float] = field(default_factory=dict)
    peak_mb: Mapping[str, float] = field(default_factory=dict)
    total: float = 0.0
    prover_peak_mb: Mapping[str, float] = field(default_factory=dict)
    workers_peak_mb: float | None = None
