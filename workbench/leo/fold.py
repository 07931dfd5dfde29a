"""Reference arithmetic of Aleo instructions on Python integers.

Used to fold compile-time constants (a constant operation that would halt in snarkVM is
a compile error) and, in the tests, as the oracle that snarkVM's results are checked
against. Opcode names are the Aleo ones (``add``, ``add.w``, ``is.eq``, ...).
"""

from __future__ import annotations

from .ltypes import FIELD_MODULUS, INT_BITS, Prim, fits, int_range

P = FIELD_MODULUS


class Halt(Exception):
    """The operation would halt the program (overflow, division by zero, ...)."""


def wrap(value: int, ty: str) -> int:
    """Two's-complement wrap of ``value`` into integer type ``ty``."""
    bits = INT_BITS[ty]
    value &= (1 << bits) - 1
    if ty.startswith("i") and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


def _checked(value: int, ty: str, what: str) -> int:
    lo, hi = int_range(ty)
    if not lo <= value <= hi:
        raise Halt(f"{what} overflows {ty}")
    return value


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _int_pow(a: int, b: int, ty: str, wrapped: bool) -> int:
    if wrapped:
        bits = INT_BITS[ty]
        return wrap(pow(a % (1 << bits), b, 1 << bits), ty)
    if a in (0, 1) or b == 0:
        return 1 if b == 0 else a
    if a == -1:
        return 1 if b % 2 == 0 else -1
    if b > 200:  # |a| >= 2 overflows every type long before this
        raise Halt(f"power overflows {ty}")
    return _checked(a**b, ty, "power")


def binary(op: str, ty: Prim, a: int | bool, b: int | bool) -> int | bool:
    """Evaluate a two-operand instruction whose first operand has type ``ty``."""
    t = ty.name
    if op in ("is.eq", "is.neq"):
        return (a == b) if op == "is.eq" else (a != b)
    if op in ("lt", "lte", "gt", "gte"):
        return {"lt": a < b, "lte": a <= b, "gt": a > b, "gte": a >= b}[op]
    if t == "bool":
        return {"and": a and b, "or": a or b, "xor": a != b,
                "nand": not (a and b), "nor": not (a or b)}[op]
    if t == "field":
        if op == "add":
            return (a + b) % P
        if op == "sub":
            return (a - b) % P
        if op == "mul":
            return (a * b) % P
        if op == "div":
            if b == 0:
                raise Halt("field division by zero")
            return a * pow(b, P - 2, P) % P
        if op == "pow":
            return pow(a, b, P)
        raise ValueError(op)
    assert isinstance(a, int) and isinstance(b, int)
    if op in ("add", "sub", "mul"):
        r = {"add": a + b, "sub": a - b, "mul": a * b}[op]
        return _checked(r, t, {"add": "addition", "sub": "subtraction", "mul": "multiplication"}[op])
    if op in ("add.w", "sub.w", "mul.w"):
        return wrap({"add.w": a + b, "sub.w": a - b, "mul.w": a * b}[op], t)
    if op in ("div", "div.w", "rem", "rem.w"):
        if b == 0:
            raise Halt("division by zero")
        q = _trunc_div(a, b)
        if op.startswith("div"):
            return wrap(q, t) if op == "div.w" else _checked(q, t, "division")
        if op == "rem":
            _checked(q, t, "remainder")  # MIN % -1 halts like MIN / -1
        return wrap(a - b * q, t)
    if op == "mod":
        if b == 0:
            raise Halt("division by zero")
        return a % b
    if op in ("pow", "pow.w"):
        return _int_pow(a, b, t, op == "pow.w")
    if op in ("shl", "shl.w", "shr", "shr.w"):
        bits = INT_BITS[t]
        if op.endswith(".w"):
            b %= bits
        elif b >= bits:
            raise Halt(f"shift by {b} is not below the bit width of {t}")
        if op.startswith("shl"):
            r = wrap(a << b, t)
            # snarkVM's checked shift left halts when bits are lost (shifting back differs).
            if op == "shl" and (r >> b) != a:
                raise Halt(f"shift left overflows {t}")
            return r
        return a >> b  # Python's >> is arithmetic, as for Aleo's signed types
    if op in ("and", "or", "xor"):
        return wrap({"and": a & b, "or": a | b, "xor": a ^ b}[op], t)
    raise ValueError(op)


def unary(op: str, ty: Prim, a: int | bool) -> int | bool:
    """Evaluate a one-operand instruction (``sqrt`` is not folded: snarkVM picks the root)."""
    t = ty.name
    if op == "not":
        return (not a) if t == "bool" else wrap(~a, t)
    if t == "field":
        if op == "neg":
            return (-a) % P
        if op == "inv":
            if a == 0:
                raise Halt("inverse of zero")
            return pow(a, P - 2, P)
        if op == "square":
            return a * a % P
        if op == "double":
            return 2 * a % P
        raise ValueError(op)
    if op == "neg":
        return _checked(-a, t, "negation")
    if op == "abs":
        return _checked(abs(a), t, "absolute value")
    if op == "abs.w":
        return wrap(abs(a), t)
    raise ValueError(op)


def cast(value: int | bool, src: Prim, dst: Prim) -> int | bool | None:
    """Fold ``cast``; None when the result is not certain enough to fold (left to snarkVM)."""
    if src == dst:
        return value
    if src.name == "bool":
        return int(value) if dst.name != "bool" else value
    if dst.name == "bool":
        return None
    if src.name == "field":
        # Only unsigned targets are folded: that cast is an exact range check.
        if dst.name.startswith("u"):
            if not fits(value, dst):  # type: ignore[arg-type]
                raise Halt(f"value does not fit in {dst.name}")
            return value
        return None
    if dst.name == "field":
        return value if value >= 0 else None  # type: ignore[operator]
    if not fits(value, dst):  # type: ignore[arg-type]
        raise Halt(f"value {value} does not fit in {dst.name}")
    return value
