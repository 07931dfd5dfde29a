"""Runs as text: the summary printed after a run, and saved runs side by side.

A result the reference backend produced (no snarkVM) says so in its heading, and its
"ZK" column is labelled `reference (no snarkVM)`: its numbers are never ZK numbers.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from workbench.errors import UserError
from workbench.kinds import Visibility
from workbench.limits import Quantity, setup_limits
from workbench.results import ProofRecord, RunResult


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


def _linking(topology: str) -> str:
    """What a chain's topology means for a verifier, in a few words."""
    if topology == "commitments":
        return ("separate executions linked by commitments (one proof per link, bundled in each proof file; "
                "the verifier sees only commitments and the prediction)")
    return "a chain of calls (one execution, one proof covering every transition)"


def _int(v: int | None) -> str:
    return "-" if v is None else str(v)


def _fmt(v: float | None, digits: int = 4) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def metric_table(r: RunResult) -> tuple[list[str], list[list[str]], str]:
    """Headers, rows and a note for float vs quantized vs ZK, compared over the same rows.

    When fewer rows were executed in snarkVM than the test set holds, the first three
    columns are over the executed rows and two more, labelled, give float and quantized
    over all test rows.
    """
    m, n, k = r.metrics, r.dataset.n_test, r.zk_samples
    zk = zk_label(r)
    where = "snarkVM" if r.is_zk else "the reference backend"
    if k == n or not m.quantized_on_zk_rows:
        rows = [[name, _fmt(m.float_model.get(name)), _fmt(m.quantized.get(name)), _fmt(m.zk.get(name))]
                for name in m.float_model]
        return ["metric", "float", "quantized", zk], rows, f"all three over the same {n} test rows, every one executed in {where}"
    rows = [
        [name, _fmt(m.float_on_zk_rows.get(name)), _fmt(m.quantized_on_zk_rows.get(name)), _fmt(m.zk.get(name)),
         _fmt(m.float_model.get(name)), _fmt(m.quantized.get(name))]
        for name in m.float_model
    ]
    headers = ["metric", "float", "quantized", zk, f"float, all {n} rows", f"quantized, all {n} rows"]
    return headers, rows, f"float, quantized and ZK over the same {k} test rows, executed in {where}; the last two columns over all {n}"


