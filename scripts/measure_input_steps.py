#!/usr/bin/env python3
"""Measure what a private array input costs in every size of the circuit, and fit the
estimator's staircase model for it.

Run by hand (not in tests; one key synthesis per point, 2-4 s each)::

    PYTHONPATH=. .venv/bin/python scripts/measure_input_steps.py [--write]

snarkVM encrypts a private input's plaintext field elements (one Poseidon8 call for the
randomizers) and commits to the ciphertext (another): each call takes one more
permutation per eight field elements (`to_fields`, the value bits with their type
metadata packed 252 to a field element; `costs.hash_input_size`). So the cost is a
staircase, not a line: measured on `[u8; n]`, 9 constraints per element and about 1,030
more at 9, 17 and 25 field elements (n = 40, 80, 150). A line through all lengths
(costs.json `overhead.input`) is off by up to a step, which is what refused plans at key
synthesis. Model, per size: `fixed + element[T] x elements + step x (ceil(fields / 8) - 1)`,
`fixed` and `step` from the `[u8; n]` staircase, `element[T]` per type from two lengths
within the first step. With --write the model goes into workbench/snarkvm/costs.json under
`private_array_input` (read by `_CostModel.io_cost`).

Each point is one function taking the array privately, casting its first element to a
field and outputting it publicly; the same function on `[u8; 1]` less the model's
fixed part is the base every point is measured from.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from workbench.limits import Quantity, field_name  # noqa: E402
from workbench.snarkvm.costs import hash_input_size  # noqa: E402

STAIRCASE = [1, 10, 20, 30, 35, 40, 45, 50, 60, 70, 80, 100, 120, 150]
TYPES = {"boolean": (4, 12), "i8": (4, 16), "u16": (4, 12), "i16": (4, 12), "u32": (2, 8), "i32": (2, 8),
         "u64": (2, 5), "i64": (2, 5), "u128": (1, 3), "i128": (1, 3), "field": (1, 3)}


def _literal(t: str, i: int) -> str:
    if t == "boolean":
        return "true" if i % 2 else "false"
    return f"{i % 100 + 1}{t}"


def measure_point(t: str, n: int) -> dict[str, int]:
    """The six sizes of the probe function on a private `[t; n]`."""
    from workbench.snarkvm.process import SnarkVMProcess

    cast = "    cast r0[0u32] into r1 as field;\n" if t not in ("field", "boolean") else (
        "    add r0[0u32] 1field into r1;\n" if t == "field" else "    ternary r0[0u32] 1field 0field into r1;\n")
    src = (f"program inputstep_{t}_{n}.aleo;\n\nfunction main:\n    input r0 as [{t}; {n}u32].private;\n"
           f"{cast}    output r1 as field.public;\n")
    vm = SnarkVMProcess([src], "main")
    vm.execute(["[" + ", ".join(_literal(t, i) for i in range(n)) + "]"])
    return vm.shape(*vm.functions()[0]).as_dict()


def _steps(t: str, n: int) -> int:
    return -(-hash_input_size(f"[{t}; {n}u32]", {}).fields // 8) - 1


def fit(stairs: dict[int, dict[str, int]], types: dict[str, dict[int, dict[str, int]]]) -> dict[str, dict]:
    """Per size: fixed (above the probe's base, which the estimator charges apart), step, element per type."""
    out: dict[str, dict] = {}
    for q in (field_name(q) for q in Quantity):
        X = np.array([[1.0, n, _steps("u8", n)] for n in stairs])
        y = np.array([float(stairs[n][q]) for n in stairs])
        (base, per_u8, step), *_ = np.linalg.lstsq(X, y, rcond=None)
        worst = max(abs(float(X[i] @ [base, per_u8, step]) - y[i]) for i in range(len(y)))
        element = {"u8": round(float(per_u8), 3)}
        for t, points in types.items():
            (a, b) = sorted(points)
            element[t] = round((points[b][q] - points[a][q]) / (b - a), 3)  # same step count at both
        out[q] = {"base": round(float(base), 1), "step": round(float(step), 1), "element": element,
                  "worst_u8_error": round(worst, 1)}
        print(f"{q:14s} base {base:9.1f} step {step:8.1f} per u8 {per_u8:6.2f} worst {worst:5.1f}  {element}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write the model into workbench/snarkvm/costs.json")
    args = ap.parse_args(argv)
    stairs = {}
    for n in STAIRCASE:
        stairs[n] = measure_point("u8", n)
        print("u8", n, _steps("u8", n), stairs[n], flush=True)
    types: dict[str, dict[int, dict[str, int]]] = {}
    for t, lengths in TYPES.items():
        types[t] = {}
        for n in lengths:
            assert _steps(t, n) == _steps(t, lengths[0]), (t, n)  # both within one step
            types[t][n] = measure_point(t, n)
            print(t, n, types[t][n], flush=True)
    model = fit(stairs, types)
    if args.write:
        path = REPO / "workbench" / "snarkvm" / "costs.json"
        data = json.loads(path.read_text())
        data["private_array_input"] = {"generated": _dt.date.today().isoformat(), "sizes": model,
                                       "probe": "input [T; n].private; cast r0[0] to field; output public",
                                       "staircase_u8": {str(n): s for n, s in stairs.items()}}
        path.write_text(json.dumps(data, indent=1) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
