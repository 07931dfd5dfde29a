"""Run records: the typed `result.json` contract, atomic saving, loading and listing.

Layout of one run: `results/<experiment>/<run-id>/` (see results/README.md). A run is
assembled in a hidden staging directory `results/<experiment>/.partial-<run-id>/` and
renamed into place only when complete, so an interrupted run never leaves a result
behind; `result.json` itself is written to a temporary file and renamed.

`RunResult` and its parts are frozen dataclasses; `workbench/records.py` turns them into
JSON and back. Schema 5 is written (schema 4 plus the prover host's memory per stage,
`memory_mb.prover_process`, and what the private input held, `circuit.input_encoding`);
schema 4 added each function's six circuit sizes, read from its verifying key and
estimated, and the setup degree. Schema 2-4 files read as they are (without the newer
keys: sizes None, input "features"), and schema-1 files (written before the stages
refactor) are converted on load (`_from_schema_1`).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

from workbench.atomic import write_json_atomic
from workbench.errors import UserError
from workbench.kinds import KeyCacheState, ProverKind, Task, Visibility
from workbench.leo.codec import parse_int_literals
from workbench.limits import SRS_DEGREE, CircuitShape
from workbench.quantize import field_to_int
from workbench.records import RecordError, from_json, to_json

SCHEMA = 5
RESULT_FILE = "result.json"
STAGING_PREFIX = ".partial-"


# -- the record -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExperimentInfo:
    """The experiment file a run came from (or the caller's label for an API run)."""

    name: str
    path: str
    sha256: str
    description: str = ""


@dataclass(frozen=True)
class Scaling:
    """The scaler fitted on the training rows: scaled = (raw - offset) / scale, per feature."""

    kind: str
    offset: tuple[float, ...]
    scale: tuple[float, ...]


@dataclass(frozen=True)
class DatasetInfo:
    """The data: sizes, the SHA-256 of the raw features and targets, the split and scaling,
    and what the columns and classes are called (so outputs read as class names)."""

    name: str
    n_train: int
    n_test: int
    n_features: int
    sha256: str
    scaling: str
    test_size: float
    feature_names: tuple[str, ...] = ()
    class_names: tuple[str, ...] | None = None  # class index i (the model's target) -> its label
    target: str | None = None  # the CSV target column
    dropped_rows: int = 0  # CSV rows dropped ([dataset] bad_rows = "drop")
    scaler: Scaling | None = None


@dataclass(frozen=True)
class ModelInfo:
    """The estimator, its hyperparameters and the quantization summary of its family."""

    algorithm: str
    estimator: str
    params: Mapping[str, Any]
    quantization: Mapping[str, Any]
    declared_input_range: tuple[float, float] | None = None  # [quantization] input_range; None: "auto"


@dataclass(frozen=True)
class Metrics:
    """Float vs quantized vs ZK, each a dict of metric name -> value.

    `float_model` and `quantized` are over all test rows, `zk` over the rows executed in
    snarkVM; the `*_on_zk_rows` pair is over exactly those rows (like for like).
    """

    float_model: Mapping[str, float]
    quantized: Mapping[str, float]
    zk: Mapping[str, float]
    float_on_zk_rows: Mapping[str, float] = field(default_factory=dict)
    quantized_on_zk_rows: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Disagreement:
    """A row where the circuit's output differs from the integer reference (a bug if any)."""

    sample: int
    expected: int | tuple[int, ...]
    got: int | tuple[int, ...]


@dataclass(frozen=True)
class FunctionCost:
    """Constraint count (and, schema 4, every size) of one function's circuit, from its verifying key.

    `overhead` is the measured count of an empty function with the same inputs and
    outputs (the fixed cost of a transition); `constraints - overhead` is the model's own.
    `estimated` is what the cost model predicted from the Aleo instructions.
    """

    program: str
    function: str
    constraints: int
    overhead: int | None = None
    estimated: int | None = None  # the cost model's estimate, made before key synthesis
    # Schema 4: the six sizes the setup bounds (constraints among them), from the verifying
    # key, and as the estimator predicted them; None in older results.
    shape: CircuitShape | None = None
    estimated_shape: CircuitShape | None = None


@dataclass(frozen=True)
class ChainInfo:
    """Where a model split across a chain of transitions is cut (the first unit of each link)."""

    unit: str
    units: int
    cuts: tuple[int, ...]
    # "call" (one execution; older runs) or "commitments" (one execution per link).
    topology: str = "call"


@dataclass(frozen=True)
class ScoresRecord:
    """What the circuit output besides the prediction (`[zk] scores`), and its agreement."""

    what: str
    type: str
    encoding: str
    agreement: float
    disagreements: tuple[Disagreement, ...] = ()


@dataclass(frozen=True)
class Circuit:
    """The programs, their costs and how rows went through them."""

    transitions: int = 1
    functions: tuple[FunctionCost, ...] = ()
    programs: tuple[str, ...] = ()  # dependencies first, the main program last
    chain: ChainInfo | None = None
    batch: int = 1
    scores: ScoresRecord | None = None
    inputs: Visibility = Visibility.PRIVATE
    output: Visibility = Visibility.PUBLIC
    key_cache: KeyCacheState | None = None
    execute_workers: int = 1
    # How an output integer reads: classes (output i -> output_labels[i]) or a value (output / divisor).
    output_labels: tuple[str, ...] | None = None
    output_divisor: int | None = None
    program_sha256: Mapping[str, str] = field(default_factory=dict)  # program id -> SHA-256 of its .aleo text
    # Schema 4: the universal setup's degree (2^n powers) the keys were made with; older
    # results were all made with the shipped degree-16 file.
    setup_degree: int = SRS_DEGREE
    # What the private input holds: "features" (one array element each), "packed features"
    # (u128 words, workbench/leo/codec.py Packing) or "threshold bits" (a tree ensemble's
    # `[zk] tree_inputs = "thresholds"`); results before packing: "features".
    input_encoding: str = "features"


@dataclass(frozen=True)
class ProofRecord:
    """One generated proof: which test rows, its public output, and its costs."""

    sample: int
    verified: bool
    prove_seconds: float
    verify_seconds: float
    proof_bytes: int  # size of the saved execution JSON (proof, transitions, public values)
    path: str  # relative to the run directory
    output: str  # the output the proof attests, as snarkVM printed it
    error: str | None = None
    samples: tuple[int, ...] = ()  # test rows this proof covers (a batch)
    prove_seconds_per_sample: float | None = None  # prove_seconds / len(samples)
    prediction: tuple[str, ...] = ()  # `output` read as labels or values, one per row of `samples`


@dataclass(frozen=True)
class Timings:
    """Seconds: each stage's wall time, and the per-row and per-proof figures."""

    stages: Mapping[str, float] = field(default_factory=dict)
    keygen: float | None = None  # first execution minus a median warm one (keys are made inside it)
    first_execute: float | None = None
    execute_per_sample: float | None = None
    execute_per_execution: float | None = None
    authorize_per_sample: float | None = None
    execute_rows_per_second: float | None = None
    prove_mean: float | None = None
    prove_per_sample: float | None = None
    verify_mean: float | None = None
    total: float | None = None


@dataclass(frozen=True)
class Memory:
    """Peak resident memory (MB), each figure of one process: the run's process during each
    stage (Linux: the stage's own peak); the snarkVM process during each stage that used it
    (`prover_process`: the prover host of a one-program model, workbench/snarkvm/host.py;
    empty when snarkVM ran in the run's process: models linked by commitments, and result.json
    files written before the host existed); the largest worker process that executed rows; and
    (a model linked by commitments) the largest worker process that ran links."""

    stages: Mapping[str, float] = field(default_factory=dict)
    execute_workers: float | None = None
    link_workers: float | None = None
    prover_process: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RunResult:
    """Everything one run measured; serialized as result.json (schema 5)."""

    run_id: str
    created: str
    experiment: ExperimentInfo
    dataset: DatasetInfo
    model: ModelInfo
    task: Task
    metrics: Metrics
    zk_samples: int
    agreement: float
    disagreements: tuple[Disagreement, ...]
    circuit: Circuit
    proofs: tuple[ProofRecord, ...]
    timings: Timings
    versions: Mapping[str, str]
    memory_mb: Memory = field(default_factory=Memory)
    # Who computed the "ZK" outputs: snarkVM, or the integer reference (never saved).
    prover: ProverKind = ProverKind.SNARKVM
    proofs_requested: int | None = None  # [zk] proofs (or --proofs); fewer are made when fewer rows ran
    schema: int = SCHEMA

    @property
    def is_zk(self) -> bool:
        """Whether snarkVM computed the outputs (the only results that are ZK results)."""
        return self.prover == ProverKind.SNARKVM

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of result.json, schema first (a reader checks it before anything else)."""
        d = to_json(self)
        return {"schema": d.pop("schema"), **d}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "RunResult":
        """A record from result.json's object (schema 5; schemas 2-4 lack only newer keys; schema 1 converted)."""
        d = dict(d)
        if d.get("schema") == 1:
            d = _from_schema_1(d)
        d["schema"] = SCHEMA
        return from_json(cls, d)

    def read_output(self, literal: str) -> list[str]:
        """An output the circuit printed (`2u8`, `[1u8, 2u8]`, a field) read as labels or values,
        one per row; [] when it cannot be read (a private output's ciphertext)."""
        values = parse_int_literals(literal)
        if "field" in literal:
            values = [field_to_int(v) for v in values]
        return read_values(values, self.circuit.output_labels, self.circuit.output_divisor)


def read_values(values: Sequence[int], labels: Sequence[str] | None, divisor: int | None) -> list[str]:
    """Output integers as result.json writes them: class labels (output i is `labels[i]`),
    values (output / divisor), or the integers themselves (cluster indices)."""
    if labels is not None:
        return [labels[v] if 0 <= v < len(labels) else f"? ({v})" for v in values]
    if divisor is not None:
        return [f"{v / divisor:.6g}" for v in values]
    return [str(v) for v in values]


def _from_schema_1(d: dict[str, Any]) -> dict[str, Any]:
    """Schema 1 (flat timings and memory, metrics_on_zk_samples beside metrics) -> schema 2."""
    d = dict(d)
    metrics = dict(d.get("metrics") or {})
    on_zk = d.pop("metrics_on_zk_samples", None) or {}
    d["metrics"] = {
        "float_model": metrics.get("float", {}),
        "quantized": metrics.get("quantized", {}),
        "zk": metrics.get("zk", {}),
        "float_on_zk_rows": on_zk.get("float", {}),
        "quantized_on_zk_rows": on_zk.get("quantized", {}),
    }
    timings = dict(d.get("timings") or {})
    stages = {k.removeprefix("stage_").replace("_", " "): v for k, v in timings.items() if k.startswith("stage_")}
    d["timings"] = {"stages": stages, **{k: v for k, v in timings.items() if not k.startswith("stage_")}}
    memory = dict(d.get("memory_mb") or {})
    workers = memory.pop("execute_workers", None)
    d["memory_mb"] = {"stages": {k.replace("_", " "): v for k, v in memory.items()}, "execute_workers": workers}
    d["schema"] = SCHEMA
    return d


class ResultError(UserError):
    """A result directory or file that cannot be read."""

    title = "cannot read result"


class NotAZkResult(UserError):
    """A result computed without snarkVM, which must never be saved as a ZK run."""

    title = "not a ZK result"


def new_run_id(now: datetime | None = None) -> str:
    """Sortable and unique: UTC time plus 4 random hex digits."""
    now = now or datetime.now(timezone.utc)
    return now.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def now_iso() -> str:
    """The current UTC time, ISO 8601, to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# -- the run directory ------------------------------------------------------------------------
class RunDirectory:
    """A run being assembled: files go into a staging directory until `commit`.

    Each stage writes its own artefact: `artefact(name)` gives it an empty directory (a
    stage that runs again after a re-plan replaces what it wrote before), `path(relative)`
    a file path inside the run.
    """

    def __init__(self, results_root: Path, experiment: str, run_id: str) -> None:
        self.final = results_root / experiment / run_id
        self.staging = results_root / experiment / f"{STAGING_PREFIX}{run_id}"
        self.staging.mkdir(parents=True, exist_ok=False)

    def path(self, relative: str) -> Path:
        """A file path inside the run (its directory created)."""
        p = self.staging / relative
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def artefact(self, directory: str) -> Path:
        """An empty directory for a stage's artefact, replacing whatever it held."""
        p = self.staging / directory
        shutil.rmtree(p, ignore_errors=True)
        p.mkdir(parents=True)
        return p

    def remove(self, pattern: str) -> None:
        """Remove the run's top-level files matching `pattern` (a stage's earlier output)."""
        for p in self.staging.glob(pattern):
            if p.is_file():
                p.unlink()

    def commit(self, result: RunResult) -> Path:
        """Write result.json, then move the whole run into place in one rename."""
        if not result.is_zk:
            raise NotAZkResult(f"a result of the {result.prover} backend is not a ZK result and is never saved")
        write_json_atomic(self.staging / RESULT_FILE, result.to_dict())
        os.replace(self.staging, self.final)
        return self.final

    def discard(self) -> None:
        """Remove the staging directory, and the experiment's directory if this run created it
        empty (an interrupted, refused or failed run leaves nothing behind)."""
        shutil.rmtree(self.staging, ignore_errors=True)
        try:
            self.staging.parent.rmdir()  # only succeeds when empty: other runs are never touched
        except OSError:
            pass


def load_result(run_dir: Path) -> RunResult:
    """Load a run's result.json, with a clear error for a missing, corrupt or newer file."""
    path = Path(run_dir) / RESULT_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultError(f"{path}: no such file (is {run_dir} a run directory?)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultError(f"{path}: corrupt JSON ({exc})") from None
    except OSError as exc:
        raise ResultError(f"{path}: cannot read ({exc.strerror})") from None
    if not isinstance(data, dict) or not isinstance(data.get("schema"), int) or isinstance(data.get("schema"), bool):
        raise ResultError(f"{path}: not a workbench result (no schema number)")
    if data["schema"] > SCHEMA:
        raise ResultError(
            f"{path}: written with result schema {data['schema']}; this workbench reads up to schema {SCHEMA} (upgrade it)"
        )
    try:
        return RunResult.from_dict(data)
    except (RecordError, TypeError, ValueError, AttributeError) as exc:
        raise ResultError(f"{path}: does not match result schema {data['schema']}: {exc}") from None


def list_runs(results_root: Path, experiment: str | None = None) -> list[Path]:
    """Run directories under `results_root` (oldest first), optionally of one experiment.

    Hidden staging directories (`.partial-*`) and directories without result.json are skipped.
    """
    root = Path(results_root)
    if not root.is_dir():
        return []
    experiments = [root / experiment] if experiment else sorted(p for p in root.iterdir() if p.is_dir())
    runs: list[Path] = []
    for exp_dir in experiments:
        if not exp_dir.is_dir() or exp_dir.name.startswith("."):
            continue
        runs += [p for p in exp_dir.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / RESULT_FILE).is_file()]
    return sorted(runs, key=lambda p: p.name)
