"""Rich renderables for a run: metrics side by side, costs, disagreements, source code."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from workbench.report import metric_table, proof_table, proofs_note, size_table
from workbench.results import RunResult


def _f(v: float | None, digits: int = 4) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def metrics_table(r: RunResult) -> Table:
    """Float vs quantized vs ZK over the same rows (and over all test rows when fewer ran)."""
    headers, rows, _ = metric_table(r)
    t = Table(title="metrics", title_justify="left", expand=False, padding=(0, 1))
    t.add_column(headers[0])
    for col in headers[1:]:
        t.add_column(col, justify="right")
    for row in rows:
        t.add_row(*row)
    return t


def proofs_view(r: RunResult) -> RenderableType:
    """Each proof's rows, attested output and what it reads as (class names), or why none."""
    ok = sum(p.verified for p in r.proofs)
    style = "green" if r.proofs and ok == len(r.proofs) else ("dim" if not r.proofs else "bold red")
    note = Text(proofs_note(r), style=style)
    if not r.proofs:
        return note
    headers, rows = proof_table(r)
    t = Table(title_justify="left", padding=(0, 1))
    for h in headers:
        t.add_column(h)
    for row in rows:
        t.add_row(*row)
    return Group(note, t)


def summary(r: RunResult) -> RenderableType:
    """The result's headline: what ran, metrics, agreement, proofs, disagreements."""
    head = Text.assemble(
        (r.experiment.name, "bold"),
        f"  {r.model.algorithm} on {r.dataset.name}",
        ("  run ", "dim"),
        r.run_id,
    )
    agree_style = "green" if r.agreement == 1.0 else "bold red"
    notes = Text.assemble(
        f"{metric_table(r)[2]}\n",
        "agreement quantized = ZK: ",
        (f"{r.agreement:.4f} ({len(r.disagreements)} disagreements)", agree_style),
    )
    parts: list[RenderableType] = [head, Text(""), metrics_table(r), notes]
    if not r.is_zk:
        parts.insert(1, Text("NOT A ZK RESULT: outputs from the integer reference backend (no snarkVM); nothing saved",
                             style="bold red"))
    if r.dataset.dropped_rows:
        parts.append(Text(f"{r.dataset.dropped_rows} CSV row(s) with missing or non-numeric values dropped", style="yellow"))
    parts.append(proofs_view(r))
    if r.disagreements:
        d = Table(title="disagreements", title_justify="left")
        d.add_column("sample", justify="right")
        d.add_column("integer reference", justify="right")
        d.add_column("snarkVM", justify="right")
        for row in r.disagreements:
            d.add_row(str(row.sample), str(row.expected), str(row.got))
        parts += [Text(""), d]
    return Group(*parts)


def cost_table(r: RunResult) -> RenderableType:
    """Constraints per function, transitions, keygen/prove/verify seconds, proof size."""
    t = r.timings
    fn = Table(title="circuit", title_justify="left", padding=(0, 1))
    fn.add_column("function")
    fn.add_column("constraints", justify="right")
    for f in r.circuit.functions:
        fn.add_row(f"{f.program}/{f.function}", f"{f.constraints:,}")
    parts: list[RenderableType] = [fn]
    sized = size_table(r)
    if sized is not None:
        # Every size the setup bounds, next to its limit: the headroom of each.
        headers, rows = sized
        sizes = Table(title="circuit sizes (the setup bounds each)", title_justify="left", padding=(0, 1))
        sizes.add_column(headers[0])
        sizes.add_column(headers[1])
        for h in headers[2:]:
            sizes.add_column(h, justify="right")
        for row in rows:
            sizes.add_row(*row)
        parts += [Text(""), sizes]
    proof_bytes = max((p.proof_bytes for p in r.proofs), default=0)
    costs = Table(title="costs", title_justify="left", padding=(0, 1))
    costs.add_column("measure")
    costs.add_column("value", justify="right")
    for label, value in (
        ("transitions", str(r.circuit.transitions)),
        ("inputs / output", f"{r.circuit.inputs} / {r.circuit.output}"),
        ("keygen s", _f(t.keygen, 2)),
        ("execute s/row", _f(t.execute_per_sample, 3)),
        ("prove s (mean)", _f(t.prove_mean, 2) if r.proofs else "-"),
        ("verify s (mean)", _f(t.verify_mean, 3) if r.proofs else "-"),
        ("proof bytes", f"{proof_bytes:,}" if proof_bytes else "-"),
        ("total s", _f(t.total, 1)),
    ):
        costs.add_row(label, value)
    stages = Table(title="stage seconds", title_justify="left", padding=(0, 1))
    stages.add_column("stage")
    stages.add_column("s", justify="right")
    for k, v in t.stages.items():
        stages.add_row(k, f"{v:.2f}")
    grid = Table.grid(padding=(0, 2))
    grid.add_row(costs, stages)
    versions = Text(
        "  ".join(f"{k} {v}" for k, v in r.versions.items()),
        style="dim",
    )
    return Group(*parts, Text(""), grid, Text(""), versions)


# Aleo instructions have no Pygments lexer; a few regular expressions do the job.
ALEO_PATTERNS = (
    (r"\b(program|import|function|closure|constructor|input|output|as|into|to)\b", "bold magenta"),
    (r"\.(public|private|record|constant)\b", "cyan"),
    (r"\b(i8|i16|i32|i64|i128|u8|u16|u32|u64|u128|field|group|scalar|boolean|address)\b", "blue"),
    (r"\br\d+\b", "yellow"),
    (r"-?\b\d+(i8|i16|i32|i64|i128|u8|u16|u32|u64|u128|field|group|scalar)\b", "green"),
    (r"//.*$", "dim italic"),
)


def aleo_source(text: str) -> RenderableType:
    """Aleo instructions with line numbers and highlighting."""
    table = Table.grid(padding=(0, 1))
    table.add_column(justify="right", style="dim")
    table.add_column(no_wrap=True)
    for i, line in enumerate(text.splitlines(), 1):
        t = Text(line)
        for pattern, style in ALEO_PATTERNS:
            t.highlight_regex(pattern, style=style)
        table.add_row(str(i), t)
    return table


def leo_source(text: str) -> RenderableType:
    """Leo source, highlighted with the Rust lexer (the closest Pygments has)."""
    return Syntax(text, "rust", line_numbers=True, word_wrap=False, theme="ansi_dark", background_color="default")
