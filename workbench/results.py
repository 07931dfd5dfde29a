"""Run records: the `result.json` contract, atomic saving, loading, and text tables.

Layout of one run: `results/<experiment>/<run-id>/` (see results/README.md). A run is
assembled in a hidden staging directory `results/<experiment>/.partial-<run-id>/` and
renamed into place only when complete, so an interrupted run never leaves a result
behind; `result.json` itself is written to a temporary file and renamed.
"""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from workbench.atomic import write_json_atomic
from workbench.errors import UserError

SCHEMA = 1
RESULT_FILE = "result.json"
STAGING_PREFIX = ".partial-"


@dataclass
class ProofRecord:
    """One generated proof: which test row, its public output, and its costs."""

    sample: int
    verified: bool
    prove_seconds: float
    verify_seconds: float
    proof_bytes: int  # size of the saved execution JSON (proof, transitions, public values)
    path: str  # relative to the run directory
    output: str  # the public output the proof attests, as snarkVM printed it
    error: str | None = None
    samples: list[int] = field(default_factory=list)  # test rows this proof covers (a batch)
    prove_seconds_per_sample: float | None = None  # prove_seconds / len(samples)


@dataclass
class FunctionCost:
    """Constraint count of one function's circuit, from its verifying key.

    `overhead` is the measured count of an empty function with the same inputs and
    outputs (the fixed cost of a transition); `constraints - overhead` is the model's own.
    `estimated` is what the cost model predicted from the Aleo instructions.
    """

    program: str
    function: str
    constraints: int
    overhead: int | None = None
    estimated: int | None = None  # the cost model's estimate, made before key synthesis


@dataclass
class RunResult:
    """Everything one run measured; serialized as result.json (schema 1)."""

    run_id: str
    created: str
    experiment: dict[str, Any]
    dataset: dict[str, Any]
    model: dict[str, Any]
    task: str
    metrics: dict[str, dict[str, float]]
    zk_samples: int
    agreement: float
    disagreements: list[dict[str, Any]]
    circuit: dict[str, Any]
    proofs: list[ProofRecord]
    timings: dict[str, float]
    versions: dict[str, str]
    # float and quantized metrics on exactly the rows executed in snarkVM (equal to
    # `metrics` when every test row is executed): the like-for-like comparison with ZK.
    metrics_on_zk_samples: dict[str, dict[str, float]] = field(default_factory=dict)
    # Peak resident memory (MB) of the running process during each stage (Linux: the
    # stage's own peak), and of the largest worker process that executed rows.
    memory_mb: dict[str, float | None] = field(default_factory=dict)
    schema: int = SCHEMA

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        # Put schema first: a reader checks it before anything else.
        return {"schema": d.pop("schema"), **d}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunResult":
        d = dict(d)
        d["proofs"] = [ProofRecord(**p) for p in d.get("proofs", [])]
        return cls(**d)


class ResultError(UserError):
    """A result directory or file that cannot be read."""

    title = "cannot read result"


def new_run_id(now: datetime | None = None) -> str:
    """Sortable and unique: UTC time plus 4 random hex digits."""
    now = now or datetime.now(timezone.utc)
    return now.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class RunDirectory:
    """A run being assembled: files go into a staging directory until `commit`."""

    def __init__(self, results_root: Path, experiment: str, run_id: str) -> None:
        self.final = results_root / experiment / run_id
        self.staging = results_root / experiment / f"{STAGING_PREFIX}{run_id}"
        self.staging.mkdir(parents=True, exist_ok=False)

    def path(self, relative: str) -> Path:
        p = self.staging / relative
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def commit(self, result: RunResult) -> Path:
        """Write result.json, then move the whole run into place in one rename."""
        write_json_atomic(self.staging / RESULT_FILE, result.to_dict())
        os.replace(self.staging, self.final)
        return self.final

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def load_result(run_dir: Path) -> RunResult:
    """Load a run's result.json, with a clear error for a missing, corrupt or newer file."""
    path = Path(run_dir) / RESULT_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultError(f"{path}: no such file (is {run_dir} a run directory?)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultError(f"{path}: corrupt JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("schema"), int):
        raise ResultError(f"{path}: not a workbench result (no schema number)")
    if data["schema"] > SCHEMA:
        raise ResultError(
            f"{path}: written with result schema {data['schema']}; this workbench reads up to schema {SCHEMA} (upgrade it)"
        )
    try:
        return RunResult.from_dict(data)
    except TypeError as exc:
        raise ResultError(f"{path}: does not match result schema {SCHEMA}: {exc}") from None


# ---------------------------------------------------------------------------------------
# text tables


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain aligned text table (first column left-aligned, the rest right-aligned)."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i]) for i, c in enumerate(cells)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def _int(v: int | None) -> str:
    return "-" if v is None else str(v)


