"""Property tests: random integer expressions give the same value in snarkVM as in a
small reference model of Aleo arithmetic written here in plain Python (independent of the
compiler's own constant folder). Checked overflow halts in both.

Two properties:
* constant expressions: the compiler folds them; the folded literal must equal the model,
  and an expression the model says halts must be a compile error (fast, many examples);
* expressions over inputs: compiled, executed by snarkVM on several inputs, compared with
  the model (slow: one key synthesis per example, so few examples, each packing
  EXPRS_PER_PROGRAM expressions into one array output and several input vectors).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.leo.compiler import LeoCompileError, compile_source

TYPES = ["i8", "u8", "i16", "u16"]
EXPRS_PER_PROGRAM = 8
INPUT_VECTORS = 4


class Halt(Exception):
    pass


def bits(t: str) -> int:
    return int(t[1:])


def lo_hi(t: str) -> tuple[int, int]:
    n = bits(t)
    return (-(1 << (n - 1)), (1 << (n - 1)) - 1) if t[0] == "i" else (0, (1 << n) - 1)


def wrap(v: int, t: str) -> int:
    n = bits(t)
    v &= (1 << n) - 1
    return v - (1 << n) if t[0] == "i" and v >> (n - 1) else v


def checked(v: int, t: str) -> int:
    lo, hi = lo_hi(t)
    if not lo <= v <= hi:
        raise Halt
    return v


def tdiv(a: int, b: int) -> int:
    if b == 0:
        raise Halt
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


# ---------------------------------------------------------------- expression trees


@dataclass(frozen=True)
class E:
    op: str
    args: tuple  # sub-expressions, or (name,) / (value,) for leaves

    def leo(self, t: str) -> str:
        o, a = self.op, self.args
        if o == "var":
            return a[0]
        if o == "lit":
            return f"({a[0]}{t})"
        if o in ("+", "-", "*", "/", "%", "&", "|", "^"):
            return f"({a[0].leo(t)} {o} {a[1].leo(t)})"
        if o in ("<<", ">>"):
            return f"({a[0].leo(t)} {o} {a[1]}u8)"
        if o == "**":
            return f"({a[0].leo(t)} ** {a[1]}u8)"
        if o in ("shl_wrapped", "shr_wrapped", "pow_wrapped"):
            return f"{a[0].leo(t)}.{o}({a[1]}u8)"
        if o in ("add_wrapped", "sub_wrapped", "mul_wrapped", "div_wrapped", "rem_wrapped"):
            return f"{a[0].leo(t)}.{o}({a[1].leo(t)})"
        if o in ("neg", "not"):
            return f"({'-' if o == 'neg' else '!'}{a[0].leo(t)})"
        if o in ("abs", "abs_wrapped"):
            return f"{a[0].leo(t)}.{o}()"
        if o == "lt?":
            return f"({a[0].leo(t)} < {a[1].leo(t)} ? {a[2].leo(t)} : {a[3].leo(t)})"
        raise AssertionError(o)

    def constant(self) -> bool:
        """No input variable occurs in the expression."""
        if self.op == "var":
            return False
        return all(x.constant() for x in self.args if isinstance(x, E))

    def eval(self, t: str, env: dict[str, int]) -> int:
        o, a = self.op, self.args
        if o == "var":
            return env[a[0]]
        if o == "lit":
            return a[0]
        if o in ("<<", ">>", "shl_wrapped", "shr_wrapped", "**", "pow_wrapped"):
            x, k = a[0].eval(t, env), a[1]
            if o == "**":
                return checked(x**k, t)
            if o == "pow_wrapped":
                return wrap(x**k, t)
            if o.endswith("_wrapped"):
                k %= bits(t)
            elif k >= bits(t):
                raise Halt
            if o.startswith("sh") and o[2] == "l" or o == "<<":
                r = wrap(x << k, t)
                if o == "<<" and (r >> k) != x:  # bits shifted out: snarkVM halts
                    raise Halt
                return r
            return x >> k
        if o in ("neg", "not", "abs", "abs_wrapped"):
            x = a[0].eval(t, env)
            return {"neg": lambda: checked(-x, t), "not": lambda: wrap(~x, t),
                    "abs": lambda: checked(abs(x), t), "abs_wrapped": lambda: wrap(abs(x), t)}[o]()
        if o == "lt?":
            c, d = a[0].eval(t, env), a[1].eval(t, env)
            if a[0].constant() and a[1].constant():
                # A condition known at compile time selects at compile time: the other
                # side is never compiled (documented in docs/leo-subset.md).
                return a[2].eval(t, env) if c < d else a[3].eval(t, env)
            p, q = a[2].eval(t, env), a[3].eval(t, env)  # both sides always run (Leo semantics)
            return p if c < d else q
        x, y = a[0].eval(t, env), a[1].eval(t, env)
        if o == "+":
            return checked(x + y, t)
        if o == "-":
            return checked(x - y, t)
        if o == "*":
            return checked(x * y, t)
        if o == "/":
            return checked(tdiv(x, y), t)
        if o == "%":
            checked(tdiv(x, y), t)  # MIN % -1 halts like MIN / -1
            return x - y * tdiv(x, y)
        if o == "add_wrapped":
            return wrap(x + y, t)
        if o == "sub_wrapped":
            return wrap(x - y, t)
        if o == "mul_wrapped":
            return wrap(x * y, t)
        if o == "div_wrapped":
            return wrap(tdiv(x, y), t)
        if o == "rem_wrapped":
            return wrap(x - y * tdiv(x, y), t)
        if o in ("&", "|", "^"):
            return wrap({"&": x & y, "|": x | y, "^": x ^ y}[o], t)
        raise AssertionError(o)


BINARY = ["+", "-", "*", "/", "%", "&", "|", "^", "add_wrapped", "sub_wrapped", "mul_wrapped",
          "div_wrapped", "rem_wrapped"]
SHIFTS = ["<<", ">>", "shl_wrapped", "shr_wrapped", "**", "pow_wrapped"]


def exprs(t: str, leaves: st.SearchStrategy[E]) -> st.SearchStrategy[E]:
    signed = t[0] == "i"
    unary = ["not"] + (["neg", "abs", "abs_wrapped"] if signed else [])

    def extend(sub: st.SearchStrategy[E]) -> st.SearchStrategy[E]:
        return st.one_of(
            st.tuples(st.sampled_from(BINARY), sub, sub).map(lambda x: E(x[0], (x[1], x[2]))),
            st.tuples(st.sampled_from(SHIFTS), sub, st.integers(0, bits(t) + 1)).map(
                lambda x: E(x[0], (x[1], x[2] if x[0] not in ("**", "pow_wrapped") else x[2] % 4))),
            st.tuples(st.sampled_from(unary), sub).map(lambda x: E(x[0], (x[1],))),
            st.tuples(sub, sub, sub, sub).map(lambda x: E("lt?", x)),
        )

    return st.recursive(leaves, extend, max_leaves=6)


def small_values(t: str) -> st.SearchStrategy[int]:
    lo, hi = lo_hi(t)
    # Mostly small values (so checked operations often succeed), sometimes the extremes.
    return st.one_of(st.integers(max(lo, -12), min(hi, 12)), st.sampled_from([lo, hi]))


def render_value(v: int, t: str) -> str:
    return f"{v}{t}"


# ---------------------------------------------------------------- constant folding


@st.composite
def constant_case(draw):
    t = draw(st.sampled_from(TYPES))
    e = draw(exprs(t, small_values(t).map(lambda v: E("lit", (v,)))))
    return t, e


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(constant_case())
def test_constant_folding_matches_reference(case) -> None:
    t, e = case
    source = (f"program fold_check.aleo {{\n    fn main() -> public {t} {{\n"
              f"        return {e.leo(t)};\n    }}\n\n    @noupgrade\n    constructor() {{}}\n}}\n")
    try:
        expected = e.eval(t, {})
    except Halt:
        with pytest.raises(LeoCompileError, match="halts"):
            compile_source(source)
        return
    aleo = compile_source(source).aleo
    m = re.search(r"output (-?\d+)" + t + r" as", aleo)
    assert m is not None, aleo
    assert int(m.group(1)) == expected, (e.leo(t), aleo)


# ---------------------------------------------------------------- snarkVM execution

_counter = itertools.count()


@st.composite
def program_case(draw):
    t = draw(st.sampled_from(TYPES))
    leaves = st.one_of(st.sampled_from(["a", "b", "c"]).map(lambda n: E("var", (n,))),
                       small_values(t).map(lambda v: E("lit", (v,))))
    es = draw(st.lists(exprs(t, leaves), min_size=EXPRS_PER_PROGRAM, max_size=EXPRS_PER_PROGRAM))
    inputs = draw(st.lists(st.tuples(small_values(t), small_values(t), small_values(t)),
                           min_size=INPUT_VECTORS, max_size=INPUT_VECTORS))
    return t, es, inputs


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(program_case())
def test_snarkvm_agrees_with_reference(snarkvm, case) -> None:
    t, es, inputs = case
    name = f"prop_{next(_counter)}"
    body = ",\n            ".join(e.leo(t) for e in es)
    source = (f"program {name}.aleo {{\n"
              f"    fn main(public a: {t}, public b: {t}, public c: {t}) -> public [{t}; {len(es)}] {{\n"
              f"        return [\n            {body}\n        ];\n    }}\n\n"
              f"    @noupgrade\n    constructor() {{}}\n}}\n")
    try:
        compiled = compile_source(source)
    except LeoCompileError as err:
        # Only a constant sub-expression that halts may be rejected, and then the model halts too.
        assert "halts" in str(err), str(err)
        for a, b, c in inputs:
            with pytest.raises(Halt):
                [e.eval(t, {"a": a, "b": b, "c": c}) for e in es]
        return
    program = snarkvm.load(compiled.aleo)
    for a, b, c in inputs:
        try:
            expected = [render_value(e.eval(t, {"a": a, "b": b, "c": c}), t) for e in es]
        except Halt:
            expected = None
        got = snarkvm.execute(program, "main", [render_value(v, t) for v in (a, b, c)])
        if got is not None:
            got = re.sub(r"[\s\[\]]", "", got[0]).split(",")
        assert got == expected, (source, (a, b, c))
