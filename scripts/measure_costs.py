#!/usr/bin/env python3
"""Measure snarkVM constraint costs of Aleo functions and write workbench/snarkvm/costs.json.

Run by hand (not in tests), e.g.::

    /tmp/venv/bin/python scripts/measure_costs.py            # uses the result cache
    /tmp/venv/bin/python scripts/measure_costs.py --no-cache --jobs 2
    /tmp/venv/bin/python scripts/measure_costs.py --shapes   # the other five key sizes (costs.json `shapes`)

How: every measurement is a small generated Aleo function. Its keys are synthesized by a
first `Process.execute` and `VerifyingKey.num_constraints()` is read. A per-operation cost
is `(total - base) / M` where the function does M independent instances of the op on
distinct input elements (so nothing folds to a constant) and `base` is the same function
without the ops. Input/output overhead is measured by functions that only take inputs
(and optionally return one of them) and is fitted to `fixed + per-element` per type and
visibility.

Constraint counts are deterministic; only the runtime depends on machine load. Results
are cached per function text and aleo-sdk version (see --cache), so an interrupted run
resumes where it stopped.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import multiprocessing as mp
import os
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable

import numpy as np

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "workbench" / "snarkvm" / "costs.json"
DEFAULT_CACHE = Path.home() / ".cache" / "zkml-workbench" / "cost-measurements.json"

INTS = ["i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64"]
SIGNED = ["i8", "i16", "i32", "i64"]
NUMERIC = INTS + ["field"]
ALL_TYPES = NUMERIC + ["boolean"]
M = 8  # instances per op function; inputs are [T; 2M] so each instance has its own operands
FUNCS_PER_PROGRAM = 6  # several functions per program saves program setup; checked below


def lit(ty: str, v: int) -> str:
    """An Aleo literal of type `ty` for the small integer `v`."""
    if ty == "boolean":
        return "true" if v % 2 else "false"
    return f"{v}{ty}"


def arr_value(ty: str, dims: list[int], start: int = 1) -> str:
    """An array literal; element i of a flat [T; n] holds a value chosen so ops never halt."""
    if len(dims) == 1:
        n = dims[0]
        # First half 8..15, second half 1..8: a-b >= 0, a*b <= 120 (fits i8), b != 0.
        vals = [(8 + i if i < n // 2 else 1 + i - n // 2) if n >= 2 else start for i in range(n)]
        return "[" + ", ".join(lit(ty, v) for v in vals) + "]"
    return "[" + ", ".join(arr_value(ty, dims[1:], start) for _ in range(dims[0])) + "]"


def type_str(ty: str, dims: list[int]) -> str:
    """Aleo type text for scalar (`dims == []`) or (nested) array types."""
    s = ty
    for d in reversed(dims):
        s = f"[{s}; {d}u32]"
    return s


@dataclass
class Fn:
    """Builder of one Aleo function body with registers numbered in order."""

    inputs: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    n: int = 0

    def inp(self, ty: str, vis: str, dims: list[int] | None = None) -> str:
        dims = dims or []
        r = f"r{self.n}"
        self.n += 1
        self.inputs.append(f"    input {r} as {type_str(ty, dims)}.{vis};")
        self.args.append(arr_value(ty, dims) if dims else lit(ty, 3))
        return r

    def ins(self, op: str, *operands: str, suffix: str = "") -> str:
        r = f"r{self.n}"
        self.n += 1
        self.body.append(f"    {op} {' '.join(operands)} into {r}{suffix};")
        return r

    def out(self, reg: str, tystr: str, vis: str) -> None:
        self.outputs.append(f"    output {reg} as {tystr}.{vis};")

    def text(self, name: str) -> str:
        return "\n".join([f"function {name}:", *self.inputs, *self.body, *self.outputs]) + "\n"


# ---------------------------------------------------------------------------------------
# The measurement plan


def overhead_plan() -> dict[str, Fn]:
    """Functions with only inputs (and outputs) whose counts fit the overhead model."""
    plan: dict[str, Fn] = {}
    plan["empty"] = Fn()
    cases: list[tuple[str, str, list[int]]] = []
    cases += [("private", ty, []) for ty in ALL_TYPES]
    cases += [("private", ty, [2 * M]) for ty in ALL_TYPES if ty != "field"]  # also op bases
    cases += [("private", "field", [2]), ("public", "field", [4])]
    cases += [("public", ty, []) for ty in ("i8", "i64", "u8", "field", "boolean")]
    cases += [("public", ty, [2 * M]) for ty in ("i8", "i16", "i64", "u8")]
    cases += [("private", "i16", [64]), ("private", "i16", [4, 4]), ("private", "u8", [4]),
              ("private", "field", [4]), ("public", "u8", [64])]
    for vis, ty, dims in cases:
        f = Fn()
        f.inp(ty, vis, dims)
        plan[f"in/{vis}/{ty}/{'x'.join(map(str, dims)) or 'scalar'}"] = f
    # Two inputs in one function: checks that input costs add up.
    f = Fn()
    f.inp("i16", "private", [16])
    f.inp("u8", "public")
    plan["in2/private/i16/16+public/u8/scalar"] = f
    # Outputs: return the input register itself; base is the same function without output.
    for ty, dims, vis in [("u8", [], "public"), ("u8", [], "private"), ("field", [], "public"),
                          ("u8", [4], "public"), ("field", [4], "public")]:
        f = Fn()
        r = f.inp(ty, "private", dims)
        f.out(r, type_str(ty, dims), vis)
        plan[f"out/{vis}/{ty}/{'x'.join(map(str, dims)) or 'scalar'}"] = f
    return plan


def _operands(f: Fn, ty: str) -> list[str]:
    """2M distinct variable operands of type `ty`.

    Integers: the elements of one private [T; 2M] input. Fields: a private [field; 16]
    input alone needs a 2^17 setup (about 1.8k constraints per element), so the operands
    are derived from a [field; 2] input by adding constants, which costs no constraints
    (the base function contains the same additions).
    """
    if ty != "field":
        r0 = f.inp(ty, "private", [2 * M])
        return [f"{r0}[{i}u32]" for i in range(2 * M)]
    r0 = f.inp("field", "private", [2])
    xs = [f.ins("add", f"{r0}[0u32]", f"{i}field") for i in range(M)]
    ys = [f.ins("add", f"{r0}[1u32]", f"{i}field") for i in range(M)]
    return xs + ys


def base_fn(ty: str) -> Fn:
    """The base of every op measurement on type `ty` (inputs and free derivations only)."""
    f = Fn()
    _operands(f, ty)
    return f


# Ops so dear that M = 8 instances overflow the 2^16 setup (field comparisons decompose
# both operands into bits): measured with fewer instances.
M_OVERRIDE = {"op/lt/field/vv": 2, "op/lt/field/vc": 2, "op/lte/field/vv": 2, "op/div/i64/vv": 2}


def _binop_fn(op: str, ty: str, mode: str, m: int = M) -> Fn:
    """m instances of `op` on 2M distinct variables; mode vv = var,var; vc = var,const."""
    f = Fn()
    xs = _operands(f, ty)
    for i in range(m):
        if mode == "vv":
            second = xs[i + M]
        elif op in ("shl", "shr"):
            second = "2u8"  # shift amounts are u8/u16/u32; models shift by constants
        else:
            second = lit(ty, 3 + i % 2)
        f.ins(op, xs[i], second)
    return f


def _unop_fn(op: str, ty: str) -> Fn:
    f = Fn()
    xs = _operands(f, ty)
    for i in range(M):
        f.ins(op, xs[i])
    return f


def _cast_fn(src: str, dst: str) -> Fn:
    f = Fn()
    xs = _operands(f, src)
    for i in range(M):
        f.ins("cast", xs[i], suffix=f" as {dst}")
    return f


def _ternary_fn(ty: str, mode: str | None) -> Fn:
    """Ternary on a bool-array condition; mode None is the base (no ternaries)."""
    f = Fn()
    if ty == "field":  # inputs precede the instructions that derive the field operands
        r1 = f.inp("boolean", "private", [M])
        xs = _operands(f, ty)
    else:
        xs = _operands(f, ty)
        r1 = f.inp("boolean", "private", [M])
    if mode is not None:
        for i in range(M):
            a = xs[i]
            b = xs[i + M]
            if mode == "vc":
                b = lit(ty, 5)
            elif mode == "cc":
                a, b = lit(ty, 1), lit(ty, 2)
            f.ins("ternary", f"{r1}[{i}u32]", a, b)
    return f


def op_plan() -> dict[str, Fn]:
    """Per-instruction measurements. Key: op/<opcode>/<type>/<mode>; bases are in/ keys.

    Every opcode is measured on a spread of types (narrow/wide, signed/unsigned, field);
    the estimator interpolates unmeasured types by bit width. The set is trimmed so the
    script finishes in roughly 10-20 minutes on two loaded cores.
    """
    plan: dict[str, Fn] = {}

    def add(op: str, types: tuple[str, ...] | list[str], mode: str) -> None:
        for ty in types:
            if op == "ternary":
                plan[f"op/ternary/{ty}/{mode}"] = _ternary_fn(ty, mode)
            elif mode == "v":
                plan[f"op/{op}/{ty}/v"] = _unop_fn(op, ty)
            else:
                key = f"op/{op}/{ty}/{mode}"
                plan[key] = _binop_fn(op, ty, mode, M_OVERRIDE.get(key, M))

    add("lt", ("i8", "i16", "i32", "i64", "u8", "u64", "field"), "vv")
    add("lt", ("i16", "i64", "field"), "vc")
    add("lte", ("i16", "field"), "vv")
    add("lte", ("i16",), "vc")
    add("gt", ("i16",), "vv")
    add("gte", ("i16",), "vv")
    add("is.eq", ("i16", "i64", "field"), "vv")
    add("is.neq", ("i16",), "vv")
    add("add", ("i16", "i64", "u8", "field"), "vv")
    add("add", ("i16",), "vc")
    add("sub", ("i16", "i64", "u8"), "vv")
    add("add.w", ("i32",), "vv")
    add("sub.w", ("i32",), "vv")
    add("mul", ("i8", "i16", "i32", "i64", "u8", "field"), "vv")
    add("mul", ("i16", "i64", "field"), "vc")
    add("mul.w", ("i32",), "vv")
    add("div", ("i16", "i64", "field"), "vv")
    add("div", ("i16",), "vc")
    add("shr", ("i16", "i64"), "vc")
    add("shl", ("i32",), "vc")
    add("neg", ("i16", "field"), "v")
    add("abs", ("i16",), "v")
    add("and", ("boolean", "u8"), "vv")
    add("or", ("boolean",), "vv")
    add("xor", ("boolean",), "vv")
    add("not", ("boolean",), "v")
    plan["base/field"] = base_fn("field")
    for ty in ("boolean", "u8", "i16", "field"):
        plan[f"base/ternary/{ty}"] = _ternary_fn(ty, None)
    add("ternary", ("boolean", "u8", "i16", "field"), "vv")
    add("ternary", ("u8",), "vc")
    add("ternary", ("u8",), "cc")
    for a, b in [("i16", "field"), ("i64", "field"), ("field", "i16"), ("field", "i64"), ("i8", "i16"),
                 ("i32", "i64"), ("i16", "i8"), ("i64", "i32"), ("i16", "u8"), ("u8", "i16")]:
        plan[f"op/cast/{a}->{b}/v"] = _cast_fn(a, b)
    return plan


# ---------------------------------------------------------------------------------------
# Synthesis (in worker processes: aleo-sdk holds the GIL, so threads would not overlap)


def _worker(jobs: list[tuple[str, str, list[tuple[str, list[str]]]]], q: "mp.Queue", shapes: bool = False) -> None:
    """Synthesize keys for programs [(program_name, source, [(fn, args)])]; report counts
    (with `shapes`: the verifying key's six sizes as a dict, see workbench/limits.py)."""
    from workbench.limits import shape_from_verifying_key
    from workbench.snarkvm import params

    params.ensure_installed()
    from aleo.mainnet import Identifier, PrivateKey, Process, Program, Value

    proc = Process.load()
    pk = PrivateKey.random()
    for pname, src, fns in jobs:
        try:
            prog = Program.from_source(src)
            proc.add_program(prog)
        except Exception as exc:  # report, keep going
            for fname, _ in fns:
                q.put((pname, fname, None, f"add_program: {str(exc).splitlines()[0]}", 0.0))
            continue
        for fname, args in fns:
            t0 = time.time()
            try:
                ident = Identifier.from_string(fname)
                auth = proc.authorize(pk, prog.id, ident, [Value.parse(a) for a in args])
                proc.execute(auth)
                vk = proc.get_verifying_key(prog.id, ident)
                n = shape_from_verifying_key(bytes(vk.bytes())).as_dict() if shapes else int(vk.num_constraints())
                q.put((pname, fname, n, None, time.time() - t0))
            except Exception as exc:
                q.put((pname, fname, None, str(exc).splitlines()[0][:300], time.time() - t0))
    q.put(None)


def _program(pname: str, funcs: list[tuple[str, Fn]], imports: list[str] | None = None) -> str:
    head = "".join(f"import {i};\n" for i in imports or []) + f"program {pname};\n\n"
    body = "\n".join(f.text(name) for name, f in funcs)
    return head + body + "\nconstructor:\n    assert.eq edition 0u16;\n"


def fn_hash(f: Fn, sdk: str, salt: str = "") -> str:
    """Cache key: the function text (name-independent), the aleo-sdk version and a salt."""
    return hashlib.sha256((salt + sdk + "\n" + f.text("f") + "\n".join(f.args)).encode()).hexdigest()[:24]


def synthesize(plan: dict[str, Fn], jobs: int, cache: dict[str, int], sdk: str,
               per_program: int = FUNCS_PER_PROGRAM, tag: str = "m", salt: str = "",
               on_result: "Callable[[], None] | None" = None, shapes: bool = False) -> dict[str, int]:
    """Counts for every plan entry, from the cache or by key synthesis in `jobs` processes
    (with `shapes`: dicts of the six verifying key sizes; give them their own `salt`)."""
    results: dict[str, int] = {}
    todo: list[tuple[str, Fn]] = []
    for key, f in plan.items():
        h = fn_hash(f, sdk, salt)
        if h in cache:
            results[key] = cache[h]
        else:
            todo.append((key, f))
    if not todo:
        return results
    # Group into programs; deal programs round-robin to workers.
    programs: list[tuple[str, str, list[tuple[str, list[str]]], dict[str, str]]] = []
    stamp = int(time.time()) % 100000
    for pi in range(0, len(todo), per_program):
        chunk = todo[pi:pi + per_program]
        pname = f"{tag}{stamp}_{pi // per_program}.aleo"
        named = [(f"f{j}", f) for j, (_, f) in enumerate(chunk)]
        src = _program(pname, named)
        programs.append((pname, src, [(n, f.args) for n, f in named], {n: k for n, (k, _) in zip([n for n, _ in named], chunk)}))
    keymap = {(p[0], fn): key for p in programs for fn, key in p[3].items()}
    fns_by_key = dict(todo)
    per_worker: list[list] = [[] for _ in range(max(1, jobs))]
    for i, p in enumerate(programs):
        per_worker[i % len(per_worker)].append(p[:3])
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(w, q, shapes)) for w in per_worker if w]
    for p in procs:
        p.start()
    done, total, t_start = 0, len(todo), time.time()
    alive = len(procs)
    while alive:
        msg = q.get()
        if msg is None:
            alive -= 1
            continue
        pname, fname, n, err, dt = msg
        key = keymap[(pname, fname)]
        done += 1
        if n is None:
            print(f"  [{done}/{total}] {key}: FAILED ({err})", flush=True)
            continue
        results[key] = n
        cache[fn_hash(fns_by_key[key], sdk, salt)] = n
        if on_result is not None:
            on_result()  # persist the cache now: a long run may be interrupted
        print(f"  [{done}/{total}] {key}: {n} ({dt:.1f}s, {time.time() - t_start:.0f}s elapsed)", flush=True)
    for p in procs:
        p.join()
    return results


