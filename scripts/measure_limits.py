#!/usr/bin/env python3
"""Measure which circuit size the shipped degree-2^16 setup bounds, and where.

Run by hand (not in tests; about 20 key syntheses, 5 s each on an idle machine: 92 s in all)::

    PYTHONPATH=. .venv/bin/python scripts/measure_limits.py --write    # all families, into costs.json
    PYTHONPATH=. .venv/bin/python scripts/measure_limits.py --family nnz_b

Each probe is a generated Aleo function whose keys are synthesized (a first execute);
the six sizes are read from its verifying key (`workbench.limits.shape_from_verifying_key`).
A probe the setup refuses has no key: snarkVM asks for a larger setup (it tries to
download `powers-of-beta-17` and fails offline), which is recorded as a refusal. Each
family pushes one size with one integer knob N, monotone in N; the boundary is bisected
to N (accepted) / N + 1 (refused), and the sizes of the refused probe are extrapolated
from the accepted ones (each family grows its sizes linearly in N, checked on the
accepted probes).

Families, all on a private `[field; 2]` input (12,085 constraints with no instruction):

* ``mul``: N chained field var*var multiplications: +1 constraint and +1 variable each.
  Its variables stay 13 above its constraints, so whichever of the two is bounded shows.
* ``assert``: N `assert.eq` of the two input elements: +1 constraint each and no new
  variable, so constraints run ahead of variables.
* ``nnz_b``: 256 products summed into one linear combination (free in R1CS), then
  multiplications `(x + j) * sum`: each puts 256 non-zeros into B for one constraint.
  N is the number of extra B entries (N // 256 full multiplications and one over a
  partial sum of N % 256 products), so non-zeros of B grow by one per step of N.

Writes the probes and boundaries into `setup_limits` of workbench/snarkvm/costs.json
(with --write) and prints a summary; docs/cost-model.md quotes it.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
import time
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from workbench.limits import CircuitShape, Quantity, field_name, setup_limits, shape_from_verifying_key  # noqa: E402

COSTS = REPO / "workbench" / "snarkvm" / "costs.json"
LC_TERMS = 256  # products in the long linear combination of the nnz_b family


def _program(name: str, body: list[str]) -> str:
    lines = [f"program {name};", "", "function main:", "    input r0 as [field; 2u32].private;"]
    lines += [f"    {b}" for b in body]
    return "\n".join(lines) + "\n\nconstructor:\n    assert.eq edition 0u16;\n"


def body_mul(n: int) -> list[str]:
    """n chained var*var field multiplications (1 constraint, 1 variable each)."""
    out, prev = [], "r0[0u32]"
    for i in range(n):
        out.append(f"mul {prev} r0[1u32] into r{i + 1};")
        prev = f"r{i + 1}"
    return out


def body_assert(n: int) -> list[str]:
    """n equality assertions of the two (equal) inputs: 1 constraint each, no variable."""
    return ["assert.eq r0[0u32] r0[1u32];"] * n


def body_nnz_b(n: int) -> list[str]:
    """n extra non-zeros in B: products summed into linear combinations, then multiplied."""
    out: list[str] = []
    reg = 1

    def new() -> str:
        nonlocal reg
        reg += 1
        return f"r{reg - 1}"

    prods = []
    for i in range(1, LC_TERMS + 1):
        a, b, p = new(), new(), new()
        out += [f"add r0[0u32] {i}field into {a};", f"add r0[1u32] {2 * i}field into {b};", f"mul {a} {b} into {p};"]
        prods.append(p)
    prefix = [prods[0]]  # prefix[t - 1] = p_1 + ... + p_t, a linear combination (free)
    for p in prods[1:]:
        s = new()
        out.append(f"add {prefix[-1]} {p} into {s};")
        prefix.append(s)
    full, part = divmod(n, LC_TERMS)
    terms = [LC_TERMS] * full + ([part] if part else [])
    for j, t in enumerate(terms):
        e, q = new(), new()
        # A gets (x + j): 2 entries; B the sum of t products: t entries; C the product.
        out += [f"add r0[0u32] {j + 1}field into {e};", f"mul {e} {prefix[t - 1]} into {q};"]
    return out


FAMILIES = {"mul": body_mul, "assert": body_assert, "nnz_b": body_nnz_b}
ARGS = {"mul": "[3field, 5field]", "assert": "[3field, 3field]", "nnz_b": "[3field, 5field]"}
# The size each family pushes (its slope per step of N is checked on the accepted probes).
PUSHES = {"mul": (Quantity.CONSTRAINTS, Quantity.VARIABLES), "assert": (Quantity.CONSTRAINTS,),
          "nnz_b": (Quantity.NONZERO_B,)}


class Prober:
    """One snarkVM process; each probe adds a fresh program and synthesizes its keys."""

    def __init__(self) -> None:
        from workbench.snarkvm import params

        params.ensure_installed()
        from aleo import mainnet as avm

        self.avm = avm
        self.process = avm.Process.load()
        self.key = avm.PrivateKey.random()
        self.count = 0
        self.stamp = int(time.time()) % 100000
        self.log: list[dict] = []

    def probe(self, family: str, n: int) -> CircuitShape | None:
        """The probe's sizes, or None if the setup refused it (needs a larger setup)."""
        from workbench.snarkvm.process import _needs_larger_setup

        avm = self.avm
        self.count += 1
        name = f"lim{self.stamp}_{self.count}.aleo"
        prog = avm.Program.from_source(_program(name, FAMILIES[family](n)))
        self.process.add_program(prog)
        ident = avm.Identifier.from_string("main")
        t0 = time.time()
        try:
            auth = self.process.authorize(self.key, prog.id, ident, [avm.Value.parse(ARGS[family])])
            self.process.execute(auth)
        except BaseException as exc:  # noqa: BLE001 - pyo3 panics derive from BaseException
            if isinstance(exc, KeyboardInterrupt):
                raise
            msg = str(exc).splitlines()[0][:200]
            if not _needs_larger_setup(str(exc)):
                raise RuntimeError(f"{family}/{n}: unexpected failure: {msg}") from None
            self.log.append({"family": family, "n": n, "accepted": False, "message": msg,
                             "seconds": round(time.time() - t0, 1)})
            print(f"  {family} N={n}: refused ({time.time() - t0:.1f}s): {msg[:90]}", flush=True)
            return None
        shape = shape_from_verifying_key(bytes(self.process.get_verifying_key(prog.id, ident).bytes()))
        self.log.append({"family": family, "n": n, "accepted": True, "shape": shape.as_dict(),
                         "seconds": round(time.time() - t0, 1)})
        print(f"  {family} N={n}: accepted ({time.time() - t0:.1f}s) {shape.as_dict()}", flush=True)
        return shape


