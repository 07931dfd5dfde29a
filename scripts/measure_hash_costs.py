#!/usr/bin/env python3
"""Measure the constraint cost of snarkVM's hash and commit instructions; fit a cost model.

Run by hand (not in tests)::

    PYTHONPATH=. .venv/bin/python scripts/measure_hash_costs.py [--jobs 2] [--write]

Each measurement is one Aleo function that hashes (or commits to) one value built from its
input, next to a base function with the same input and no hash: the difference is the
cost of the instruction (see `_value_fn`). Only circuits under the offline setup's budget
(about 16.2k constraints, of which about 10.3k to 11.8k are the base) can be measured;
the fit extrapolates. Those that do not fit are cached as such and not retried. Key
synthesis (4-30 s per function) goes through the workers of scripts/measure_costs.py and
its result cache.

The model (see docs/cost-model.md and `fit`): snarkVM hashes a value's `to_bits_le` (BHP,
Pedersen) or its `to_fields` (Poseidon), which include type metadata; Poseidon costs per
permutation and BHP per hasher iteration, and both per field-like leaf (decomposed into
bits first). With --write the fitted model goes into workbench/snarkvm/costs.json under
"hash".
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import multiprocessing as mp
import os
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import measure_costs as mc  # noqa: E402  (the shared synthesis worker and cache)

sys.path.insert(0, str(mc.REPO))
from workbench.snarkvm.costs import hash_input_size, hash_regressors, parse_type  # noqa: E402

STRUCT = "struct Pair:\n    a as [field; 4u32];\n    b as [u32; 4u32];\n"
STRUCT_FIELDS = [("a", "field", 4), ("b", "u32", 4)]  # the members of Pair


def _value_fn(ty: str, n: int, op: str | None, salt: bool = False) -> tuple[mc.Fn, str]:
    """(the function, the Aleo type of the hashed value).

    The function hashes `[ty; n]` (`n` 0: a `ty`; `ty` "Pair": the struct) built from one
    public input of type `ty` (public inputs are the cheapest: the offline setup leaves
    about 6k constraints beside a transition's fixed cost). The values must be variables
    whose bits are not known to the circuit yet, as computed values are: a field widened
    from an integer keeps that integer's bits and hashes far cheaper, and an integer
    widened from a narrower one has constant high bits. So an integer array repeats the
    input (each copy is hashed bit by bit anyway: a circuit shares no work between equal
    operands) and a field array holds `x + i` (free: linear combinations). `op` None is
    the base; `salt` adds a public scalar input (a commitment's randomness).
    """
    f = mc.Fn()
    if ty == "Pair":
        x, y = f.inp("field", "public"), f.inp("u32", "public")
    else:
        x = f.inp(ty, "public")
    r_salt = None
    if salt:  # inputs come first: registers are numbered inputs, then instructions
        r_salt = f.inp("scalar", "public")
        f.args[-1] = "12345scalar"

    def fields(k: int) -> list[str]:
        return [f.ins("add", x, f"{i + 1}field") for i in range(k)]

    if ty == "Pair":
        a = f.ins("cast", *fields(4), suffix=" as [field; 4u32]")
        b = f.ins("cast", *[y] * 4, suffix=" as [u32; 4u32]")
        value, vtype = f.ins("cast", a, b, suffix=" as Pair"), "Pair"
    elif n == 0:
        value, vtype = (fields(1)[0] if ty == "field" else x), ty
    else:
        vtype = f"[{ty}; {n}u32]"
        value = f.ins("cast", *(fields(n) if ty == "field" else [x] * n), suffix=f" as {vtype}")
    if op is not None:
        operands = (value, r_salt) if r_salt else (value,)
        f.ins(op, *operands, suffix=" as field")
    return f, vtype


def plan() -> dict[str, tuple[mc.Fn, str]]:
    """key `op/<opcode>/<value type>` or `base/<value type>[/salt]` -> (function, value type)."""
    out: dict[str, tuple[mc.Fn, str]] = {}

    def add(ty: str, sizes: tuple[int, ...], ops: tuple[str, ...]) -> None:
        for n in sizes:
            base, vtype = _value_fn(ty, n, None)
            out[f"base/{vtype}"] = (base, vtype)
            if any(o.startswith("commit.") for o in ops):
                # The salt input is part of the base of a commitment.
                out[f"base/{vtype}/salt"] = (_value_fn(ty, n, None, salt=True)[0], vtype)
            for op in ops:
                out[f"op/{op}/{vtype}"] = (_value_fn(ty, n, op, salt=op.startswith("commit."))[0], vtype)

    # Sizes stop where the offline setup does (bigger ones are extrapolated by the fit).
    add("field", (0, 1, 2), ("hash.bhp256", "commit.bhp256"))
    add("field", (0, 2, 4, 8), ("hash.psd2", "hash.psd4", "hash.psd8"))
    add("field", (16,), ("hash.psd8",))
    add("u32", (4, 16), ("hash.bhp256", "hash.psd2", "hash.psd8"))
    add("u32", (32,), ("hash.psd8",))
    add("u32", (1,), ("commit.bhp256",))
    add("i32", (8,), ("hash.psd2",))
    add("u64", (8,), ("hash.psd2", "hash.bhp256"))
    add("u32", (0,), ("commit.ped64", "hash.ped64"))
    add("u64", (0,), ("commit.ped128",))
    add("field", (0,), ("commit.bhp512",))
    add("Pair", (0,), ("hash.psd2", "hash.bhp256"))
    return out


def run(entries: dict[str, tuple[mc.Fn, str]], jobs: int, cache: dict[str, int], sdk: str,
        save) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Synthesize what the cache lacks (one function per program, struct declared in each)."""
    counts: dict[str, int] = {}
    todo = []
    for key, (f, _) in entries.items():
        h = mc.fn_hash(f, sdk, "hash")
        if h in cache:
            if cache[h] >= 0:  # -1: over the offline setup, known from an earlier run
                counts[key] = cache[h]
        else:
            todo.append((key, f))
    if not todo:
        return counts
    stamp = int(time.time()) % 100000
    programs, keymap = [], {}
    for i, (key, f) in enumerate(todo):
        pname = f"h{stamp}_{i}.aleo"
        src = f"program {pname};\n\n{STRUCT}\n{f.text('f')}\nconstructor:\n    assert.eq edition 0u16;\n"
        programs.append((pname, src, [("f", f.args)]))
        keymap[pname] = (key, f)
    per_worker: list[list] = [[] for _ in range(max(1, jobs))]
    for i, p in enumerate(programs):
        per_worker[i % len(per_worker)].append(p)
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=mc._worker, args=(w, q)) for w in per_worker if w]
    for p in procs:
        p.start()
    alive, done, t0 = len(procs), 0, time.time()
    while alive:
        msg = q.get()
        if msg is None:
            alive -= 1
            continue
        pname, _, n, err, dt = msg
        key, f = keymap[pname]
        done += 1
        if n is None:
            print(f"  [{done}/{len(todo)}] {key}: FAILED ({err})", flush=True)
            if "ureq" in str(err) or "powers" in str(err):
                cache[mc.fn_hash(f, sdk, "hash")] = -1  # needs the 2^17 setup: do not retry
                save()
            continue
        counts[key] = n
        cache[mc.fn_hash(f, sdk, "hash")] = n
        save()
        print(f"  [{done}/{len(todo)}] {key}: {n} ({dt:.1f}s, {time.time() - t0:.0f}s)", flush=True)
    for p in procs:
        p.join()
    return counts