# ---------------------------------------------------------------------------------------
# Fitting


def _lstsq_io(cases: list[tuple[str, list[int], float]], node: float = 0.0) -> dict:
    """Fit cost = fixed + n*element[T] to [(type, dims, cost)] by least squares.

    Scalars have n = 1; [T; n] has n elements. A nested array [[T; F]; K] adds `node`
    per inner array (measured separately, from a nested vs flat pair: fitting it jointly
    lets large arrays pull it negative).
    """
    tys = sorted({t for t, _, _ in cases})
    rows, ys = [], []
    for t, dims, y in cases:
        n = float(np.prod(dims)) if dims else 1.0
        inner = 0 if len(dims) < 2 else dims[0]
        rows.append([1.0] + [n if u == t else 0.0 for u in tys])
        ys.append(y - node * inner)
    sol, *_ = np.linalg.lstsq(np.array(rows), np.array(ys, dtype=float), rcond=None)
    out = {"fixed": round(float(sol[0]), 2), "node": round(node, 2)}
    out["element"] = {t: round(float(v), 3) for t, v in zip(tys, sol[1:])}
    return out


def fit_overhead(c: dict[str, int]) -> dict:
    """Fit the overhead: empty + sum(inputs) + sum(outputs), each `fixed + node + n*element`.

    Measured: a scalar input costs a fixed part (request/input hashing) plus about one
    constraint per bit; arrays add the per-element part per element.
    """
    empty = c["empty"]
    model: dict = {"empty": empty, "input": {}, "output": {}}
    for vis in ("private", "public"):
        cases = []
        for k, v in c.items():
            parts = k.split("/")
            if parts[0] == "in" and parts[1] == vis:
                dims = [] if parts[3] == "scalar" else [int(d) for d in parts[3].split("x")]
                cases.append((parts[2], dims, v - empty))
        node = 0.0
        nested = [(t, d, y) for t, d, y in cases if len(d) == 2]
        for t, d, y in nested:
            flat = c.get(f"in/{vis}/{t}/{d[0] * d[1]}")
            if flat is not None:
                node = (y + empty - flat) / d[0]
        if len({(t, tuple(d)) for t, d, _ in cases}) >= 3:
            model["input"][vis] = _lstsq_io(cases, node)
        elif cases and "private" in model["input"]:
            # too few cases to fit per-type costs: borrow private per-element costs, fit fixed
            prv = model["input"]["private"]
            res = [y - (float(np.prod(d)) if d else 1.0) * prv["element"].get(t, 0.0) for t, d, y in cases]
            model["input"][vis] = {"fixed": round(float(np.mean(res)), 2), "node": prv["node"],
                                   "element": dict(prv["element"]),
                                   "note": "per-element costs borrowed from private inputs"}
    for vis in ("public", "private"):
        cases = []
        for k, v in c.items():
            parts = k.split("/")
            if parts[0] != "out" or parts[1] != vis:
                continue
            dims = [] if parts[3] == "scalar" else [int(d) for d in parts[3].split("x")]
            base = c.get(f"in/private/{parts[2]}/{parts[3]}")
            if base is None and "private" in model["input"]:
                # the input-only twin was not measured: use the fitted input model instead
                base = predict_overhead({**model, "output": {}}, [(parts[2], "private", dims)], [])
            if base is None:
                continue
            cases.append((parts[2], dims, v - base))
        if len({(t, tuple(d)) for t, d, _ in cases}) >= 2:
            model["output"][vis] = _lstsq_io(cases)
        elif cases and "public" in model["output"]:
            # one case only: take per-element costs from public outputs, fit the fixed part
            pub = model["output"]["public"]
            t, dims, y = cases[0]
            n = float(np.prod(dims)) if dims else 1.0
            el = pub["element"].get(t, 0.0)
            model["output"][vis] = {"fixed": round(y - n * el, 2), "node": 0.0, "element": dict(pub["element"]),
                                    "note": "per-element costs borrowed from public outputs"}
    return model


