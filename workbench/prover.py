"""The proving backend as a protocol: what the stages ask of snarkVM, and the records it returns.

Two implementations exist. `workbench/snarkvm/prover.py` executes, proves and verifies with
snarkVM through aleo-sdk; it is the only one whose outputs are reported or saved as ZK
results. `workbench/reference_prover.py` evaluates the integer reference in numpy instead
(a test double for planning, retries and result assembly); a result it produced says so
(`ProverKind.REFERENCE`) and `workbench.stages.save` refuses to save it.

A backend is opened for one model's compiled programs (`ProverRequest`) by a
`ProverFactory` and closed when the run ends (it may hold processes: the ledger stand-in).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

from workbench.kinds import KeyCacheState, ProverKind, Topology
from workbench.limits import CircuitShape

FunctionKey = tuple[str, str]  # (program id, function name)


@dataclass(frozen=True)
class ProverRequest:
    """What a backend is opened for: one model's compiled programs and how they are run."""

    sources: tuple[str, ...]  # compiled Aleo programs, dependencies first, the main program last
    function: str  # the main program's entry function
    use_key_cache: bool
    # The quantized model and whether the entry function also outputs its scores: only the
    # reference backend reads them (it evaluates the model instead of the program).
    model: Any = None
    scores: bool = False
    # How the programs of a model split across several are linked: CALL (one execution of
    # the main program) or COMMITMENTS (each program a separate link, the main one last).
    topology: Topology = Topology.CALL
    # COMMITMENTS: the first unit of each link after the first (the prover computes what
    # each link receives from the model, workbench/leo/carries.py).
    cuts: tuple[int, ...] = ()
    # Processes the run may use (`--workers`; None: as the cores deserve). A model linked
    # by commitments runs its links in that many at most (1: in the run's process).
    workers: int | None = None
    # How the entry function takes its features (workbench/leo/codec.py `Packing`; None:
    # one array element each). Only the reference backend reads it, to decode its inputs.
    packing: Any = None
    # "thresholds": the inputs are a tree ensemble's threshold bits (workbench/leo/thresholds.py).
    tree_inputs: str = "features"


@dataclass(frozen=True)
class FunctionKeys:
    """The proving and verifying keys of one function (snarkVM's formats).

    `prover` is the proving key as snarkVM's text (bech32, "prover1..."; aleo-sdk reads it
    back with `ProvingKey.from_string`), or the path of a file holding that text, or None
    when the proving key stays inside the process that synthesized it (it is not cached:
    docs/performance.md, "Memory"). Its bytes are never passed around: aleo-sdk's
    `ProvingKey.bytes()` is a Python list of ints, 8 times the key's size. A model linked
    by commitments keeps each link's proving key on disk, not in memory
    (workbench/snarkvm/linked_prover.py). `verifier` is the verifying key's bytes (under
    a kilobyte).
    """

    prover: str | Path | None
    verifier: bytes

    def proving_text(self) -> str | None:
        """The proving key's text (read from disk when `prover` is a path)."""
        return self.prover.read_text(encoding="ascii") if isinstance(self.prover, Path) else self.prover


@dataclass(frozen=True)
class Executed:
    """One execution of the entry function: its outputs and what it took.

    `handle` is the backend's own record needed to prove this execution (snarkVM's Trace);
    executions made in worker processes have none.
    """

    outputs: tuple[str, ...]
    authorize_seconds: float
    execute_seconds: float
    transitions: int
    handle: Any = None


@dataclass(frozen=True)
class Synthesis:
    """Keys of every function, made (or read from the cache) during the first execution."""

    first: Executed
    keys: dict[FunctionKey, FunctionKeys]
    key_cache: KeyCacheState


@dataclass(frozen=True)
class Proof:
    """A proof of one execution: the execution JSON (proof, transitions, public values)."""

    execution_json: str
    prove_seconds: float
    handle: Any = None  # the backend's own object, to verify without parsing the JSON again


@dataclass(frozen=True)
class Verification:
    """The outcome of verifying one proof."""

    verified: bool
    verify_seconds: float
    error: str | None = None


@dataclass(frozen=True)
class BackendMemory:
    """Peak resident memory (MB) of a backend's own processes since the last `memory()`.

    `host`: the process the backend runs snarkVM in when it is not the caller's (None: it
    runs in the caller's process, whose own peak the caller measures). `workers`: the
    largest worker process that executed rows (None: none ran).
    """

    host: float | None = None
    workers: float | None = None


class Prover(Protocol):
    """Executes, proves and verifies one model's programs."""

    kind: ProverKind

    def functions(self) -> list[FunctionKey]:
        """Every entry function of every program, in dependency order."""
        ...

    def synthesize(self, inputs: Sequence[str]) -> Synthesis:
        """Make (or load) every function's keys while executing the entry function once.

        Raises CircuitTooLarge when the setup in use cannot hold a function.
        """
        ...

    def execute(self, inputs: Sequence[str]) -> Executed:
        """Authorize and execute the entry function on Aleo input literals (no proof)."""
        ...

    def execute_many(
        self, batches: Sequence[tuple[int, Sequence[str]]], workers: int, on_done: Callable[[int, Executed], None]
    ) -> int:
        """Execute many input batches, in `workers` processes when > 1; `on_done(index, executed)`
        runs in this process as each finishes (in any order). Results carry no handle.
        Returns the number of processes that executed them."""
        ...

    def constraints(self, program: str, function: str) -> int:
        """A function's constraint count (from its verifying key)."""
        ...

    def shape(self, program: str, function: str) -> CircuitShape:
        """A function's six circuit sizes (from its verifying key), which the setup bounds."""
        ...

    def overhead(self, program: str, function: str) -> int | None:
        """Constraints of an empty function with the same inputs and outputs (None: unknown)."""
        ...

    def prove(self, executed: Executed, endpoint: str | None) -> Proof:
        """Prove an execution; `endpoint` is a ledger API (None: a local stand-in)."""
        ...

    def verify(self, proof: Proof) -> Verification:
        """Verify a proof against the synthesized verifying keys; never raises for a bad proof."""
        ...

    def memory(self) -> BackendMemory:
        """Peak memory of the backend's own processes since the last call (then reset)."""
        ...

    def close(self) -> None:
        """Release what the backend holds (processes, servers)."""
        ...


ProverFactory = Callable[[ProverRequest], Prover]