def _fmt(v: float | None, digits: int = 4) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def format_summary(r: RunResult) -> str:
    """The side-by-side report printed at the end of a run."""
    names = list(r.metrics.get("float", {}))
    metric_rows = [
        [m, _fmt(r.metrics["float"].get(m)), _fmt(r.metrics["quantized"].get(m)), _fmt(r.metrics["zk"].get(m))]
        for m in names
    ]
    t = r.timings
    out = [
        f"{r.experiment['name']}  ({r.model['algorithm']} on {r.dataset['name']}, run {r.run_id})",
        "",
        format_table(["metric", "float", "quantized", "ZK (snarkVM)"], metric_rows),
        "",
        f"float/quantized over {r.dataset['n_test']} test rows; ZK over {r.zk_samples} rows executed in snarkVM; "
        f"agreement quantized = ZK: {r.agreement:.4f} ({len(r.disagreements)} disagreements)",
        "",
        format_table(
            ["function", "constraints", "overhead", "model", "keygen s", "execute s/row", "prove s", "verify s", "proof bytes"],
            [
                [
                    f"{f['program']}/{f['function']}",
                    str(f["constraints"]),
                    _int(f.get("overhead")),
                    _int(None if f.get("overhead") is None else f["constraints"] - f["overhead"]),
                    _fmt(t.get("keygen"), 2),
                    _fmt(t.get("execute_per_sample"), 3),
                    _fmt(t.get("prove_mean"), 2),
                    _fmt(t.get("verify_mean"), 3),
                    str(max((p.proof_bytes for p in r.proofs), default=0) or "-"),
                ]
                for f in r.circuit["functions"]
            ],
        ),
        "",
        f"transitions per execution: {r.circuit.get('transitions', 1)}; rows per execution and proof (batch): "
        f"{r.circuit.get('batch', 1)}; prove s per row: {_fmt(t.get('prove_per_sample'), 2)}; "
        f"execution throughput: {_fmt(t.get('execute_rows_per_second'), 1)} rows/s "
        f"({r.circuit.get('execute_workers', 1)} process(es)); key cache: {r.circuit.get('key_cache', '-')}",
    ]
    revealed = r.circuit.get("scores")
    if revealed:
        out += [
            "",
            f"also output: {revealed['what']} as {revealed['type']} ({revealed['encoding']}); "
            f"agreement with the integer reference: {revealed['agreement']:.4f}",
        ]
    if r.proofs:
        ok = sum(p.verified for p in r.proofs)
        out += ["", f"proofs: {ok}/{len(r.proofs)} verified"]
    if r.disagreements:
        out += ["", "disagreements (sample: integer reference vs snarkVM):"]
        out += [f"  {d['sample']}: {d['expected']} vs {d['got']}" for d in r.disagreements[:20]]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------
# finding and comparing runs


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


def primary_metric(r: RunResult) -> str:
    """The metric a table shows first for this run's task."""
    names = list(r.metrics.get("float", {}))
    return names[0] if names else ""


COMPARE_COLUMNS = (
    "run",
    "experiment",
    "algorithm",
    "dataset",
    "bits",
    "metric",
    "float",
    "quantized",
    "zk",
    "agreement",
    "constraints_max",
    "constraints_total",
    "transitions",
    "keygen_s",
    "prove_s",
    "verify_s",
    "proof_bytes",
    "aleo_sdk",
    "date",
)


def comparison_row(r: RunResult) -> dict[str, Any]:
    """One run as a flat record with the COMPARE_COLUMNS keys (numbers stay numbers)."""
    m = primary_metric(r)
    constraints = [f["constraints"] for f in r.circuit.get("functions", [])]
    return {
        "run": r.run_id,
        "experiment": r.experiment.get("name", ""),
        "algorithm": r.model.get("algorithm", ""),
        "dataset": r.dataset.get("name", ""),
        "bits": r.model.get("quantization", {}).get("fractional_bits"),
        "metric": m,
        "float": r.metrics.get("float", {}).get(m),
        "quantized": r.metrics.get("quantized", {}).get(m),
        "zk": r.metrics.get("zk", {}).get(m),
        "agreement": r.agreement,
        "constraints_max": max(constraints, default=0),
        "constraints_total": sum(constraints),
        "transitions": r.circuit.get("transitions", 0),
        "keygen_s": r.timings.get("keygen"),
        "prove_s": r.timings.get("prove_mean"),
        "verify_s": r.timings.get("verify_mean"),
        "proof_bytes": max((p.proof_bytes for p in r.proofs), default=None),
        "aleo_sdk": r.versions.get("aleo-sdk", ""),
        "date": r.created,
    }


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def comparison_table(results: list[RunResult]) -> tuple[list[str], list[list[str]]]:
    """Headers and text rows comparing runs side by side (for tables in the CLI and TUI)."""
    return list(COMPARE_COLUMNS), [[_cell(comparison_row(r)[c]) for c in COMPARE_COLUMNS] for r in results]


def render_comparison(results: list[RunResult], fmt: str = "table", sort: str | None = None) -> str:
    """Runs side by side as an aligned table, GitHub Markdown, or CSV (pandas reads it as is)."""
    if sort is not None:
        if sort not in COMPARE_COLUMNS:
            raise UserError(f"--sort: unknown column {sort!r}; columns: {', '.join(COMPARE_COLUMNS)}")
        # Missing values sort last whatever the direction.
        def key(r: RunResult) -> tuple[bool, Any]:
            v = comparison_row(r)[sort]
            return (v is None, 0 if v is None else v)

        results = sorted(results, key=key)
    headers, rows = comparison_table(results)
    if fmt == "table":
        return format_table(headers, rows)
    if fmt == "markdown":
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(headers)
        for r in results:
            row = comparison_row(r)
            writer.writerow(["" if row[c] is None else row[c] for c in COMPARE_COLUMNS])
        return buf.getvalue().rstrip("\n")
    raise UserError(f"--format: expected table, markdown or csv, found {fmt!r}")