def predict_overhead(model: dict, inputs: list[tuple[str, str, list[int]]],
                     outputs: list[tuple[str, str, list[int]]]) -> float:
    """The overhead model's prediction (same rules as workbench.snarkvm.costs)."""
    total = float(model["empty"])
    for kind, items in (("input", inputs), ("output", outputs)):
        for ty, vis, dims in items:
            m = model[kind][vis]
            n = float(np.prod(dims)) if dims else 1.0
            inner = 0 if len(dims) < 2 else dims[0]
            total += m["fixed"] + m["node"] * inner + n * m["element"][ty]
    return total


def overhead_fit_errors(model: dict, c: dict[str, int]) -> list[dict]:
    """Prediction vs measurement on every input/output measurement."""
    rows = []
    for k, v in c.items():
        parts = k.split("/")
        if parts[0] == "in":
            _, vis, ty, shape = parts
            dims = [] if shape == "scalar" else [int(d) for d in shape.split("x")]
            pred = predict_overhead(model, [(ty, vis, dims)], [])
        elif parts[0] == "out":
            _, vis, ty, shape = parts
            dims = [] if shape == "scalar" else [int(d) for d in shape.split("x")]
            pred = predict_overhead(model, [(ty, "private", dims)], [(ty, vis, dims)])
        elif parts[0] == "in2":
            pred = predict_overhead(model, [("i16", "private", [16]), ("u8", "public", [])], [])
        else:
            continue
        rows.append({"case": k, "measured": v, "predicted": round(pred, 1), "error": round(pred - v, 1)})
    return rows


