#!/usr/bin/env python3
"""Measure `hash.psd8.raw` on structs of integers (the handoff commitments of linked
models) in every size of the circuit, and fit the estimator's model for it.

Run by hand (not in tests; two key syntheses per struct, about 4 s each)::

    PYTHONPATH=. .venv/bin/python scripts/measure_raw_hash.py [--write]

Each struct is hashed by one function taking it as a public input, next to a base
function with the same input that only casts a member to a field: the difference of the
verifying keys' six sizes is the hash's cost. The fit is `fixed + perms x a + bits x b`
per size, with `perms = ceil((fields + 8) / 8)` (`fields`: the value bits packed 252 to a
field element; Poseidon8's raw form pays a whole block more than its value, measured: one
field already takes two permutations, ten take three). With --write the model goes into
workbench/snarkvm/costs.json under `hash.raw_model` (read by workbench/snarkvm/costs.py).
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
from workbench.snarkvm.costs import RAW_PSD_EXTRA, hash_input_size, parse_type  # noqa: E402

# (name, struct members as (name, type, length or 0)); salts are u128 as in the links.
STRUCTS = [
    ("u128_u8", [("salt", "u128", 0), ("pad", "u8", 0)]),
    ("u32x4_u128", [("values", "u32", 4), ("salt", "u128", 0)]),
    ("u32x7_u128", [("values", "u32", 7), ("salt", "u128", 0)]),
    ("u32x10_u128", [("values", "u32", 10), ("salt", "u128", 0)]),
    ("u16x4_u32x10_u128", [("x", "u16", 4), ("values", "u32", 10), ("salt", "u128", 0)]),
    ("u32x30_u128", [("values", "u32", 30), ("salt", "u128", 0)]),
    ("u32x40_u128", [("values", "u32", 40), ("salt", "u128", 0)]),
    ("u32x70_u128", [("values", "u32", 70), ("salt", "u128", 0)]),
]


def _literal(members: list[tuple[str, str, int]]) -> str:
    def one(t: str, n: int) -> str:
        return f"{n % 200 + 1}{t}"

    parts = []
    for name, t, length in members:
        value = "[" + ", ".join(one(t, i) for i in range(length)) + "]" if length else one(t, 7)
        parts.append(f"{name}: {value}")
    return "{ " + ", ".join(parts) + " }"


def _program(tag: str, members: list[tuple[str, str, int]], hashed: bool) -> str:
    decl = "\n".join(f"    {n} as " + (f"[{t}; {k}u32]" if k else t) + ";" for n, t, k in members)
    body = ("    hash.psd8.raw r0 into r1 as field;" if hashed else f"    cast r0.{members[-1][0]} into r1 as field;")
    return (f"program rawhash_{tag}_{int(hashed)}.aleo;\n\nstruct S:\n{decl}\n\nfunction main:\n"
            f"    input r0 as S.public;\n{body}\n    output r1 as field.public;\n")


def measure() -> list[dict]:
    """One row per struct: its sizes (bits, fields, perms) and the hash's cost per size."""
    from workbench.snarkvm.process import SnarkVMProcess

    rows = []
    for tag, members in STRUCTS:
        shapes = []
        for hashed in (False, True):
            vm = SnarkVMProcess([_program(tag, members, hashed)], "main")
            vm.execute([_literal(members)])
            shapes.append(vm.shape(vm.functions()[0][0], "main").as_dict())
        structs = {"S": [(n, parse_type(f"[{t}; {k}u32]" if k else t)) for n, t, k in members]}
        size = hash_input_size("S", structs, raw=True)
        perms = -(-(size.fields + RAW_PSD_EXTRA) // 8)
        cost = {q: shapes[1][q] - shapes[0][q] for q in shapes[0]}
        rows.append({"struct": tag, "bits": size.value_bits, "fields": size.fields, "perms": perms, "cost": cost})
        print(f"{tag:22s} bits {size.value_bits:5d} fields {size.fields:2d} perms {perms}  {cost}", flush=True)
    return rows


def fit(rows: list[dict]) -> dict[str, dict]:
    """Least squares per size: fixed + perms x a + value_bits x b."""
    X = np.array([[1.0, r["perms"], r["bits"]] for r in rows])
    model = {}
    for q in (field_name(q) for q in Quantity):
        y = np.array([float(r["cost"][q]) for r in rows])
        coef, *_ = np.linalg.lstsq(X, y, rcond=None)
        model[q] = {"fixed": round(float(coef[0]), 3),
                          "per": {"perms": round(float(coef[1]), 3), "value_bits": round(float(coef[2]), 4)}}
        worst = max(abs(float(X[i] @ coef) - y[i]) for i in range(len(rows)))
        print(f"{q:14s} {model[q]}  worst error {worst:.0f}")
    return model


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write the model into workbench/snarkvm/costs.json")
    args = ap.parse_args(argv)
    rows = measure()
    model = fit(rows)
    if args.write:
        path = REPO / "workbench" / "snarkvm" / "costs.json"
        data = json.loads(path.read_text())
        data.setdefault("hash", {})["raw_model"] = {
            "hash.psd8": {"measured": len(rows), "generated": _dt.date.today().isoformat(),
                          "perm_extra": RAW_PSD_EXTRA, "sizes": model, "rows": rows},
        }
        path.write_text(json.dumps(data, indent=1) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
