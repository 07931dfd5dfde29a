"""Command line: argument parsing only; the work happens in pipeline, results and leo.

Data (tables, results) goes to stdout; progress and diagnostics go to stderr.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
import warnings
from pathlib import Path

from workbench import __version__
from workbench.errors import ExitCode, WorkbenchError


def _progress_printer(quiet: bool):  # type: ignore[no-untyped-def]
    from workbench.events import Event, EventKind

    def on_event(e: Event) -> None:
        if quiet:
            return
        if e.kind == EventKind.STAGE_STARTED:
            print(f"  {e.stage} ...", file=sys.stderr, flush=True)
        elif e.kind == EventKind.STAGE_FINISHED:
            print(f"  {e.stage} done ({e.elapsed:.2f} s)", file=sys.stderr, flush=True)
        elif e.kind == EventKind.STAGE_PROGRESS:
            # A carriage-return counter on a terminal; one line at the end elsewhere.
            if sys.stderr.isatty():
                end = "\n" if e.done == e.total else ""
                print(f"\r    {e.stage}: {e.done}/{e.total}", end=end, file=sys.stderr, flush=True)
            elif e.done == e.total:
                print(f"    {e.stage}: {e.done}/{e.total}", file=sys.stderr, flush=True)
        elif e.kind == EventKind.LOG:
            print(f"    {e.message}", file=sys.stderr, flush=True)

    return on_event


def _cmd_run(args: argparse.Namespace) -> int:
    from workbench.experiment import load_experiment
    from workbench.pipeline import run_experiment
    from workbench.report import format_summary

    exp = load_experiment(args.experiment)
    print(f"running {exp.name} ({exp.path})", file=sys.stderr, flush=True)
    result, run_dir = run_experiment(
        exp,
        Path(args.results),
        on_event=_progress_printer(args.quiet),
        samples=args.samples,
        proofs=args.proofs,
        use_key_cache=not args.no_key_cache,
        workers=args.workers,
        batch=args.batch,
        setup=args.setup,
    )
    print(format_summary(result))
    print(f"\nsaved to {run_dir}")
    failed = any(not p.verified for p in result.proofs) or result.agreement < 1.0
    return ExitCode.FAILURE if failed else ExitCode.OK


def _check_one(path: str, quick: bool, setup: str | int | None = None) -> str:
    """One experiment file checked; returns the line printed for it (raises WorkbenchError)."""
    from workbench.experiment import load_experiment
    from workbench.limits import planning_budget

    exp = load_experiment(path)
    what = f"{exp.model.algorithm} on {exp.dataset.name}"
    if quick:
        return f"{exp.path}: ok ({what}; file only)"
    from workbench.pipeline import check_experiment

    data, plan = check_experiment(exp, setup=setup)
    degree = plan.request.degree
    largest = max(plan.estimates.values(), default=0)
    programs = len(plan.cuts) + 1
    return (
        f"{exp.path}: ok ({what}: {len(data.X_train)} training / {len(data.X_test)} test rows, "
        f"{data.n_features} features{f', {data.dropped_rows} rows dropped' if data.dropped_rows else ''}; "
        f"plan: {programs} program(s), {plan.batch} row(s) per execution, "
        f"about {largest:,} constraints in the largest function (setup 2^{degree}: "
        f"{planning_budget(degree):,} per transition{', downloads allowed' if plan.request.downloads else ''}))"
    )


def _cmd_check(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.experiments:
        try:
            print(_check_one(path, args.quick, args.setup), flush=True)
        except WorkbenchError as exc:
            failed += 1
            print(f"workbench: {exc.title}:\n{exc}", file=sys.stderr, flush=True)
    if len(args.experiments) > 1:
        print(f"{len(args.experiments) - failed}/{len(args.experiments)} experiment files ok")
    return ExitCode.USER_ERROR if failed else ExitCode.OK


def _cmd_compare(args: argparse.Namespace) -> int:
    from workbench.report import render_comparison
    from workbench.results import ResultError, list_runs, load_result

    if args.runs:
        dirs = [Path(d) for d in args.runs]
    else:
        dirs = list_runs(Path(args.results), args.experiment)
        if not dirs:
            where = f"{args.results}/{args.experiment}" if args.experiment else args.results
            print(f"workbench: no saved runs under {where}", file=sys.stderr)
            return ExitCode.USER_ERROR
    results = []
    for d in dirs:
        try:
            results.append(load_result(d))
        except ResultError as exc:  # one bad run does not hide the others (as in the TUI history)
            print(f"workbench: skipped {d}: {str(exc).splitlines()[0]}", file=sys.stderr)
    if not results:
        print("workbench: no readable runs to compare", file=sys.stderr)
        return ExitCode.USER_ERROR
    print(render_comparison(results, args.format, args.sort))
    return ExitCode.OK


def _verify_saved_model(directory: Path, proofs: list[str]) -> int:
    from workbench.api import ApiError, ZkProof, load

    model = load(directory)
    files = [Path(p) for p in proofs] or sorted((directory / "proofs").glob("*.json"))
    if not files:
        raise ApiError(f"{directory}: no proofs given (workbench verify {directory} PROOF.json ...)")
    passed = 0
    for f in files:
        try:
            proof = ZkProof.load(f)
        except ApiError as exc:
            print(f"FAIL  {f}\n      {exc}")
            continue
        ok = model.verify(proof)
        passed += ok
        claim = "(private output)" if proof.predictions is None else f"predictions {list(proof.predictions)}"
        print(f"{'PASS' if ok else 'FAIL'}  {f}  {model.card.main_program}/{model.card.function}: {claim}")
    print(f"{passed}/{len(files)} proofs verified")
    return ExitCode.OK if passed == len(files) else ExitCode.FAILURE


def _cmd_verify(args: argparse.Namespace) -> int:
    from workbench.api import CARD_FILE
    from workbench.run_audit import audit_run

    if (Path(args.run_dir) / CARD_FILE).is_file():
        return _verify_saved_model(Path(args.run_dir), args.proofs)
    if args.proofs:
        print(f"workbench: {args.run_dir} is a run directory: its proofs are verified; PROOF arguments are for "
              "saved models", file=sys.stderr)
        return ExitCode.USER_ERROR
    if not Path(args.run_dir).is_dir():
        print(f"workbench: {args.run_dir}: no such directory", file=sys.stderr)
        return ExitCode.USER_ERROR
    audit = audit_run(Path(args.run_dir))
    for c in audit.checks:
        status = {True: "PASS", False: "FAIL", None: "SKIP"}[c.passed]
        print(f"{status}  {c.what}  {c.detail}")
    proofs = audit.proofs
    passed = sum(bool(c.passed) for c in proofs)
    failed = [c.what for c in audit.checks if c.passed is False and not c.what.startswith("proofs/")]
    summary = f"{passed}/{len(proofs)} proofs verified"
    if failed:
        summary += f"; failed: {', '.join(failed)}"
    print(summary + ("; every claim checked" if audit.passed and all(c.passed for c in audit.checks) else ""))
    return ExitCode.OK if audit.passed else ExitCode.FAILURE


def _cmd_cache_clear(args: argparse.Namespace) -> int:
    from workbench.snarkvm.keycache import cache_dir, clear

    entries, size = clear()
    print(f"removed {entries} cached program(s), {size / 1e6:.1f} MB, from {cache_dir()}")
    return ExitCode.OK


def _cmd_cache_info(args: argparse.Namespace) -> int:
    from datetime import datetime

    from workbench.snarkvm.keycache import cache_dir, entries, max_bytes

    root = cache_dir()
    cached = entries(root)
    size = sum(e.size for e in cached)
    print(f"{root}: {len(cached)} cached model(s), {size / 1e6:.1f} MB of {max_bytes() / 1e6:.0f} MB "
          "(cap: WORKBENCH_CACHE_MAX_MB; least recently used evicted first)")
    for e in reversed(cached):
        used = datetime.fromtimestamp(e.last_used).strftime("%Y-%m-%d %H:%M")
        print(f"  {e.path.name}  {e.size / 1e6:7.1f} MB  last used {used}")
    return ExitCode.OK


def _cmd_setup_list(args: argparse.Namespace) -> int:
    from workbench.snarkvm.setup_files import describe

    print(describe())
    return ExitCode.OK


def _cmd_setup_install(args: argparse.Namespace) -> int:
    from workbench.snarkvm.setup_files import describe_degrees, install_paths

    def error(message: str) -> None:
        print(f"workbench setup install: error: {message}", file=sys.stderr, flush=True)

    report = install_paths([Path(p) for p in args.paths], on_error=error)
    for line in report.lines:
        print(line, flush=True)
    if report.installed:
        print()
        print(describe_degrees())
    return ExitCode.USER_ERROR if report.refused else ExitCode.OK


def _cmd_bench(args: argparse.Namespace) -> int:
    from workbench.bench import run_benchmarks, shipped_experiments

    experiments = shipped_experiments(Path(args.experiments), args.names)
    text = run_benchmarks(
        experiments,
        Path(args.results),
        speedups=args.speedups,
        batching=not args.no_batching,
        progress=lambda m: print(m, file=sys.stderr, flush=True),
    )
    print(text)
    return ExitCode.OK


def _cmd_leo_build(args: argparse.Namespace) -> int:
    from workbench.leo.compiler import main_build

    return main_build(args.path)


def _integer(text: str, low: int, high: int | None = None) -> int:
    """An integer flag value within [low, high]; argparse turns the ArgumentTypeError into
    `argument --flag: <message>` and exit status 2, as for a bad TOML value."""
    expected = f"an integer >= {low}" if high is None else f"an integer from {low} to {high}"
    try:
        value = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, found {text!r}") from None
    if value < low or (high is not None and value > high):
        raise argparse.ArgumentTypeError(f"expected {expected}, found {value}")
    return value


def _at_least_one(text: str) -> int:
    return _integer(text, 1)


def _at_least_zero(text: str) -> int:
    return _integer(text, 0)


def _batch(text: str) -> int | str:
    from workbench.limits import MAX_BATCH

    if text.strip() == "auto":
        return "auto"
    try:
        return _integer(text, 1, MAX_BATCH)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f'expected "auto" or an integer from 1 to {MAX_BATCH}, found {text!r}') from None


def _setup(text: str) -> str | int:
    from workbench.experiment import SETUP_EXPECTED, is_setup_value

    value: str | int = text.strip()
    try:
        value = int(value)
    except ValueError:
        pass
    if not is_setup_value(value):
        raise argparse.ArgumentTypeError(f"expected {SETUP_EXPECTED}, found {text!r}")
    return value


_SETUP_HELP = 'override [zk] setup: "installed", "download" or a degree (16..20); see `workbench setup`'


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="zkML Workbench: train a model, generate Leo, prove inference with snarkVM.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    parser.add_argument(
        "--experiments",
        dest="experiments_dir",
        default="experiments",
        metavar="DIR",
        help="experiments directory for the interactive workbench (default: ./experiments)",
    )
    parser.add_argument(
        "--results",
        dest="results_dir",
        default="results",
        metavar="DIR",
        help="results directory for the interactive workbench (default: ./results)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run an experiment headless and print the results table")
    run.add_argument("experiment", help="path to an experiment TOML file")
    run.add_argument("--results", default="results", help="results directory (default: ./results)")
    run.add_argument("--samples", type=_at_least_one, metavar="N", help="override [zk] samples (rows executed in snarkVM, >= 1)")
    run.add_argument("--proofs", type=_at_least_zero, metavar="N", help="override [zk] proofs (proofs generated and verified, >= 0)")
    run.add_argument("--batch", type=_batch, metavar="N|auto", help='override [zk] batch: rows per execution and proof, or "auto"')
    run.add_argument("--workers", type=_at_least_one, metavar="N", help="processes executing rows, and running the links of a model linked by commitments, >= 1 (default: by rows, links and cores)")
    run.add_argument("--setup", type=_setup, metavar="MODE|DEGREE", help=_SETUP_HELP)
    run.add_argument("--no-key-cache", action="store_true", help="synthesize keys even if they are cached")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    run.set_defaults(func=_cmd_run)

    check = sub.add_parser(
        "check", help="catch what a run would refuse, before proving: the file, the data, training and the circuit plan"
    )
    check.add_argument("experiments", nargs="+", metavar="EXPERIMENT", help="experiment TOML files")
    check.add_argument("--quick", action="store_true", help="validate the files only (no data, training or planning)")
    check.add_argument("--setup", type=_setup, metavar="MODE|DEGREE", help=_SETUP_HELP)
    check.set_defaults(func=_cmd_check)

    compare = sub.add_parser("compare", help="print saved runs side by side")
    compare.add_argument("runs", nargs="*", metavar="RUN_DIR", help="run directories (default: every saved run)")
    compare.add_argument("--experiment", help="only runs of this experiment")
    compare.add_argument("--results", default="results", help="results directory (default: ./results)")
    compare.add_argument("--format", choices=("table", "markdown", "csv"), default="table")
    compare.add_argument("--sort", metavar="KEY", help="sort by a column (e.g. zk, prove_s, date)")
    compare.set_defaults(func=_cmd_compare)

    verify = sub.add_parser(
        "verify",
        help="re-verify a run's saved proofs, or proofs of a saved model (zk.save), from programs and verifying keys",
    )
    verify.add_argument("run_dir", metavar="DIR", help="a run directory, or a model saved with CompiledModel.save")
    verify.add_argument("proofs", nargs="*", metavar="PROOF", help="with a saved model: proof files (ZkProof.save)")
    verify.set_defaults(func=_cmd_verify)

    cache = sub.add_parser("cache", help="the proving/verifying key cache")
    cache_sub = cache.add_subparsers(dest="cache_command", metavar="CACHE_COMMAND", required=True)
    cache_sub.add_parser("clear", help="delete every cached key").set_defaults(func=_cmd_cache_clear)
    cache_sub.add_parser("info", help="where the cache is and how big").set_defaults(func=_cmd_cache_info)

    setup = sub.add_parser(
        "setup", help="the universal setup files: which degrees are installed, what each proves; install larger ones"
    )
    setup.set_defaults(func=_cmd_setup_list)
    setup_sub = setup.add_subparsers(dest="setup_command", metavar="SETUP_COMMAND")
    setup_sub.add_parser("list", help="installed degrees and files (the default)").set_defaults(func=_cmd_setup_list)
    install = setup_sub.add_parser(
        "install", help="check side-loaded powers files (size, SHA-256) and install them into ~/.aleo/resources"
    )
    install.add_argument("paths", nargs="+", metavar="FILE|DIR", help="setup files, or directories holding them")
    install.set_defaults(func=_cmd_setup_install)

    bench = sub.add_parser("bench", help="run shipped experiments and write results/BENCHMARKS.md")
    bench.add_argument("names", nargs="*", metavar="NAME", help="experiment names or TOML paths (default: all)")
    bench.add_argument("--experiments", default="experiments", help="directory of shipped experiments")
    bench.add_argument("--results", default="results", help="results directory (default: ./results)")
    bench.add_argument("--speedups", action="store_true", help="also measure key-cache and parallel speed-ups")
    bench.add_argument("--no-batching", action="store_true", help="skip the second run with --batch auto")
    bench.set_defaults(func=_cmd_bench)

    leo = sub.add_parser("leo", help="Leo tools")
    leo_sub = leo.add_subparsers(dest="leo_command", metavar="LEO_COMMAND", required=True)
    build = leo_sub.add_parser("build", help="compile a Leo project into build/<name>/<name>.aleo")
    build.add_argument("path", nargs="?", default=".", help="project directory (default: .)")
    build.set_defaults(func=_cmd_leo_build)
    return parser


def _interrupt(signum: int, frame: object) -> None:
    # SIGTERM and SIGHUP take the Ctrl-C path: the run discards its staging directory.
    raise KeyboardInterrupt


def _handle_termination() -> None:
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _interrupt)


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                      line: str | None = None) -> str:
    # Library warnings (a scikit-learn ConvergenceWarning) as one line, without the source line.
    return f"workbench: warning: {category.__name__}: {str(message).splitlines()[0] if str(message) else ''}\n"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `workbench` console script."""
    warnings.formatwarning = _one_line_warning
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        # No command: the interactive workbench (imported here so headless commands never load Textual).
        from workbench.tui.app import make_app

        make_app(Path(args.experiments_dir), Path(args.results_dir)).run()
        return ExitCode.OK
    _handle_termination()
    try:
        return int(args.func(args))
    except WorkbenchError as exc:
        print(f"workbench: {exc.title}:\n{exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("workbench: interrupted; nothing was saved for this run", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of ours: one line, the traceback only on request
        if os.environ.get("WORKBENCH_DEBUG"):
            traceback.print_exc()
        print(
            f"workbench: internal error ({type(exc).__name__}): {str(exc).splitlines()[0] if str(exc) else ''}\n"
            "This is a bug in the workbench; set WORKBENCH_DEBUG=1 to see where it happened.",
            file=sys.stderr,
        )
        return int(ExitCode.FAILURE)