def _safe_errors(model: dict, c: dict[str, int]) -> list[dict]:
    """overhead_fit_errors, skipping cases whose model terms were not measured."""
    rows = []
    for k, v in c.items():
        try:
            rows += overhead_fit_errors(model, {k: v})
        except KeyError:
            continue
    return rows


def op_costs(c: dict[str, int]) -> dict:
    """Per-op costs: (total - base) / M, base = same inputs without the ops."""
    costs: dict[str, dict[str, float]] = {}
    for k, v in c.items():
        parts = k.split("/")
        if parts[0] != "op":
            continue
        _, op, ty, mode = parts
        if op == "ternary":
            base = c.get(f"base/ternary/{ty}")
        else:
            src = ty.split("->")[0]
            base = c.get("base/field") if src == "field" else c.get(f"in/private/{src}/{2 * M}")
        if base is None:
            continue
        costs.setdefault(op, {})[f"{ty}/{mode}"] = round((v - base) / M_OVERRIDE.get(k, M), 3)
    return costs


# ---------------------------------------------------------------------------------------
# The other sizes of a circuit (--shapes)

# Ops whose six sizes are measured (a subset of op_plan: the types the shipped models
# compile to); the others are costed at their constraint cost times the median ratio.
SHAPE_OPS = [
    "op/lt/i16/vv", "op/lt/i16/vc", "op/lt/i32/vv", "op/lt/i64/vv", "op/lt/u8/vv", "op/lte/i16/vv",
    "op/is.eq/i16/vv", "op/add/i16/vv", "op/add/i16/vc", "op/add/i64/vv", "op/add/field/vv",
    "op/sub/i16/vv", "op/sub/i64/vv", "op/add.w/i32/vv", "op/mul/i16/vv", "op/mul/i16/vc", "op/mul/i32/vv",
    "op/mul/i64/vv", "op/mul/i64/vc", "op/mul/field/vv", "op/mul/field/vc", "op/div/i16/vv", "op/div/i16/vc",
    "op/div/i64/vv", "op/shr/i16/vc", "op/shr/i64/vc", "op/neg/i16/v", "op/and/boolean/vv", "op/or/boolean/vv",
    "op/not/boolean/v", "op/ternary/boolean/vv", "op/ternary/u8/vv", "op/ternary/i16/vv", "op/ternary/field/vv",
    "op/ternary/u8/vc", "op/cast/i16->field/v", "op/cast/field->i16/v", "op/cast/i64->field/v",
    "op/cast/field->i64/v", "op/cast/i16->i8/v", "op/cast/i8->i16/v", "op/cast/i32->i64/v",
    "op/cast/i64->i32/v", "op/cast/i16->u8/v", "op/cast/u8->i16/v",
]
SHAPE_QUANTITIES = ("public_inputs", "variables", "nonzero_a", "nonzero_b", "nonzero_c")


