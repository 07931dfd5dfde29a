"""`workbench bench`: run shipped experiments and write results/BENCHMARKS.md.

Each experiment runs as its own `workbench run` process with an empty, temporary key
cache, so keygen is really measured, and its peak resident memory is read from the
kernel's accounting of that process (`os.wait4`). With `speedups`, each experiment is run
twice more: once with the now-warm key cache, once warm and in a single process, to
measure what the key cache and parallel execution buy.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from workbench.errors import UserError, WorkbenchError
from workbench.events import Stage
from workbench.report import markdown_table, primary_metric
from workbench.results import RunResult, list_runs, load_result


@dataclass(frozen=True)
class BenchRun:
    """One benchmarked run: its result, wall time and peak memory."""

    result: RunResult
    wall_seconds: float
    peak_mb: float


def _run_once(experiment: Path, results: Path, cache: Path, extra: list[str]) -> BenchRun:
    before = set(list_runs(results))
    env = {**os.environ, "WORKBENCH_CACHE_DIR": str(cache)}
    cmd = [sys.executable, "-m", "workbench", "run", str(experiment), "--results", str(results), "-q", *extra]
    t0 = datetime.now(timezone.utc)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = (datetime.now(timezone.utc) - t0).total_seconds()
    new = sorted(set(list_runs(results)) - before)
    if not new:
        raise WorkbenchError(f"benchmark of {experiment} failed (exit {proc.returncode}):\n{err.strip()}")
    # ru_maxrss is in KiB on Linux: the largest resident set of the run process or of any
    # worker process it waited for.
    return BenchRun(load_result(new[-1]), wall, usage.ru_maxrss / 1024)


def machine() -> str:
    """CPU model, cores and memory of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{mem}, {platform.system()} {platform.release()}"


def _f(v: float | None, digits: int = 2) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def benchmark_table(runs: list[tuple[BenchRun, BenchRun | None]]) -> tuple[list[str], list[list[str]]]:
    """One row per experiment: the configured run (one row per proof) and the auto-batch run."""
    headers = [
        "experiment", "metric", "float", "ZK", "agree", "constraints", "overhead", "model", "transitions", "largest link",
        "keygen s", "exec s/row", "rows/s", "prove s", "verify s", "proof B", "peak MB",
        "batch", "constraints@batch", "prove s/row@batch", "rows/s@batch",
    ]
    rows = []
    for b, auto in runs:
        r = b.result
        m = primary_metric(r)
        main = r.circuit.functions[-1]
        overhead = main.overhead
        row = [
            # float over the same rows as ZK (every test row unless a run executed fewer)
            r.experiment.name, m, _f((r.metrics.float_on_zk_rows or r.metrics.float_model).get(m), 4),
            _f(r.metrics.zk.get(m), 4),
            _f(r.agreement, 3), str(main.constraints), "-" if overhead is None else str(overhead),
            "-" if overhead is None else str(main.constraints - overhead), str(r.circuit.transitions),
            str(max(f.constraints for f in r.circuit.functions)) if len(r.circuit.functions) > 1 else "-",
            _f(r.timings.keygen), _f(r.timings.execute_per_sample, 3),
            _f(r.timings.execute_rows_per_second, 1), _f(r.timings.prove_mean),
            _f(r.timings.verify_mean, 3), str(max((p.proof_bytes for p in r.proofs), default=0) or "-"),
            _f(b.peak_mb, 0),
        ]
        if auto is None:
            row += ["-", "-", "-", "-"]
        else:
            a = auto.result
            row += [
                str(a.circuit.batch), str(a.circuit.functions[-1].constraints),
                _f(a.timings.prove_per_sample), _f(a.timings.execute_rows_per_second, 1),
            ]
        rows.append(row)
    return headers, rows


