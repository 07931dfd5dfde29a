#!/usr/bin/env python3
"""Measure the two instruction patterns packed inputs rely on (docs/performance.md).

Run by hand (not in tests; one key synthesis per point, 2-4 s each)::

    PYTHONPATH=. .venv/bin/python scripts/measure_packing.py [--write]

1. Unpacking: reading value k back from a private u128 word as `shr` by a constant, `and`
   with a constant mask and a `cast` to the value's type costs no constraint (a circuit
   integer is its bits: the shift re-indexes them, the mask zeroes some with constants, and
   the narrowing cast then checks constant-zero bits). Measured as 8 extractions of 16 bits
   against the same function reading none; the estimator prices the pattern at 0
   (costs.py `_masked_width`).
2. `assert.eq` of a field variable to a constant: the threshold-bit tree inputs check their
   bits with one such assertion (workbench/leo/thresholds.py). Measured on 8 assertions;
   with --write the per-assertion cost goes into workbench/snarkvm/costs.json as
   `ops["assert.eq"]["field/vc"]` (the estimator otherwise costs it like `is.eq`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

N = 8
_counter = [0]


def constraints(body: list[str], inputs: list[str]) -> int:
    """Constraints of a one-function program with these instruction lines (key synthesis)."""
    from aleo import mainnet as avm

    _counter[0] += 1
    source = f"program measure_pack{_counter[0]}.aleo;\n\nfunction main:\n" + "".join(f"    {line}\n" for line in body)
    process = avm.Process.load()
    program = avm.Program.from_source(source)
    process.add_program(program)
    name = avm.Identifier.from_string("main")
    auth = process.authorize(avm.PrivateKey.random(), program.id, name, [avm.Value.parse(v) for v in inputs])
    process.execute(auth)
    return int(process.get_verifying_key(program.id, name).num_constraints())


def _sum_and_output(regs: list[int], r: int) -> tuple[list[str], int]:
    """Multiply the registers together (so none is dead) and output the result."""
    lines, acc = [], regs[0]
    for reg in regs[1:]:
        lines.append(f"mul r{acc} r{reg} into r{r};")
        acc, r = r, r + 1
    return lines + [f"output r{acc} as field.public;"], r


def unpack_cost() -> float:
    """Constraints per value of shift + mask + cast, over N values of 16 bits."""
    body, r, fields = ["input r0 as u128.private;"], 1, []
    for i in range(N):
        body += [f"shr r0 {16 * i}u8 into r{r};", f"and r{r} 65535u128 into r{r + 1};",
                 f"cast r{r + 1} into r{r + 2} as u16;", f"cast r{r + 2} into r{r + 3} as field;"]
        fields.append(r + 3)
        r += 4
    tail, _ = _sum_and_output(fields, r)
    unpacked = constraints(body + tail, ["0u128"])
    # The same products of N fields that need no unpacking: the u128 as a field, N times.
    body, r, fields = ["input r0 as u128.private;"], 1, []
    for _ in range(N):
        body.append(f"cast r0 into r{r} as field;")
        fields.append(r)
        r += 1
    tail, _ = _sum_and_output(fields, r)
    return (unpacked - constraints(body + tail, ["0u128"])) / N


def assert_cost() -> float:
    """Constraints per `assert.eq <field var> 0field`, over N assertions."""
    def program(asserts: bool) -> list[str]:
        body, r = ["input r0 as field.private;", "input r1 as field.private;"], 2
        for i in range(N):
            body.append(f"mul r0 r1 into r{r};")
            if asserts:
                body.append(f"assert.eq r{r} 0field;")
            r += 1
        return body + [f"output r{r - 1} as field.public;"]

    return (constraints(program(True), ["0field", "0field"]) - constraints(program(False), ["0field", "0field"])) / N


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write assert.eq field/vc into workbench/snarkvm/costs.json")
    args = ap.parse_args(argv)
    unpack = unpack_cost()
    print(f"unpack (shr + and + cast) per value: {unpack:g} constraints", flush=True)
    per_assert = assert_cost()
    print(f"assert.eq field var, constant: {per_assert:g} constraints", flush=True)
    if args.write:
        path = REPO / "workbench" / "snarkvm" / "costs.json"
        data = json.loads(path.read_text())
        data["ops"].setdefault("assert.eq", {})["field/vc"] = per_assert
        path.write_text(json.dumps(data, indent=1) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