LC_LENGTHS = (1, 33)


def lc_plan() -> dict[str, Fn]:
    """A field->u32 cast of a linear combination of L products (and the same without the
    cast), for L in LC_LENGTHS: what each term of a long combination adds to each size.

    Field additions and multiplications by constants are free in R1CS: they build linear
    combinations, and the instruction that consumes one (a cast into an integer, a
    comparison, a var*var product) puts every term into its constraint's matrix entries.
    Models summing many products (linear layers, k-NN distances) make long ones.
    """
    plan: dict[str, Fn] = {}
    for n in LC_LENGTHS:
        for cast in (False, True):
            f = Fn()
            r0 = f.inp("field", "private", [2])
            prods = []
            for i in range(n):
                a = f.ins("add", f"{r0}[0u32]", f"{i}field")
                b = f.ins("add", f"{r0}[1u32]", f"{i}field")
                prods.append(f.ins("mul", a, b))
            total = prods[0]
            for p in prods[1:]:
                total = f.ins("add", total, p)
            if cast:
                f.ins("cast", total, suffix=" as u32")
            plan[f"lc/{'cast' if cast else 'base'}/{n}"] = f
    return plan


def private_output_plan() -> dict[str, Fn]:
    """Private (encrypted) array outputs and their input-only twins: the constraint plan
    measures a private u8 scalar only, and chain links return private arrays, whose
    non-zeros the borrowed per-element costs overestimated by ~1,250 entries of B."""
    plan: dict[str, Fn] = {}
    for ty, n in (("u16", 3), ("i16", 4), ("u8", 4)):
        f = Fn()
        f.inp(ty, "private", [n])
        plan[f"in/private/{ty}/{n}"] = f
        f = Fn()
        r = f.inp(ty, "private", [n])
        f.out(r, type_str(ty, [n]), "private")
        plan[f"out/private/{ty}/{n}"] = f
    return plan


def shape_plan() -> dict[str, Fn]:
    """Every overhead function, the SHAPE_OPS functions (with their bases), lc_plan and
    private_output_plan."""
    full = {**overhead_plan(), **op_plan()}
    return {**{k: f for k, f in full.items() if not k.startswith("op/") or k in SHAPE_OPS}, **lc_plan(),
            **private_output_plan()}