def costs(entries: dict[str, tuple[mc.Fn, str]], counts: dict[str, int]) -> list[dict]:
    """One row per measured op: its cost over the base and the sizes of the hashed value."""
    structs = {"Pair": [(name, parse_type(f"[{t}; {n}u32]")) for name, t, n in STRUCT_FIELDS]}
    rows = []
    for key, (_, vtype) in entries.items():
        if not key.startswith("op/") or key not in counts:
            continue
        op = key.split("/")[1]
        base = counts.get(f"base/{vtype}/salt" if op.startswith("commit.") else f"base/{vtype}")
        if base is None:
            continue
        size = hash_input_size(vtype, structs)
        rows.append({"op": op, "value": vtype, "cost": counts[key] - base, **hash_regressors(op, size)})
    return rows


def _lstsq(rs: list[dict], names: list[str]) -> dict:
    """fixed + per[name] * row[name] by least squares."""
    a = np.array([[1.0] + [float(r[n]) for n in names] for r in rs])
    sol, *_ = np.linalg.lstsq(a, np.array([r["cost"] for r in rs], dtype=float), rcond=None)
    return {"fixed": round(float(sol[0]), 1), "per": {n: round(float(v), 3) for n, v in zip(names, sol[1:])},
            "measured": len(rs)}


