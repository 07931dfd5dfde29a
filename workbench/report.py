"""Runs as text: the summary printed after a run, and saved runs side by side.

A result the reference backend produced (no snarkVM) says so in its heading, and its
"ZK" column is labelled `reference (no snarkVM)`: its numbers are never ZK numbers.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from workbench.errors import UserError
from workbench.results import RunResult


def zk_label(r: RunResult) -> str:
    """The heading of the column of circuit outputs: snarkVM's, or the reference's."""
    return "ZK (snarkVM)" if r.is_zk else "reference (no snarkVM)"


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
    m = r.metrics
    metric_rows = [
        [name, _fmt(m.float_model.get(name)), _fmt(m.quantized.get(name)), _fmt(m.zk.get(name))]
        for name in m.float_model
    ]
    t = r.timings
    proof_bytes = max((p.proof_bytes for p in r.proofs), default=0)
    out = [f"{r.experiment.name}  ({r.model.algorithm} on {r.dataset.name}, run {r.run_id})"]
    if not r.is_zk:
        out.append("NOT A ZK RESULT: outputs from the integer reference (no snarkVM); nothing was proven or saved")
    out += [
        "",
        format_table(["metric", "float", "quantized", zk_label(r)], metric_rows),
        "",
        f"float/quantized over {r.dataset.n_test} test rows; ZK over {r.zk_samples} rows executed in "
        f"{'snarkVM' if r.is_zk else 'the reference backend'}; "
        f"agreement quantized = ZK: {r.agreement:.4f} ({len(r.disagreements)} disagreements)",
        "",
        format_table(
            ["function", "constraints", "overhead", "model", "keygen s", "execute s/row", "prove s", "verify s", "proof bytes"],
            [
                [
                    f"{f.program}/{f.function}",
                    str(f.constraints),
                    _int(f.overhead),
                    _int(None if f.overhead is None else f.constraints - f.overhead),
                    _fmt(t.keygen, 2),
                    _fmt(t.execute_per_sample, 3),
                    _fmt(t.prove_mean, 2),
                    _fmt(t.verify_mean, 3),
                    str(proof_bytes or "-"),
                ]
                for f in r.circuit.functions
            ],
        ),
        "",
        f"transitions per execution: {r.circuit.transitions}; rows per execution and proof (batch): "
        f"{r.circuit.batch}; prove s per row: {_fmt(t.prove_per_sample, 2)}; "
        f"execution throughput: {_fmt(t.execute_rows_per_second, 1)} rows/s "
        f"({r.circuit.execute_workers} process(es)); key cache: {r.circuit.key_cache or '-'}",
    ]
    revealed = r.circuit.scores
    if revealed:
        out += [
            "",
            f"also output: {revealed.what} as {revealed.type} ({revealed.encoding}); "
            f"agreement with the integer reference: {revealed.agreement:.4f}",
        ]
    if r.proofs:
        ok = sum(p.verified for p in r.proofs)
        out += ["", f"proofs: {ok}/{len(r.proofs)} verified"]
    if r.disagreements:
        out += ["", "disagreements (sample: integer reference vs snarkVM):"]
        out += [f"  {d.sample}: {d.expected} vs {d.got}" for d in r.disagreements[:20]]
    return "\n".join(out)


# -- comparing runs ---------------------------------------------------------------------------
def primary_metric(r: RunResult) -> str:
    """The metric a table shows first for this run's task."""
    names = list(r.metrics.float_model)
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
    constraints = [f.constraints for f in r.circuit.functions]
    return {
        "run": r.run_id,
        "experiment": r.experiment.name,
        "algorithm": r.model.algorithm,
        "dataset": r.dataset.name,
        "bits": r.model.quantization.get("fractional_bits"),
        "metric": m,
        "float": r.metrics.float_model.get(m),
        "quantized": r.metrics.quantized.get(m),
        "zk": r.metrics.zk.get(m),
        "agreement": r.agreement,
        "constraints_max": max(constraints, default=0),
        "constraints_total": sum(constraints),
        "transitions": r.circuit.transitions,
        "keygen_s": r.timings.keygen,
        "prove_s": r.timings.prove_mean,
        "verify_s": r.timings.verify_mean,
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
        return markdown_table(headers, rows)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(headers)
        for r in results:
            row = comparison_row(r)
            writer.writerow(["" if row[c] is None else row[c] for c in COMPARE_COLUMNS])
        return buf.getvalue().rstrip("\n")
    raise UserError(f"--format: expected table, markdown or csv, found {fmt!r}")


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])