def fit_shapes(raw: dict[str, dict[str, int]], constraint_ops: dict, call: dict | None = None) -> dict:
    """Per size: the overhead model and per-op costs, fitted like the constraint tables
    (fit_overhead, op_costs); `per_constraint`: the median ratio of the size's op cost
    to the constraint cost, for ops measured for constraints only; `lc_term`: what one
    more term of a field linear combination consumed by a cast adds (lc_plan); `call`:
    the caller's cost of a call (measure_call with shapes, like the constraint cost)."""
    out: dict = {}
    a, b = LC_LENGTHS
    for q in SHAPE_QUANTITIES:
        counts = {k: v[q] for k, v in raw.items()}
        lc = None
        if all(f"lc/{k}/{n}" in counts for k in ("cast", "base") for n in LC_LENGTHS):
            lc = ((counts[f"lc/cast/{b}"] - counts[f"lc/base/{b}"]) - (counts[f"lc/cast/{a}"] - counts[f"lc/base/{a}"])) / (b - a)
        counts = {k: v for k, v in counts.items() if not k.startswith("lc/")}
        oh = fit_overhead(counts)
        ops = op_costs(counts)
        ratios = [ops[op][k] / c for op, tab in constraint_ops.items() for k, c in tab.items()
                  if c >= 1 and k in ops.get(op, {})]
        errs = _safe_errors(oh, counts)
        out[q] = {"overhead": oh, "ops": ops, "per_constraint": round(float(np.median(ratios)), 3) if ratios else 1.0,
                  "overhead_fit_max_abs_error": max((abs(e["error"]) for e in errs), default=None)}
        if lc is not None:
            out[q]["lc_term"] = round(lc, 3)
        cast = ops.get("cast", {}).get("i16->u8/v")
        if call and "error" not in call and cast is not None:
            # as for constraints: caller_base does one i16->u8 cast the caller with the call lacks
            out[q]["call"] = round(call["caller_with_call"][q] - call["caller_base"][q] + cast, 1)
    return out


# ---------------------------------------------------------------------------------------
# Offline budget and call cost


def _budget_fn(k: int) -> Fn:
    """A chain of k field var*var multiplications (1 constraint each) on a [field; 2] input."""
    f = Fn()
    r0 = f.inp("field", "private", [2])
    prev = f"{r0}[0u32]"
    for _ in range(k):
        prev = f.ins("mul", prev, f"{r0}[1u32]")
    return f


def find_budget(cache: dict, sdk: str, lo: int = 3000, hi: int = 9000, steps: int = 5) -> dict:
    """Bisect the number of extra constraints at which synthesis needs powers-of-beta-17."""
    ok_count, fail_count, log = None, None, []
    for _ in range(steps):
        mid = (lo + hi) // 2
        r = synthesize({f"budget/{mid}": _budget_fn(mid)}, 1, cache, sdk, per_program=1, tag="b")
        if f"budget/{mid}" in r:
            ok_count = r[f"budget/{mid}"]
            log.append({"extra_ops": mid, "constraints": ok_count, "ok": True})
            lo = mid
        else:
            log.append({"extra_ops": mid, "ok": False})
            hi = mid
    # the smallest failing count is base + hi field muls (1 constraint each)
    base = synthesize({"budget/0": _budget_fn(0)}, 1, cache, sdk, per_program=1, tag="b")["budget/0"]
    fail_count = base + hi
    return {"largest_ok": ok_count, "smallest_failed_estimate": fail_count, "probes": log,
            "note": "bisected with field var*var muls (1 constraint each); a failing probe "
                    "has no verifying key, so its count is base + number of muls"}


def measure_call(shapes: bool = False) -> dict:
    """Caller cost of `call other.aleo/main` (two programs, the caller importing the callee);
    with `shapes`, each count is the verifying key's six sizes (a dict)."""
    stamp = int(time.time()) % 100000
    callee = f"cc{stamp}.aleo"
    caller = f"cr{stamp}.aleo"
    callee_src = (f"program {callee};\n\nfunction main:\n    input r0 as [i16; 4u32].private;\n"
                  f"    lt r0[0u32] r0[1u32] into r1;\n    ternary r1 1u8 2u8 into r2;\n"
                  f"    output r2 as u8.private;\n\nconstructor:\n    assert.eq edition 0u16;\n")
    caller_src = (f"import {callee};\nprogram {caller};\n\n"
                  f"function base:\n    input r0 as [i16; 4u32].private;\n"
                  f"    cast r0[0u32] into r1 as u8;\n    output r1 as u8.public;\n\n"
                  f"function withcall:\n    input r0 as [i16; 4u32].private;\n"
                  f"    call {callee}/main r0 into r1;\n    output r1 as u8.public;\n\n"
                  f"constructor:\n    assert.eq edition 0u16;\n")
    arg = "[9i16, 3i16, 2i16, 1i16]"
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_call_worker, args=(callee_src, caller_src, arg, q, shapes))
    p.start()
    res = q.get()
    p.join()
    return res


def _call_worker(callee_src: str, caller_src: str, arg: str, q: "mp.Queue", shapes: bool = False) -> None:
    from workbench.limits import shape_from_verifying_key
    from workbench.snarkvm import params

    params.ensure_installed()
    from aleo.mainnet import Identifier, PrivateKey, Process, Program, Value

    try:
        proc = Process.load()
        pk = PrivateKey.random()
        a = Program.from_source(callee_src)
        proc.add_program(a)
        b = Program.from_source(caller_src)
        proc.add_program(b)
        out = {}
        for prog, fn in ((a, "main"), (b, "base"), (b, "withcall")):
            ident = Identifier.from_string(fn)
            proc.execute(proc.authorize(pk, prog.id, ident, [Value.parse(arg)]))
            vk = proc.get_verifying_key(prog.id, ident)
            out[fn] = shape_from_verifying_key(bytes(vk.bytes())).as_dict() if shapes else int(vk.num_constraints())
        # base does one u8 cast (cheap narrowing) that withcall lacks; report raw numbers too
        q.put({"callee": out["main"], "caller_base": out["base"], "caller_with_call": out["withcall"]})
    except Exception as exc:
        q.put({"error": str(exc)[:300]})


