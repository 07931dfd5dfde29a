#!/usr/bin/env python3
"""The estimator's six sizes against real verifying keys, on the shipped experiments.

Run by hand (not in tests; one key synthesis per function, 5-10 s each)::

    PYTHONPATH=. .venv/bin/python scripts/shape_accuracy.py                # every experiments/*.toml
    PYTHONPATH=. .venv/bin/python scripts/shape_accuracy.py experiments/iris_knn.toml
    PYTHONPATH=. .venv/bin/python scripts/shape_accuracy.py --plans-only   # batch and cuts, no snarkVM
    PYTHONPATH=. .venv/bin/python scripts/shape_accuracy.py --keys docs/shape-accuracy.json  # re-estimate only

For each experiment: plan it as a run does (load, train, quantize, plan), generate and
compile its programs, synthesize their keys (one execute of the first batch) and compare
`Compiled.shapes` (the estimator's prediction) with `SnarkVMProcess.shape` (the keys).
Prints one markdown row per function and the worst error per size; `--json` writes the
rows. docs/cost-model.md quotes the output.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from workbench import stages  # noqa: E402
from workbench.experiment import load_experiment  # noqa: E402
from workbench.limits import Quantity, field_name, setup_limits  # noqa: E402
from workbench.pipeline import StageClock, prepare  # noqa: E402

SHORT = {Quantity.PUBLIC_INPUTS: "pub", Quantity.VARIABLES: "vars", Quantity.CONSTRAINTS: "constraints",
         Quantity.NONZERO_A: "nnz A", Quantity.NONZERO_B: "nnz B", Quantity.NONZERO_C: "nnz C"}


def plan_of(path: Path) -> tuple[object, object, object]:
    """(experiment, quantized, plan) as a run plans it."""
    exp = load_experiment(path)
    clock = StageClock(lambda e: None)
    _, _, quantized, request = prepare(exp, exp.zk, clock)
    return exp, quantized, stages.plan(quantized.model, request)


def measure(path: Path, known: dict[str, dict] | None = None) -> list[dict]:
    """Estimated and real sizes of every function of one experiment's planned programs
    (`known`: key sizes by function from an earlier --json, reused instead of synthesizing
    when the programs are the same)."""
    exp, quantized, plan = plan_of(path)
    sources = stages.generate_leo(quantized.model, plan, None)
    compiled = stages.compile_programs(sources, exp.zk.compiler, None)
    functions = [(p.program_id, f) for p in compiled.programs for (pid, f) in compiled.shapes if pid == p.program_id]
    if known is not None and all(f"{p}/{f}" in known for p, f in functions):
        keys = {(p, f): known[f"{p}/{f}"] for p, f in functions}
    else:
        from workbench.kinds import Topology
        from workbench.snarkvm.linked_prover import LinkedProver
        from workbench.snarkvm.process import SnarkVMProcess

        batches = stages.batch_rows(quantized, plan.batch, min(plan.request.rows, plan.batch), 0)
        if plan.topology == Topology.COMMITMENTS:
            # Links take structs the linked prover makes; it synthesizes link by link.
            prover = LinkedProver(compiled.sources, compiled.function, None, quantized.model, plan.cuts, workers=1)
            try:
                prover.synthesize(batches.inputs[0])
                keys = {(p, f): prover.shape(p, f).as_dict() for p, f in prover.functions()}
            finally:
                prover.close()
        else:
            vm = SnarkVMProcess(compiled.sources, compiled.function)
            vm.execute(batches.inputs[0])  # synthesizes every function's keys
            keys = {(p, f): vm.shape(p, f).as_dict() for p, f in vm.functions()}
    rows = []
    for (program, function), real in keys.items():
        est = compiled.shapes[(program, function)]
        rows.append({"experiment": path.stem, "function": f"{program}/{function}", "batch": plan.batch,
                     "cuts": list(plan.cuts), "estimated": est.as_dict(), "key": real})
    return rows


def markdown(rows: list[dict]) -> str:
    """One row per function: estimate / key (error %) for each size; then the worst errors."""
    lim = setup_limits(16)
    qs = list(Quantity)
    out = ["| experiment | function | " + " | ".join(SHORT[q] for q in qs) + " |",
           "|---|---|" + "---|" * len(qs)]
    worst: dict[Quantity, tuple[float, str]] = {}
    for r in rows:
        cells = []
        for q in qs:
            e, k = r["estimated"][field_name(q)], r["key"][field_name(q)]
            err = (e - k) / k if k else 0.0
            cells.append(f"{e:,} / {k:,} ({err:+.1%})")
            if q != Quantity.PUBLIC_INPUTS and abs(err) >= abs(worst.get(q, (0.0, ""))[0]):
                worst[q] = (err, r["function"])
        out.append(f"| {r['experiment']} | {r['function']} | " + " | ".join(cells) + " |")
    out.append("")
    out.append("Worst error per size (estimate - key) / key; used = the largest key over the degree-16 limit:")
    for q, (err, fn) in worst.items():
        m = lim.maximum(q)
        used = max(r["key"][field_name(q)] for r in rows) / m if m else 0.0
        out.append(f"- {SHORT[q]}: {err:+.1%} ({fn}); largest key uses {used:.0%} of {m:,}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("experiments", nargs="*", type=Path)
    ap.add_argument("--plans-only", action="store_true", help="print each experiment's batch and cuts; no snarkVM")
    ap.add_argument("--json", type=Path, help="write the rows here")
    ap.add_argument("--keys", type=Path, help="reuse the key sizes of an earlier --json (re-estimate only)")
    args = ap.parse_args(argv)
    paths = args.experiments or sorted((REPO / "experiments").glob("*.toml"))
    if args.plans_only:
        for p in paths:
            _, _, plan = plan_of(p)
            print(json.dumps({"experiment": p.stem, "batch": plan.batch, "cuts": list(plan.cuts)}), flush=True)
        return 0
    rows: list[dict] = []
    known = {r["function"]: r["key"] for r in json.loads(args.keys.read_text())} if args.keys else None
    for p in paths:
        t0 = time.time()
        got = measure(p, known)
        rows += got
        print(f"{p.stem}: {len(got)} function(s) in {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1) + "\n")
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