def proofs_note(r: RunResult) -> str:
    """How many proofs were made and verified, and why fewer than asked when that happens."""
    asked = r.proofs_requested
    if not r.proofs:
        return "proofs: none (--proofs 0 / [zk] proofs = 0)" if asked in (0, None) else "proofs: none made"
    ok = sum(p.verified for p in r.proofs)
    text = f"proofs: {ok}/{len(r.proofs)} verified"
    if asked is not None and asked > len(r.proofs):
        executions = -(-r.zk_samples // r.circuit.batch)
        text += (
            f" ({asked} asked; one proof per execution and only {executions} execution(s): "
            f"{r.zk_samples} row(s) executed at {r.circuit.batch} row(s) each)"
        )
    return text


def reads_as(r: RunResult, p: ProofRecord) -> str:
    """What a proof's output reads as: the labels result.json recorded, else its output decoded."""
    return ", ".join(p.prediction) or ", ".join(r.read_output(p.output))


def proof_table(r: RunResult) -> tuple[list[str], list[list[str]]]:
    """Each proof: its file, the test rows it covers, the output it attests and what that output reads as."""
    rows = []
    for p in r.proofs:
        reads = reads_as(r, p) or "-"
        rows.append([
            p.path.removeprefix("proofs/") or "-",
            ", ".join(str(s) for s in (p.samples or (p.sample,))),
            p.output if r.circuit.output == Visibility.PUBLIC else f"{p.output} (private)",
            reads,
            "yes" if p.verified else f"NO: {p.error or 'failed'}",
        ])
    return ["proof", "test rows", "output", "reads as", "verified"], rows


# Short names of the six sizes, as the summary and the TUI show them.
SIZE_LABELS = {
    Quantity.PUBLIC_INPUTS: "public inputs",
    Quantity.VARIABLES: "variables",
    Quantity.CONSTRAINTS: "constraints",
    Quantity.NONZERO_A: "nnz A",
    Quantity.NONZERO_B: "nnz B",
    Quantity.NONZERO_C: "nnz C",
}


def _n(v: int | None) -> str:
    return "-" if v is None else f"{v:,}"


def size_table(r: RunResult) -> tuple[list[str], list[list[str]]] | None:
    """Each function's six circuit sizes, the estimator's prediction and the limit of the
    setup the keys were made with (so the headroom shows: "nnz B 37,298 / 65,536"), or
    None for results that did not record sizes (schema 3 and older)."""
    functions = [f for f in r.circuit.functions if f.shape is not None or f.estimated_shape is not None]
    if not functions:
        return None
    limits = setup_limits(r.circuit.setup_degree)
    rows = []
    for f in functions:
        for i, q in enumerate(Quantity):
            value = f.shape.get(q) if f.shape is not None else None
            estimated = f.estimated_shape.get(q) if f.estimated_shape is not None else None
            limit = limits.maximum(q)
            used = "-" if value is None or limit is None else f"{value / limit:.0%}"
            rows.append([f"{f.program}/{f.function}" if i == 0 else "", SIZE_LABELS[q], _n(value), _n(estimated),
                         "-" if limit is None else f"{limit:,}", used])
    key = "verifying key" if r.is_zk else "reference estimate"
    return ["function", "size", key, "estimated", f"limit at 2^{r.circuit.setup_degree}", "used"], rows


def format_summary(r: RunResult) -> str:
    """The side-by-side report printed at the end of a run."""
    headers, metric_rows, metric_note = metric_table(r)
    t = r.timings
    proof_bytes = max((p.proof_bytes for p in r.proofs), default=0)
    out = [f"{r.experiment.name}  ({r.model.algorithm} on {r.dataset.name}, run {r.run_id})"]
    if not r.is_zk:
        out.append("NOT A ZK RESULT: outputs from the integer reference (no snarkVM); nothing was proven or saved")
    out += [
        "",
        format_table(headers, metric_rows),
        "",
        f"{metric_note}; agreement quantized = ZK: {r.agreement:.4f} ({len(r.disagreements)} disagreements)",
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
        f"({r.circuit.execute_workers} process(es)); key cache: {r.circuit.key_cache or '-'}; "
        f"setup: 2^{r.circuit.setup_degree}",
    ]
    chain = r.circuit.chain
    if chain is not None:
        out.append(f"split: {len(chain.cuts) + 1} transitions over {chain.units} {chain.unit}, {_linking(chain.topology)}")
    sizes = size_table(r)
    if sizes is not None:
        out += ["", "circuit sizes (the setup bounds each; docs/cost-model.md):", format_table(*sizes)]
    revealed = r.circuit.scores
    if revealed:
        out += [
            "",
            f"also output: {revealed.what} as {revealed.type} ({revealed.encoding}); "
            f"agreement with the integer reference: {revealed.agreement:.4f}",
        ]
    if r.dataset.dropped_rows:
        out += ["", f"data: {r.dataset.dropped_rows} CSV row(s) with missing or non-numeric values dropped"]
    out += ["", proofs_note(r)]
    if r.proofs:
        out += [format_table(*proof_table(r))]
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
    "rows",
    "float",
    "quantized",
    "zk",
    "quantized_all",
    "agreement",
    "constraints_max",
    "constraints_total",
    "transitions",
    "keygen_s",
    "prove_s",
    "verify_s",
    "proof_bytes",
    "attested",
    "aleo_sdk",
    "date",
)


def attested_text(r: RunResult, limit: int = 3) -> str | None:
    """What the first proofs attest, read as class names or values (`virginica; setosa`)."""
    if not r.proofs:
        return None
    shown = [reads_as(r, p) or p.output for p in r.proofs[:limit]]
    return "; ".join(shown) + ("; ..." if len(r.proofs) > limit else "")


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
        # float, quantized and zk over the same rows (those executed); quantized_all over every test row.
        "rows": r.zk_samples,
        "float": (r.metrics.float_on_zk_rows or r.metrics.float_model).get(m),
        "quantized": (r.metrics.quantized_on_zk_rows or r.metrics.quantized).get(m),
        "zk": r.metrics.zk.get(m),
        "quantized_all": r.metrics.quantized.get(m),
        "agreement": r.agreement,
        "constraints_max": max(constraints, default=0),
        "constraints_total": sum(constraints),
        "transitions": r.circuit.transitions,
        "keygen_s": r.timings.keygen,
        "prove_s": r.timings.prove_mean,
        "verify_s": r.timings.verify_mean,
        "proof_bytes": max((p.proof_bytes for p in r.proofs), default=None),
        "attested": attested_text(r),
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