# ---------------------------------------------------------------------------------------


# Measured first, so that an interrupted run (machine load varies a lot) still yields the
# costs the shipped model circuits need most.
PRIORITY = ["empty", "in/private/i16/16", "op/lt/i16/vv", "op/lt/i16/vc", "op/lte/i16/vc",
            "base/ternary/u8", "op/ternary/u8/vv", "op/ternary/u8/vc", "op/ternary/u8/cc",
            "base/field", "op/mul/field/vv", "op/mul/field/vc", "op/add/field/vv",
            "op/cast/i16->field/v", "op/cast/field->i16/v", "op/mul/i16/vv", "op/mul/i16/vc",
            "op/add/i16/vv", "op/add/i64/vv", "op/mul/i64/vc",
            "out/public/u8/scalar", "in/private/u8/16", "in/private/i16/4x4", "op/lt/field/vv",
            "op/lt/i8/vv", "in/private/boolean/16", "op/and/boolean/vv", "op/or/boolean/vv",
            "op/xor/boolean/vv", "op/is.eq/i16/vv", "base/ternary/field", "op/ternary/field/vv",
            "op/cast/i16->i8/v", "op/cast/i8->i16/v", "op/cast/i16->u8/v", "op/lt/i64/vv",
            "op/mul/i64/vv", "op/shr/i64/vc", "op/div/i64/vv", "op/div/i16/vc", "out/public/field/scalar",
            "in/public/i16/16", "in/public/u8/scalar", "in/private/i16/64", "op/lt/i32/vv", "op/mul/i32/vv",
            "op/sub/i16/vv", "op/lte/i16/vv", "op/gt/i16/vv", "op/gte/i16/vv", "op/is.eq/field/vv",
            "op/div/field/vv", "op/neg/i16/v", "op/abs/i16/v", "op/not/boolean/v", "op/lt/u8/vv",
            "op/add/u8/vv", "op/mul/u8/vv", "out/public/u8/4", "in/private/u8/4", "out/private/u8/scalar"]


def prioritized(plan: dict[str, Fn]) -> dict[str, Fn]:
    """The plan reordered with PRIORITY keys first."""
    first = {k: plan[k] for k in PRIORITY if k in plan}
    return {**first, **{k: v for k, v in plan.items() if k not in first}}