def fit(rows: list[dict]) -> dict[str, dict]:
    """The hash model of costs.json (see `workbench.snarkvm.costs._CostModel.hash_cost`).

    Poseidon: fixed + per permutation (ceil(fields / rate)) + per field-like leaf (its bit
    decomposition). BHP hash: fixed + per hasher iteration (ceil(bits / block)) + per
    field-like leaf + per integer value bit. A
    commitment: its hash plus a fixed extra (the randomizer), when the hash was fitted.
    An op measured on one value only: that cost, fixed.
    """
    model: dict[str, dict] = {}
    ops = sorted({r["op"] for r in rows}, key=lambda o: o.startswith("commit."))  # hashes first
    for op in ops:
        rs = [r for r in rows if r["op"] == op]
        hash_op = "hash." + op.split(".", 1)[1]
        if op.startswith("hash.psd") and len(rs) >= 3:
            model[op] = _lstsq(rs, ["perms", "field_leaves"])
        elif op.startswith("hash.bhp") and len({(r["iterations"], r["field_leaves"], r["value_bits"]) for r in rs}) >= 4:
            model[op] = _lstsq(rs, ["iterations", "field_leaves", "value_bits"])
        elif op.startswith("commit.") and hash_op in model:
            extra = [r["cost"] - predict(model, hash_op, r) for r in rs]
            model[op] = {"like": hash_op, "extra": round(float(np.mean(extra)), 1), "measured": len(rs)}
        else:
            model[op] = {"fixed": float(np.mean([r["cost"] for r in rs])), "per": {}, "measured": len(rs),
                         "note": f"measured on {', '.join(r['value'] for r in rs)} only"}
    return model


def predict(model: dict[str, dict], op: str, r: dict) -> float:
    """The model's cost for a measured row (same rule as costs.py)."""
    m = model[op]
    if "like" in m:
        return predict(model, m["like"], r) + m["extra"]
    return m["fixed"] + sum(coef * r[n] for n, coef in m["per"].items())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=mc.DEFAULT_CACHE)
    ap.add_argument("--write", action="store_true", help="put the model into costs.json")
    ap.add_argument("--rows", type=Path, help="also write the measured rows (JSON) here")
    args = ap.parse_args(argv)
    sdk = metadata.version("aleo-sdk")
    cache: dict[str, int] = json.loads(args.cache.read_text()) if args.cache.is_file() else {}

    def save() -> None:
        # Merge with the file (measure_costs.py shares it) and replace it atomically.
        args.cache.parent.mkdir(parents=True, exist_ok=True)
        disk = json.loads(args.cache.read_text()) if args.cache.is_file() else {}
        disk.update(cache)
        tmp = args.cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(disk, indent=0, sort_keys=True))
        os.replace(tmp, args.cache)

    entries = plan()
    print(f"{len(entries)} functions ({sdk})", flush=True)
    counts = run(entries, args.jobs, cache, sdk, save)
    rows = costs(entries, counts)
    model = fit(rows)
    for r in rows:
        r["predicted"] = round(predict(model, r["op"], r))
        r["error_pct"] = round(100 * (r["predicted"] - r["cost"]) / r["cost"], 1) if r["cost"] else None
        print(f"{r['op']:15} {r['value']:16} bits {r['bits']:5} fields {r['fields']:3} cost {r['cost']:6} "
              f"predicted {r['predicted']:6} ({r['error_pct']}%)")
    print(json.dumps(model, indent=1))
    if args.rows:
        args.rows.write_text(json.dumps({"rows": rows, "raw": counts}, indent=1))
    if args.write:
        doc = json.loads(mc.OUT.read_text())
        failed = sorted(k for k in entries if k.startswith("op/") and k not in counts)
        doc["hash"] = {"aleo_sdk": sdk, "generated": _dt.date.today().isoformat(), "model": model,
                       "measured": [{k: r[k] for k in ("op", "value", "cost", "predicted")} for r in rows],
                       "over_offline_setup": failed}
        mc.OUT.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")
        print(f"wrote the hash model into {mc.OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