def _lerp(a: CircuitShape, na: int, b: CircuitShape, nb: int, n: int) -> dict[str, float]:
    da, db = a.as_dict(), b.as_dict()
    return {k: da[k] + (db[k] - da[k]) * (n - na) / (nb - na) for k in da}


def boundary(prober: Prober, family: str, degree: int = 16) -> dict:
    """Bisect N to accepted/refused neighbours, starting near the rule's prediction."""
    s0 = prober.probe(family, 0)
    n1 = 64 if family != "nnz_b" else 4 * LC_TERMS
    s1 = prober.probe(family, n1)
    assert s0 is not None and s1 is not None, "the small probes must fit"
    slopes = {k: (s1.as_dict()[k] - s0.as_dict()[k]) / n1 for k in s0.as_dict()}
    # Predict the first refused N from the rule in workbench/limits.py, then check around it.
    limits = setup_limits(degree)
    guesses = []
    for q, m in limits.maxima:
        slope = slopes[field_name(q)]
        if slope > 0:
            guesses.append(int((m - s0.get(q)) // slope) + 1)
    guess = min(guesses)
    lo, hi = guess - 2, guess + 1  # expect lo accepted, hi refused
    ok: dict[int, CircuitShape] = {0: s0, n1: s1}
    while (s := prober.probe(family, lo)) is None:
        hi, lo = lo, max(0, lo - 2 * (guess - lo + 1))
    ok[lo] = s
    while prober.probe(family, hi) is not None:
        lo, hi = hi, hi + 2 * (hi - guess + 1)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        s = prober.probe(family, mid)
        if s is None:
            hi = mid
        else:
            ok[mid] = s
            lo = mid
    last = ok[lo]
    # The refused probe has no key: its sizes extrapolate the last accepted one by the
    # family's per-step growth (measured between two accepted probes).
    ref_n = max(k for k in ok if k < lo) if len(ok) > 1 else 0
    step = _lerp(ok[ref_n], ref_n, last, lo, hi)
    return {
        "family": family,
        "largest_accepted_n": lo,
        "smallest_refused_n": hi,
        "accepted_shape": last.as_dict(),
        "refused_shape_extrapolated": {k: round(v) for k, v in step.items()},
        "growth_per_step": {k: round(v, 4) for k, v in slopes.items()},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--family", choices=sorted(FAMILIES), action="append",
                    help="measure only this family (repeatable; default all)")
    ap.add_argument("--write", action="store_true", help="merge the results into costs.json (setup_limits)")
    args = ap.parse_args(argv)
    prober = Prober()
    t0 = time.time()
    results = []
    for family in args.family or list(FAMILIES):
        print(f"{family}:", flush=True)
        r = boundary(prober, family)
        print(json.dumps(r), flush=True)
        results.append(r)
    elapsed = time.time() - t0
    print(f"{prober.count} syntheses in {elapsed:.0f}s", flush=True)
    if args.write:
        doc = json.loads(COSTS.read_text())
        doc["setup_limits"] = {
            "generated": _dt.date.today().isoformat(),
            "aleo_sdk": metadata.version("aleo-sdk"),
            "degree": 16,
            "command": "PYTHONPATH=. python scripts/measure_limits.py --write",
            "runtime_seconds": round(elapsed),
            "boundaries": results,
            "probes": prober.log,
        }
        COSTS.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")
        print(f"wrote setup_limits into {COSTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