def markdown_tables(doc: dict) -> str:
    """The tables of docs/cost-model.md, rendered from a costs.json document."""
    lines = [f"Measured {doc['generated']} with aleo-sdk {doc['aleo_sdk']} (M = {doc['instances_per_op']}).", ""]
    lines += ["| opcode | type/mode: constraints per instance |", "|---|---|"]
    for op in sorted(doc["ops"]):
        cells = ", ".join(f"{k} {v:g}" for k, v in sorted(doc["ops"][op].items()))
        lines.append(f"| `{op}` | {cells} |")
    oh = doc["overhead"]
    lines += ["", f"Empty function (no inputs, no outputs): {oh['empty']}", "",
              "| kind | visibility | fixed | per array node | per element |", "|---|---|---|---|---|"]
    for kind in ("input", "output"):
        for vis, m in oh.get(kind, {}).items():
            els = ", ".join(f"{t} {v:g}" for t, v in sorted(m["element"].items()))
            lines.append(f"| {kind} | {vis} | {m['fixed']:g} | {m['node']:g} | {els} |")
    fit = doc["overhead_fit"]
    lines += ["", f"Overhead fit: worst error {fit['worst']['error']} constraints on `{fit['worst']['case']}` "
              f"({len(fit['cases'])} measured cases)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="measurement cache JSON")
    ap.add_argument("--no-cache", action="store_true", help="ignore (but still update) the cache")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--skip-budget", action="store_true", help="do not bisect the offline budget")
    ap.add_argument("--fit-only", action="store_true",
                    help="synthesize nothing: fit and write costs.json from the cache (missing entries listed)")
    ap.add_argument("--skip-plan", action="store_true",
                    help="only measure the call cost and offline budget (op/overhead counts from the cache)")
    ap.add_argument("--tables", action="store_true", help="print the doc tables of --out and exit")
    ap.add_argument("--shapes", action="store_true",
                    help="measure the other five verifying key sizes (variables, non-zeros, public inputs) of the "
                         "overhead functions and SHAPE_OPS and merge their tables into --out as `shapes`")
    args = ap.parse_args(argv)
    if args.tables:
        print(markdown_tables(json.loads(args.out.read_text())))
        return 0

    sdk = metadata.version("aleo-sdk")
    cache: dict[str, int] = {}
    if args.cache.is_file() and not args.no_cache:
        cache = json.loads(args.cache.read_text())
    t0 = time.time()

    def save_cache() -> None:
        # merge with the file first: a second run (e.g. --skip-plan) may share the cache
        args.cache.parent.mkdir(parents=True, exist_ok=True)
        if args.cache.is_file():
            try:
                disk = json.loads(args.cache.read_text())
                cache.update({k: v for k, v in disk.items() if k not in cache})
            except ValueError:
                pass
        tmp = args.cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(cache, indent=0, sort_keys=True))
        os.replace(tmp, args.cache)

    if args.shapes:
        return _measure_shapes(args, cache, sdk, save_cache, t0)
    plan = prioritized({**overhead_plan(), **op_plan()})
    # Check that sharing a program does not change counts: one function alone in a program.
    # (a salt keeps the identical text from hitting the shared-program cache entry)
    single = {"check/single/in/private/i16/16": overhead_plan()["in/private/i16/16"]}
    print(f"measuring {len(plan)} functions with {args.jobs} workers (aleo-sdk {sdk})", flush=True)
    if args.fit_only or args.skip_plan:
        counts = {k: cache[fn_hash(f, sdk)] for k, f in plan.items() if fn_hash(f, sdk) in cache}
        counts.update({k: cache[fn_hash(f, sdk, "single")] for k, f in single.items()
                       if fn_hash(f, sdk, "single") in cache})
    else:
        try:
            counts = synthesize(plan, args.jobs, cache, sdk, on_result=save_cache)
            counts.update(synthesize(single, 1, cache, sdk, per_program=1, tag="s", salt="single"))
        finally:
            save_cache()
    if args.skip_plan:
        # only the call cost and the budget; the final fit reads them from the cache
        if "call/raw" not in cache:
            call_raw = measure_call()
            if "error" not in call_raw:
                cache["call/raw"] = call_raw
            print(f"call: {call_raw}", flush=True)
            save_cache()
        if "budget/raw" not in cache and not args.skip_budget:
            cache["budget/raw"] = find_budget(cache, sdk)
            print(f"budget: {cache['budget/raw']}", flush=True)
            save_cache()
        return 0
    missing = sorted(set(plan) - set(counts))
    overhead = fit_overhead(counts)
    errs = _safe_errors(overhead, counts)
    worst = max(errs, key=lambda r: abs(r["error"])) if errs else {"error": None, "case": None}
    ops = op_costs(counts)
    call = cache.get("call/raw") if isinstance(cache.get("call/raw"), dict) else None
    if call is None and not args.fit_only:
        call = measure_call()
        if "error" not in call:
            cache["call/raw"] = call
            save_cache()
    if call and "error" not in call:
        # caller_base does one i16->u8 cast that the caller with the call lacks
        cast = ops.get("cast", {}).get("i16->u8/v")
        if cast is not None:
            call = {**call, "cost": round(call["caller_with_call"] - call["caller_base"] + cast, 1), "measured": True}
        else:
            call = {**call, "cost": 1800, "measured": False, "note": "i16->u8 cast not measured"}
    else:
        call = {"cost": 1800, "measured": False, "note": f"a default (the call was not measured): {call}"}
    budget = cache.get("budget/raw") if isinstance(cache.get("budget/raw"), dict) else None
    if budget is None and not args.skip_budget and not args.fit_only:
        try:
            budget = find_budget(cache, sdk)
            cache["budget/raw"] = budget
        finally:
            save_cache()
    elapsed = time.time() - t0
    doc = {
        "generated": _dt.date.today().isoformat(),
        "aleo_sdk": sdk,
        "instances_per_op": M,
        "runtime_seconds": round(elapsed),
        "multi_function_program_check": {
            "in/private/i16/16 in a 6-function program": counts.get("in/private/i16/16"),
            "in/private/i16/16 alone": counts.get("check/single/in/private/i16/16"),
            "in/private/field/2 in a 6-function program": counts.get("in/private/field/2"),
            "the same function alone (budget probe with 0 muls)": cache.get(fn_hash(_budget_fn(0), sdk)),
        },
        "overhead": overhead,
        "overhead_fit": {"worst": worst, "max_abs_error": abs(worst["error"] or 0), "cases": errs},
        "ops": ops,
        "call": call,
        "offline_budget": budget,
        "raw": dict(sorted(counts.items())),
        "missing": missing,
    }
    if args.out.is_file():
        # The hash/commit model is measured by scripts/measure_hash_costs.py: keep it.
        previous = json.loads(args.out.read_text())
        if "hash" in previous:
            doc["hash"] = previous["hash"]
    args.out.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")
    print(f"wrote {args.out} in {elapsed:.0f}s; {len(missing)} missing; overhead worst error "
          f"{worst['error']} on {worst['case']}", flush=True)
    return 0


def _measure_shapes(args: argparse.Namespace, cache: dict, sdk: str, save_cache: Callable[[], None], t0: float) -> int:
    plan = shape_plan()
    print(f"measuring the six sizes of {len(plan)} functions with {args.jobs} workers", flush=True)
    try:
        raw = synthesize(plan, args.jobs, cache, sdk, salt="shape", shapes=True, on_result=save_cache)
    finally:
        save_cache()
    call = cache.get("call/shape") if isinstance(cache.get("call/shape"), dict) else None
    if call is None:
        call = measure_call(shapes=True)
        print(f"call: {call}", flush=True)
        if "error" not in call:
            cache["call/shape"] = call
            save_cache()
    doc = json.loads(args.out.read_text())
    doc["shapes"] = {
        "generated": _dt.date.today().isoformat(),
        "aleo_sdk": sdk,
        "command": "scripts/measure_costs.py --shapes",
        "runtime_seconds": round(time.time() - t0),
        "missing": sorted(set(plan) - set(raw)),
        "quantities": fit_shapes(raw, doc.get("ops", {}), call),
        "call": call,
        "raw": dict(sorted(raw.items())),
    }
    args.out.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")
    print(f"merged `shapes` ({len(raw)} functions) into {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