def run_benchmarks(
    experiments: list[Path],
    results: Path,
    speedups: bool = False,
    batching: bool = True,
    progress: Callable[[str], None] = print,
) -> str:
    """Benchmark the experiments; write results/BENCHMARKS.md and return its text."""
    if not experiments:
        raise UserError("no experiments to benchmark")
    table: list[tuple[BenchRun, BenchRun | None]] = []
    speed_rows: list[list[str]] = []
    failures: list[str] = []
    versions: dict[str, str] = {}
    for exp in experiments:
        with tempfile.TemporaryDirectory(prefix="workbench-bench-cache-") as cache:
            progress(f"bench: {exp} (as configured, cold key cache)")
            try:
                first = _run_once(exp, results, Path(cache), [])
            except WorkbenchError as exc:  # one failing experiment must not hide the others
                failures.append(f"- `{exp.stem}`: {str(exc).strip().splitlines()[-1]}")
                progress(f"bench: {exp} failed")
                continue
            versions = dict(first.result.versions)
            auto = None
            if batching:
                progress(f"bench: {exp} (batch auto, cold key cache)")
                try:
                    auto = _run_once(exp, results, Path(cache), ["--batch", "auto"])
                except WorkbenchError as exc:
                    failures.append(f"- `{exp.stem}` with `--batch auto`: {str(exc).strip().splitlines()[-1]}")
            table.append((first, auto))
            if speedups:
                progress(f"bench: {exp} (warm key cache)")
                warm = _run_once(exp, results, Path(cache), [])
                progress(f"bench: {exp} (warm key cache, one process)")
                single = _run_once(exp, results, Path(cache), ["--workers", "1"])
                w, s = warm.result.timings.stages, single.result.timings.stages
                keys, execute = Stage.SYNTHESIZE.value, Stage.EXECUTE.value
                speed_rows.append([
                    first.result.experiment.name,
                    _f(first.wall_seconds, 1), _f(warm.wall_seconds, 1),
                    _f(first.wall_seconds / warm.wall_seconds, 2) + "x",
                    _f(first.result.timings.stages[keys]), _f(w[keys]),
                    _f(s[execute]), _f(w[execute]),
                    _f(s[execute] / w[execute], 2) + "x",
                ])
    headers, rows = benchmark_table(table)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = [
        "# Benchmarks",
        "",
        f"Measured by `workbench bench` on {now}.",
        "",
        f"- Machine: {machine()}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        "- Each experiment ran as its own `workbench run` process with an empty key cache (keygen measured), "
        "every test row executed in snarkVM, the configured number of proofs generated and verified; then again "
        "with `--batch auto` (the largest batch whose estimated circuit fits the offline setup).",
        "",
        markdown_table(headers, rows),
        "",
        "Columns: `float`/`ZK` the primary metric of the float model and of snarkVM's outputs; `agree` the fraction "
        "of executed rows where snarkVM equals the integer reference; `constraints` the main function's count from "
        "its verifying key (`largest link`: the largest of a split model's transitions, whose `transitions` "
        "are calls or links by commitments, see result.json `circuit.chain.topology`), `overhead` the measured count of an empty function with the same inputs and outputs "
        "(the fixed transition cost), `model` the difference; `keygen s` first execution minus a warm one; "
        "`exec s/row` authorize + execute per row; `rows/s` rows executed per second over the whole execute stage "
        "(worker processes included); `prove s`/`verify s` per proof of one row; `proof B` the execution JSON; "
        "`peak MB` the largest resident set of the run's processes; `@batch` columns: the auto-batch run, with "
        "prove seconds per row (one proof covers `batch` rows).",
    ]
    if failures:
        text += ["", "## Failed runs", "", *failures]
    if speed_rows:
        text += [
            "",
            "## Key cache and parallel execution",
            "",
            markdown_table(
                ["experiment", "cold wall s", "warm wall s", "cache speed-up", "keys cold s", "keys warm s",
                 "execute 1 proc s", "execute auto s", "parallel speed-up"],
                speed_rows,
            ),
        ]
    body = "\n".join(text) + "\n"
    results.mkdir(parents=True, exist_ok=True)
    (results / "BENCHMARKS.md").write_text(body)
    return body


def shipped_experiments(directory: Path, names: list[str]) -> list[Path]:
    """The experiment files to benchmark: all of `directory`, or those named (stem or path)."""
    if not names:
        return sorted(directory.glob("*.toml"))
    paths = []
    for n in names:
        p = Path(n) if n.endswith(".toml") else directory / f"{n}.toml"
        if not p.is_file():
            raise UserError(f"no experiment {n!r} (looked for {p})")
        paths.append(p)
    return paths
