"""Estimate snarkVM constraint counts of Aleo functions before key synthesis.

The estimate is a sum of measured costs (``costs.json``, written by
``scripts/measure_costs.py``; see docs/cost-model.md):

* the fixed overhead of a transition: an empty function's count plus a cost per input and
  output that depends on type, visibility and array length;
* one cost per instruction, looked up by opcode, operand type and whether operands are
  variables or constants (an instruction whose operands are all constants is folded by
  snarkVM and costs nothing); a hash or commitment costs by the size of the value it
  hashes (``hash_input_size``; measured by ``scripts/measure_hash_costs.py``).

Types or opcodes that were not measured are interpolated from the nearest measured type
(by bit width, scaled linearly) or, when nothing fits, charged a conservative default; every
such fallback is reported in the function's ``notes`` (and logged), never raised.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable

from workbench.limits import OFFLINE_BUDGET  # noqa: F401 - re-exported for callers
from workbench.limits import CircuitShape, domain_size

log = logging.getLogger(__name__)

# Charged for an opcode with no measurement and no sensible neighbour (signatures,
# records...; hashes and commits have their own model, see `_CostModel.hash_cost`). Deliberately larger than the dearest measured arithmetic op
# (i64 var*var mul, a few hundred constraints) so an unknown op errs towards "too big".
DEFAULT_UNKNOWN_OP_COST = 1000
# Charged per input/output whose type the overhead model does not cover (records, structs
# without a definition, futures): about the cost of a private scalar field input.
DEFAULT_UNKNOWN_IO_COST = 2000

_BITS = {"i8": 8, "i16": 16, "i32": 32, "i64": 64, "i128": 128,
         "u8": 8, "u16": 16, "u32": 32, "u64": 64, "u128": 128,
         "field": 253, "scalar": 251, "group": 253, "boolean": 1, "address": 253}
_CMP = {"lt", "lte", "gt", "gte"}
_BOOL_RESULT = _CMP | {"is.eq", "is.neq"}
# Opcodes known to cost like another measured opcode (same snarkVM gadget underneath).
_ALIASES = {"lte": "lt", "gt": "lt", "gte": "lt", "is.neq": "is.eq", "sub": "add",
            "add.w": "add", "sub.w": "add", "mul.w": "mul", "shl": "shr", "shr": "shl",
            "shl.w": "shl", "shr.w": "shr", "abs.w": "abs", "div.w": "div", "rem": "div",
            "rem.w": "div", "nand": "and", "nor": "or", "or": "and", "xor": "and",
            "and": "or", "not": "and", "assert.eq": "is.eq", "assert.neq": "is.eq",
            "double": "add", "square": "mul", "cast.lossy": "cast"}


@dataclass
class FunctionEstimate:
    """Estimated constraints of one function, split into overhead and instructions."""

    name: str
    overhead: float = 0.0
    instructions: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """The estimate, rounded to whole constraints."""
        return int(round(self.overhead + self.instructions))


@lru_cache(maxsize=1)
def load_costs() -> dict[str, Any]:
    """The measured cost tables shipped with the package (costs.json)."""
    text = resources.files("workbench.snarkvm").joinpath("costs.json").read_text()
    return json.loads(text)


# ---------------------------------------------------------------------------------------
# Parsing


@dataclass(frozen=True)
class AleoType:
    """A plaintext type: a base literal type and array dimensions, outermost first."""

    base: str
    dims: tuple[int, ...] = ()

    @property
    def elements(self) -> int:
        n = 1
        for d in self.dims:
            n *= d
        return n

    @property
    def array_nodes(self) -> int:
        """Arrays in the value: 1 for [T; n], 1 + K for [[T; F]; K], and so on."""
        nodes, width = 0, 1
        for d in self.dims:
            nodes += width
            width *= d
        return nodes

    def element(self, depth: int) -> "AleoType":
        return AleoType(self.base, self.dims[depth:])


_ARRAY_RE = re.compile(r"^\[(.*);\s*(\d+)u32\]$")
_LITERAL_RE = re.compile(r"^-?\d[\d_]*(i8|i16|i32|i64|i128|u8|u16|u32|u64|u128|field|group|scalar)$")


def parse_type(text: str) -> AleoType:
    """Parse `[[i16; 4u32]; 2u32]`, `u8`, `boolean`, `foo` (struct) into an AleoType."""
    text = text.strip()
    dims: list[int] = []
    m = _ARRAY_RE.match(text)
    while m:
        dims.append(int(m.group(2)))
        text = m.group(1).strip()
        m = _ARRAY_RE.match(text)
    return AleoType(text, tuple(dims))


def _split_type_vis(text: str) -> tuple[AleoType, str]:
    """`[u8; 4u32].public` -> (type, "public"); records are `name.record`."""
    text = text.strip().rstrip(";").strip()
    head, _, vis = text.rpartition(".")
    if not head or vis in ("aleo",):
        return parse_type(text), "private"
    return parse_type(head), vis


@dataclass
class _Operand:
    type: AleoType | None
    const: bool
    # Terms of the linear combination a field value is (additions and constant factors are
    # free in R1CS and only lengthen it); 1 for anything else.
    lc: int = 1
    # An unsigned integer known to fit this many bits (the result of `and` with a constant
    # mask): its higher bits are constant zeros, so a narrowing cast checks nothing.
    width: int | None = None


@dataclass
class _Function:
    name: str
    inputs: list[tuple[AleoType, str]] = field(default_factory=list)
    outputs: list[tuple[AleoType, str]] = field(default_factory=list)
    body: list[str] = field(default_factory=list)


def _parse_functions(source: str) -> tuple[list[_Function], dict[str, list[AleoType]]]:
    """Functions (not closures/constructors) and struct member types of a program."""
    funcs: list[_Function] = []
    structs: dict[str, list[AleoType]] = {}
    cur: _Function | None = None
    cur_struct: list[AleoType] | None = None
    for raw in source.splitlines():
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        m = re.match(r"^(function|closure|constructor|struct|record|mapping|finalize)\b\s*([\w.]*)\s*:?$", line)
        if m:
            kind, name = m.group(1), m.group(2)
            cur, cur_struct = None, None
            if kind == "function":
                cur = _Function(name)
                funcs.append(cur)
            elif kind == "struct":
                cur_struct = structs.setdefault(name, [])
            continue
        if cur_struct is not None:
            sm = re.match(r"^\w+\s+as\s+(.+);$", line)
            if sm:
                cur_struct.append(parse_type(sm.group(1)))
            continue
        if cur is None:
            continue
        if line.startswith("input "):
            im = re.match(r"^input\s+r\d+\s+as\s+(.+);$", line)
            if im:
                cur.inputs.append(_split_type_vis(im.group(1)))
        elif line.startswith("output "):
            om = re.match(r"^output\s+\S+\s+as\s+(.+);$", line)
            if om:
                cur.outputs.append(_split_type_vis(om.group(1)))
        else:
            cur.body.append(line.rstrip(";").strip())
    return funcs, structs


def _struct_member_names(source: str) -> dict[str, list[str]]:
    """Member names of each struct, in order (their lengths enter a struct's hashed bits)."""
    names: dict[str, list[str]] = {}
    cur: list[str] | None = None
    for raw in source.splitlines():
        line = raw.split("//", 1)[0].strip()
        m = re.match(r"^(struct|function|closure|constructor|record|mapping|finalize)\b\s*([\w.]*)\s*:?$", line)
        if m:
            cur = names.setdefault(m.group(2), []) if m.group(1) == "struct" else None
            continue
        if cur is not None:
            sm = re.match(r"^(\w+)\s+as\s+.+;$", line)
            if sm:
                cur.append(sm.group(1))
    return names


# Bits of a literal's value in snarkVM's `to_bits_le` (the literal types' sizes).
_VALUE_BITS = {**_BITS, "scalar": 251}
# Data bits a field element packs in `Plaintext::to_fields` (one less than 253).
_FIELD_DATA_BITS = 252
# Leaves the circuit must split into bits before hashing them (integers and booleans
# already are bits in a circuit).
_FIELD_LIKE = frozenset({"field", "scalar", "group", "address"})


@dataclass(frozen=True)
class HashInput:
    """The sizes of a value as snarkVM hashes it (the regressors of the hash cost model)."""

    bits: int  # length of `to_bits_le` (BHP, Pedersen): values and type metadata
    fields: int  # field elements of `to_fields` (Poseidon): those bits packed 252 a field
    value_bits: int  # bits of the integer and boolean leaves (variables in a circuit)
    field_leaves: int  # field/scalar/group/address leaves (each decomposed into bits)

    def get(self, name: str) -> float:
        return float(getattr(self, name))


# Input bits one BHP iteration absorbs: the hasher's window bits (windows x window size x 3,
# snarkVM's BHP256 = BHP<3, 57>, BHP512 = BHP<6, 43>, BHP768 = BHP<15, 23>, BHP1024 =
# BHP<8, 54>) less the 252 bits of the previous digest (or of the domain and the length).
_BHP_BLOCK = {"bhp256": 261, "bhp512": 522, "bhp768": 783, "bhp1024": 1044}


_PSD_EXTRA = {"psd8": 3}
# The raw form (`hash.psd8.raw`) pays a whole block more than its value: a struct packing
# into one field element already takes two permutations, ten take three (measured by
# scripts/measure_raw_hash.py; costs.json `hash.raw_model`).
RAW_PSD_EXTRA = 8


def hash_regressors(op: str, size: "HashInput", raw: bool = False) -> dict[str, float]:
    """The quantities the hash cost model multiplies (besides `HashInput`'s own fields):
    `perms`, Poseidon's permutations (ceil(fields / rate)), and `iterations`, the BHP
    hasher runs (ceil(bits / block)). `raw`: the `.raw` opcode (see RAW_PSD_EXTRA)."""
    kind = op.split(".")[1] if "." in op else op
    out = {n: size.get(n) for n in ("bits", "fields", "value_bits", "field_leaves")}
    if kind.startswith("psd"):
        rate = int(kind[3:])
        # Poseidon8 absorbs more than the value: 6 or 7 field elements already take two
        # permutations (measured on [i16; 29] and on a struct of [i16; 13] and [u128; 2],
        # 1,017 and 1,012 constraints; 5 elements take one), as if 3 more were absorbed.
        # Poseidon2/4 were measured only where this does not show.
        extra = RAW_PSD_EXTRA if raw and kind == "psd8" else _PSD_EXTRA.get(kind, 0)
        out["perms"] = float(-(-(size.fields + extra) // rate))
    if kind in _BHP_BLOCK:
        out["iterations"] = float(-(-size.bits // _BHP_BLOCK[kind]))
    return out


def hash_input_size(t: AleoType | str, structs: dict[str, list[tuple[str, AleoType]]],
                    raw: bool = False) -> HashInput:
    """The sizes of a plaintext value of type `t` as snarkVM hashes it.

    BHP and Pedersen hash `to_bits_le`, Poseidon hashes `to_fields`; both carry metadata:
    a literal is 2 variant bits, 8 type bits, 16 size bits and its value bits (a u32 is
    58 bits); an array adds 2 + 32 bits and 16 per element; a struct 2 + 8 bits, and per
    member 8 + 8 per name character + 16. `to_fields` packs the bits plus one terminator
    bit into 252-bit field elements. `raw` (the `.raw` opcodes): the value bits alone.
    Checked against aleo-sdk's `Plaintext.to_bits_le`/`to_fields` (tests/test_costs.py;
    workbench/leo/crypto.py has the same rule for the compiler's types). `structs`: member
    (name, type) lists by struct name.
    """
    if isinstance(t, str):
        t = parse_type(t)
    leaves: dict[str, int] = {}

    def bits(base: str, dims: tuple[int, ...], times: int) -> int:
        if dims:
            inner = bits(base, dims[1:], times * dims[0])
            return dims[0] * inner if raw else 2 + 32 + dims[0] * (16 + inner)
        if base in structs:
            total = 0 if raw else 10
            for name, m in structs[base]:
                inner = bits(m.base, m.dims, times)
                total += inner if raw else 8 + 8 * len(name) + 16 + inner
            return total
        leaves[base] = leaves.get(base, 0) + times
        return _VALUE_BITS[base] + (0 if raw else 26)

    n = bits(t.base, t.dims, 1)
    return HashInput(
        bits=n,
        fields=-(-(n + (0 if raw else 1)) // _FIELD_DATA_BITS),
        value_bits=sum(_VALUE_BITS[b] * k for b, k in leaves.items() if b not in _FIELD_LIKE),
        field_leaves=sum(k for b, k in leaves.items() if b in _FIELD_LIKE),
    )


def _literal_type(tok: str) -> str | None:
    if tok in ("true", "false"):
        return "boolean"
    m = _LITERAL_RE.match(tok)
    return m.group(1) if m else None


# ---------------------------------------------------------------------------------------
# Cost lookup


def _same_class(a: str, b: str) -> bool:
    if a in ("field", "boolean") or b in ("field", "boolean"):
        return a == b
    return a in _BITS and b in _BITS


def _interpolate(table: dict[str, float], ty: str) -> tuple[float, str] | None:
    """Cost for type `ty` from a {type: cost} table: exact, else nearest same-class type
    (same signedness preferred) scaled linearly by bit width (integer gadgets work bit by bit)."""
    if ty in table:
        return table[ty], ty
    if ty == "boolean":
        # a boolean is one bit: costing it like the narrowest integer measured is an upper bound
        narrow = [t for t in ("u8", "i8", "u16", "i16") if t in table]
        if narrow:
            return table[narrow[0]], narrow[0]
    cands = [t for t in table if _same_class(t, ty) and t in _BITS and ty in _BITS]
    if not cands:
        return None
    cands.sort(key=lambda t: (t[0] != ty[0], abs(_BITS[t] - _BITS[ty])))
    src = cands[0]
    return table[src] * _BITS[ty] / _BITS[src], src


# Keccak and SHA3 were not measured: a Keccak-f permutation alone is on the order of 150k
# R1CS constraints, far beyond the offline setup, so charge that rather than a small default.
KECCAK_COST = 150_000


class _CostModel:
    """Cost tables of one size of a circuit: constraints (costs.json's `ops`, `overhead`,
    `call`), or another size (`_quantity_data`); `scale` sizes the fallback defaults."""

    def __init__(self, data: dict[str, Any], scale: float = 1.0, quantity: str = "constraints") -> None:
        self.ops: dict[str, dict[str, float]] = data.get("ops", {})
        self.hash: dict[str, dict[str, Any]] = (data.get("hash") or {}).get("model", {})
        # Measured models of the raw opcodes in this size: {"hash.psd8": {fixed, per}}.
        self.raw_hash: dict[str, dict[str, Any]] = {
            op: m["sizes"].get(quantity, {}) if "sizes" in m else m
            for op, m in ((data.get("hash") or {}).get("raw_model") or {}).items()
        }
        self.oh: dict[str, Any] = data.get("overhead", {})
        call = data.get("call") or {}
        self.call_cost = float(call.get("cost", 1800))
        self.call_measured = bool(call.get("measured", False))
        self.default_op = DEFAULT_UNKNOWN_OP_COST * scale
        self.default_io = DEFAULT_UNKNOWN_IO_COST * scale
        # Long linear combinations (see `_lc_cost`): none for constraints and variables.
        self.lc_term = float(data.get("lc_term", 0.0))
        self.lc_mul: int | None = data.get("lc_mul")
        # Measured inputs (visibility -> type -> [(elements, cost above the empty function)]):
        # the sizes grow in steps (inputs are hashed in packed field elements), which a
        # line through all sizes misses by ~1,250 entries of B on [i16; 13]; between
        # measured lengths of the same type the estimate interpolates instead.
        self.input_points: dict[str, dict[str, list[tuple[int, float]]]] = data.get("input_points", {})
        # The staircase of a private input (scripts/measure_input_steps.py), this size's.
        self.private_input: dict[str, Any] = ((data.get("private_array_input") or {}).get("sizes") or {}).get(quantity, {})

    # -- instructions ------------------------------------------------------------------
    def op_table(self, op: str, mode: str) -> dict[str, float]:
        return {k.split("/")[0]: v for k, v in self.ops.get(op, {}).items() if k.endswith("/" + mode)}

    def op_cost(self, op: str, ty: str, mode: str, notes: list[str]) -> float:
        """Cost of one `op` on operand type `ty`; mode v (unary), vv, vc or cc (ternary)."""
        modes = [mode] + (["vv"] if mode in ("vc", "cc") else [])  # vv is the safe upper bound
        for name in (op, _ALIASES.get(op)):
            if not name:
                continue
            for md in modes:
                got = _interpolate(self.op_table(name, md), ty)
                if got is not None:
                    cost, src = got
                    if name != op and op not in ("lte", "gt", "gte", "is.neq", "sub"):
                        notes.append(f"{op} {ty}: not measured, costed like {name} {src} ({cost:.0f})")
                    return cost
        notes.append(f"{op} {ty} ({mode}): not measured, charged default {DEFAULT_UNKNOWN_OP_COST}")
        return self.default_op

    def cast_cost(self, src: str, dst: str, notes: list[str]) -> float:
        table = {k.split("/")[0]: v for k, v in self.ops.get("cast", {}).items()}
        key = f"{src}->{dst}"
        if key in table:
            return table[key]
        if src == dst:
            return 0.0
        if src in _BITS and dst in _BITS:
            # nearest measured pair of the same direction (into/out of field, widen/narrow)
            def kind(a: str, b: str) -> tuple:
                return (a == "field", b == "field", _BITS[b] >= _BITS[a])

            pairs = [(p.split("->")[0], p.split("->")[1]) for p in table]
            pairs = [p for p in pairs if p[0] in _BITS and p[1] in _BITS and kind(*p) == kind(src, dst)]
            if src == "field" and len(pairs) >= 2:
                # Out of field, the cast decomposes the value into the integer's bits and
                # checks they recompose it: linear in the width (field->i16 and ->i64
                # measured 17 and 65 constraints), so interpolate between the two nearest.
                near = sorted(pairs, key=lambda p: abs(_BITS[p[1]] - _BITS[dst]))[:2]
                (_, a), (_, b) = near
                if _BITS[a] != _BITS[b]:
                    ca, cb = table[f"field->{a}"], table[f"field->{b}"]
                    return max(0.0, ca + (cb - ca) * (_BITS[dst] - _BITS[a]) / (_BITS[b] - _BITS[a]))
            if pairs:
                best = min(pairs, key=lambda p: abs(_BITS[p[0]] - _BITS[src]) + abs(_BITS[p[1]] - _BITS[dst]))
                cost = table[f"{best[0]}->{best[1]}"]
                scale = max(_BITS[src], _BITS[dst]) / max(_BITS[best[0]], _BITS[best[1]])
                if "field" not in (src, dst):
                    cost *= scale
                return cost
        notes.append(f"cast {src}->{dst}: not measured, charged default {DEFAULT_UNKNOWN_OP_COST}")
        return self.default_op

    def hash_cost(self, op: str, value: AleoType, structs: dict[str, list[tuple[str, AleoType]]],
                  notes: list[str]) -> float:
        """Cost of `hash.*`/`commit.*` on a value of type `value` (costs.json "hash").

        Each opcode's model is `fixed + sum(per[x] * x)` over the value's sizes
        (`HashInput`, `hash_regressors`): Poseidon pays per permutation and per field-like
        leaf (its bit decomposition), BHP per hasher iteration and per field-like leaf; a
        commitment is `like` its hash plus an `extra` (the randomizer's multiplication).
        Unmeasured BHP/Pedersen widths are costed like the measured one of their family.
        """
        raw = op.endswith(".raw")
        name = op[: -len(".raw")] if raw else op
        size = hash_input_size(value, structs, raw)
        if raw and self.raw_hash.get(name):
            # Measured raw: fixed + per permutation + per value bit, plus the ordinary
            # model's cost of decomposing each field-like leaf into bits.
            measured = self.raw_hash[name]
            x = hash_regressors(name, size, raw=True)
            total = float(measured.get("fixed", 0.0)) + sum(float(c) * x[k] for k, c in measured.get("per", {}).items())
            leaf = float((self.hash.get(name) or {}).get("per", {}).get("field_leaves", 0.0))
            return max(total + leaf * size.field_leaves, 0.0)
        model = self.hash.get(name)
        if model is None:
            family = re.sub(r"\d+$", "", name)
            measured = sorted(k for k in self.hash if re.sub(r"\d+$", "", k) == family)
            if "keccak" in name or "sha3" in name or not measured:
                cost = KECCAK_COST if "keccak" in name or "sha3" in name else DEFAULT_UNKNOWN_OP_COST
                notes.append(f"{op}: not measured, charged {cost}")
                return float(cost)
            notes.append(f"{op}: not measured, costed like {measured[0]}")
            name, model = measured[0], self.hash[measured[0]]
        if "like" in model:
            return self.hash_cost(model["like"], value, structs, notes) + float(model["extra"])
        x = hash_regressors(name, size, raw)
        total = float(model.get("fixed", 0.0))
        for k, coef in model.get("per", {}).items():
            total += float(coef) * x[k]
        return max(total, 0.0)

    # -- inputs and outputs -------------------------------------------------------------
    def _io_model(self, kind: str, vis: str) -> dict[str, Any] | None:
        tab = self.oh.get(kind, {})
        return tab.get(vis) or tab.get("public" if vis == "private" else "private")

    def io_cost(self, t: AleoType, vis: str, is_output: bool, structs: dict[str, list[AleoType]],
                notes: list[str]) -> float:
        """fixed + node * inner arrays + sum over elements of element[T] (see costs.json)."""
        kind = "output" if is_output else "input"
        if vis == "constant":
            vis = "public"  # hashed like a public value
        points = self.input_points.get(vis, {}).get(t.base) if not is_output and len(t.dims) <= 1 else None
        if points and len(points) >= 2:
            return _piecewise(points, t.elements)
        m = self._io_model(kind, vis) if vis in ("private", "public") else None
        if m is None:
            notes.append(f"{vis} {kind} {t.base}: not modelled, charged default {DEFAULT_UNKNOWN_IO_COST}")
            return self.default_io
        if vis not in self.oh.get(kind, {}):
            notes.append(f"{vis} {kind}s not measured; costed like the other visibility")
        leaves: list[str] = []
        if t.base in structs:
            # a struct is costed like an array of its members (one array node)
            for mem in structs[t.base]:
                leaves += [mem.base] * mem.elements
            leaves = leaves * t.elements
            nodes = max(t.array_nodes - 1, 0) + t.elements
        else:
            leaves = [t.base] * t.elements
            nodes = max(t.array_nodes - 1, 0)  # inner arrays of a nested array
        per: dict[str, float] = m.get("element", {})
        total = float(m.get("fixed", 0.0)) + float(m.get("node", 0.0)) * nodes
        for base in set(leaves):
            got = _interpolate(per, base)
            if got is None:
                notes.append(f"{kind} element type {base}: not measured, charged {DEFAULT_UNKNOWN_IO_COST // 4} each")
                cost = self.default_io / 4
            else:
                cost = got[0]
            total += cost * leaves.count(base)
        return total

    def private_input_cost(self, t: AleoType, named: dict[str, list[tuple[str, AleoType]]]) -> float | None:
        """A private input's cost on the measured staircase (scripts/measure_input_steps.py):
        per element of each type, plus a step per eight field elements of its plaintext past
        the first eight (encryption and commitment each take one more Poseidon8 permutation).
        None when not measured (no table, or an element type without a cost)."""
        m = self.private_input
        if not m:
            return None
        leaves: dict[str, int] = {}  # element type -> how many (struct members flattened)

        def walk(base: str, times: int) -> None:
            if base in named:
                for _, member in named[base]:
                    walk(member.base, times * member.elements)
            else:
                leaves[base] = leaves.get(base, 0) + times

        walk(t.base, t.elements)
        element = m.get("element", {})
        if any(b not in element for b in leaves):
            return None
        steps = -(-hash_input_size(t, named).fields // 8) - 1
        # The probe's base holds the empty function and its public field output: not the input's.
        probe = float(self.oh.get("empty", 0.0)) + self.io_cost(AleoType("field"), "public", True, {}, [])
        own = float(m.get("base", 0.0)) - probe
        return own + sum(float(element[b]) * k for b, k in leaves.items()) + float(m.get("step", 0.0)) * steps


def _model() -> _CostModel:
    return _CostModel(load_costs())


# ---------------------------------------------------------------------------------------
# Estimation


_ACCESS_RE = re.compile(r"^(r\d+)((?:\[\d+u32\]|\.\w+)*)$")


def _operand(tok: str, regs: dict[str, _Operand], structs: dict[str, list[AleoType]],
             named: dict[str, list[tuple[str, AleoType]]] | None = None) -> _Operand:
    lt = _literal_type(tok)
    if lt is not None:
        return _Operand(AleoType(lt), True)
    m = _ACCESS_RE.match(tok)
    if m and m.group(1) in regs:
        reg = regs[m.group(1)]
        t = reg.type
        for step in re.findall(r"\[\d+u32\]|\.\w+", m.group(2)):
            if t is None:
                break
            if step.startswith("[") and t.dims:
                t = t.element(1)
            elif step.startswith(".") and not t.dims and t.base in (named or {}):
                # A struct member (`r0.values`, hashed on its own): its type by name.
                t = dict((named or {})[t.base]).get(step[1:])
            else:
                t = None  # unknown: the instruction takes its type from another operand
        return _Operand(t, reg.const, reg.lc, reg.width)
    return _Operand(None, False)  # e.g. self.caller, block.height, program ids


def _literal_int(tok: str) -> int | None:
    """The value of an integer literal token (`65535u128` -> 65535), else None."""
    m = _LITERAL_RE.match(tok)
    if not m or m.group(1) in ("field", "group", "scalar"):
        return None
    return int(tok[: -len(m.group(1))].replace("_", ""))


def _instruction_cost(line: str, regs: dict[str, _Operand], model: _CostModel,
                      structs: dict[str, list[AleoType]], notes: list[str],
                      callees: dict[str, list[AleoType]] | None = None,
                      named: dict[str, list[tuple[str, AleoType]]] | None = None) -> float:
    """Cost of one instruction; records the destination register's type and constness."""
    parts = line.split()
    op = parts[0]
    dests: list[str] = []
    as_type: AleoType | None = None
    if "into" in parts:
        i = parts.index("into")
        operands = parts[1:i]
        rest = parts[i + 1:]
        if "as" in rest:
            j = rest.index("as")
            dests, as_type = rest[:j], parse_type(" ".join(rest[j + 1:]).split(".")[0])
        else:
            dests = rest
    else:
        operands = parts[1:]

    if op == "call":
        target = operands[0] if operands else "?"
        # Output types of an imported function, when its program was given to `estimate`.
        out_types = (callees or {}).get(target, [])
        for k, d in enumerate(dests):
            regs[d] = _Operand(out_types[k] if k < len(out_types) else None, False)
        if "/" in target or target.endswith(".aleo"):
            if not model.call_measured:
                notes.append(f"call {target}: cost {model.call_cost:.0f} is a default, not measured")
            return model.call_cost
        notes.append(f"call {target}: local closure not modelled, charged default {DEFAULT_UNKNOWN_OP_COST}")
        return model.default_op

    ops = [_operand(o, regs, structs, named) for o in operands]
    const = all(o.const for o in ops) and bool(ops)
    # destination type
    if op in _BOOL_RESULT:
        dtype: AleoType | None = AleoType("boolean")
    elif op.startswith(("cast", "hash.", "commit.")):
        dtype = as_type
    elif op == "ternary":
        dtype = ops[1].type if len(ops) > 1 else None
    else:
        dtype = ops[0].type if ops else None
    lc = _result_terms(op, ops, dtype, as_type)
    width = _masked_width(op, operands, ops, dtype)
    for d in dests:
        regs[d] = _Operand(dtype, const, lc, width)

    if const:
        return 0.0  # snarkVM folds instructions on constants
    if width is not None and op == "and":
        return 0.0  # each bit is kept or zeroed by a constant: no constraint (measured)
    if op.startswith("cast") and ops and ops[0].width is not None and as_type is not None \
            and as_type.base.startswith("u") and not as_type.dims and ops[0].width <= _BITS.get(as_type.base, 0):
        # Unpacking a packed input: its dropped bits are constant zeros (measured: 0).
        return 0.0
    return _lc_cost(op, ops, model) + _op_cost(op, line, ops, as_type, model, structs, notes, named)


def _masked_width(op: str, tokens: list[str], ops: list[_Operand], dtype: AleoType | None) -> int | None:
    """How many bits an unsigned result can have: `and` with a constant mask, or a value
    of known width shifted right by a constant (the unpacking of packed inputs)."""
    if dtype is None or dtype.dims or not dtype.base.startswith("u"):
        return None
    if op == "and" and len(ops) == 2:
        masks = [v for v in (_literal_int(t) for t in tokens) if v is not None]
        widths = [o.width for o in ops if not o.const and o.width is not None]
        if masks:
            return min([masks[0].bit_length()] + widths)
    if op == "shr" and len(ops) == 2 and ops[1].const and ops[0].type is not None and ops[0].type.base in _BITS:
        # A logical shift by a constant moves the bits down and fills constant zeros.
        amount = _literal_int(tokens[1])
        if amount is not None:
            return max(1, (ops[0].width or _BITS[ops[0].type.base]) - amount)
    return None


def _result_terms(op: str, ops: list[_Operand], dtype: AleoType | None, as_type: AleoType | None) -> int:
    """Terms of the linear combination an instruction's field result is (see _Operand.lc)."""
    if op.startswith("cast") and as_type is not None and as_type.dims:
        return max((o.lc for o in ops), default=1)  # an array keeps its elements' combinations
    if dtype is None or dtype.base != "field" or dtype.dims:
        return 1
    if op in ("add", "sub"):
        return sum(1 if o.const else o.lc for o in ops)
    if op in ("mul", "neg", "double") and sum(not o.const for o in ops) == 1:
        return next(o.lc for o in ops if not o.const)  # a constant factor keeps the combination
    if op.startswith("cast") and ops and ops[0].type is not None and ops[0].type.base in _BITS and ops[0].type.base != "field":
        # An integer is its bits: as a field, their weighted sum (a masked one: its kept bits).
        return ops[0].width or _BITS[ops[0].type.base]
    return 1


def _lc_cost(op: str, ops: list[_Operand], model: "_CostModel") -> float:
    """What consuming long linear combinations adds beyond the measured op (whose field
    operands were `x + constant`, two terms): each further term is one more entry in a
    matrix. A var*var product puts its first operand in A and its second in B (one entry
    per term, measured by scripts/measure_limits.py); other consumers (casts, comparisons)
    cost `lc_term` per term (measured on a field->u32 cast, scripts/measure_costs.py)."""
    if op in ("add", "sub", "neg", "double") or not any(o.lc > 2 for o in ops):
        return 0.0
    if op == "mul":
        if any(o.const for o in ops):
            return 0.0
        if model.lc_mul is None or len(ops) < 2:
            return 0.0
        return float(max(0, ops[model.lc_mul].lc - 2))
    return model.lc_term * sum(max(0, o.lc - 2) for o in ops)


def _op_cost(op: str, line: str, ops: list[_Operand], as_type: AleoType | None, model: "_CostModel",
             structs: dict[str, list[AleoType]], notes: list[str],
             named: dict[str, list[tuple[str, AleoType]]] | None = None) -> float:
    """The measured cost of a non-constant instruction (see `_instruction_cost`)."""
    if op.startswith(("hash.", "commit.")):
        value = ops[0].type if ops else None
        if value is None:
            notes.append(f"{line}: hashed value's type unknown, charged default {DEFAULT_UNKNOWN_OP_COST}")
            return float(DEFAULT_UNKNOWN_OP_COST)
        return model.hash_cost(op, value, named or {}, notes)
    if op.startswith("cast"):
        src = ops[0].type
        if as_type is not None and (as_type.dims or as_type.base in structs):
            # Casting into an array or struct type builds it from its elements: no
            # constraint (measured: scripts/measure_hash_costs.py builds its values so).
            return 0.0
        if src is None or src.dims or as_type is None or as_type.dims:
            notes.append(f"{line}: cast of a non-literal value not modelled, charged default "
                         f"{DEFAULT_UNKNOWN_OP_COST}")
            return model.default_op
        return model.cast_cost(src.base, as_type.base, notes)
    if op == "ternary":
        if len(ops) != 3 or ops[1].type is None:
            notes.append(f"{line}: ternary operand type unknown, charged default {DEFAULT_UNKNOWN_OP_COST}")
            return model.default_op
        if ops[0].const:
            return 0.0  # a constant condition just selects one branch
        t = ops[1].type
        if t.dims or t.base in structs:
            # a ternary on an aggregate selects every element
            elems = t.elements if t.base not in structs else t.elements * max(1, len(structs[t.base]))
            return elems * model.op_cost("ternary", t.base if t.base not in structs else "field", "vv", notes)
        n_const = sum(o.const for o in ops[1:])
        mode = {0: "vv", 1: "vc", 2: "cc"}[n_const]
        return model.op_cost("ternary", t.base, mode, notes)
    typed = next((o.type for o in ops if o.type is not None), None)
    if typed is None:
        notes.append(f"{line}: operand types unknown, charged default {DEFAULT_UNKNOWN_OP_COST}")
        return model.default_op
    if op in ("shl", "shr", "shl.w", "shr.w", "pow", "pow.w"):
        typed = ops[0].type or typed  # the amount/exponent has its own (u8/u16/u32) type
        mode = "vc" if len(ops) > 1 and ops[1].const else "vv"
    elif len(ops) == 1:
        mode = "v"
    else:
        mode = "vc" if any(o.const for o in ops) else "vv"
    if typed.dims:
        if op in ("is.eq", "is.neq", "assert.eq", "assert.neq"):
            return typed.elements * model.op_cost(op, typed.base, mode, notes)
        notes.append(f"{line}: op on an array not modelled, charged default {DEFAULT_UNKNOWN_OP_COST}")
        return model.default_op
    return model.op_cost(op, typed.base, mode, notes)


# A private input's plaintext is packed into field elements that snarkVM encrypts (one
# Poseidon8 call for their randomizers) and commits to (another): past seven elements each
# call takes a second permutation. The per-element input tables were measured on arrays,
# so they hold it on average; a struct input (several arrays) crosses the threshold in a
# step the tables miss: measured (2026-12-02), a struct input { [u8; 30], [u16; 6] } costs
# 1,131 constraints more than { [u8; 30] } alone, the tables said 116.
_INPUT_HASHES = 2
# Fitted on those measurements: { [u8; 30] } packs into 7 elements and takes one
# permutation, with [u16; 6] (9 elements) two, with [u128; 2] more (10) still two.
_INPUT_EXTRA_FIELDS = 1


def _struct_input_permutations(t: AleoType, vis: str, named: dict[str, list[tuple[str, AleoType]]],
                               model: "_CostModel") -> float:
    """What a private struct input's plaintext costs past the permutations the tables price."""
    if vis != "private" or t.dims or t.base not in named or "hash.psd8" not in model.hash:
        return 0.0
    fields = hash_input_size(t, named).fields
    extra = max(0, -(-(fields + _INPUT_EXTRA_FIELDS) // 8) - 1)
    return extra * _INPUT_HASHES * float(model.hash["hash.psd8"]["per"]["perms"])


def _function_overhead(fn: _Function, model: _CostModel, structs: dict[str, list[AleoType]],
                       notes: list[str], named: dict[str, list[tuple[str, AleoType]]] | None = None) -> float:
    total = float(model.oh.get("empty", 0.0))
    for t, vis in fn.inputs:
        staircase = model.private_input_cost(t, named or {}) if vis == "private" else None
        if staircase is not None:
            total += staircase
            continue
        total += model.io_cost(t, vis, False, structs, notes)
        total += _struct_input_permutations(t, vis, named or {}, model)
    for t, vis in fn.outputs:
        total += model.io_cost(t, vis, True, structs, notes)
    return total


def _program_id(source: str) -> str | None:
    m = re.search(r"^program\s+([\w.]+);", source, re.MULTILINE)
    return m.group(1) if m else None


def estimate(aleo_source: str, imported: Iterable[str] = ()) -> dict[str, FunctionEstimate]:
    """Detailed estimate per function: overhead, instruction cost and fallback notes.

    `imported` are the Aleo sources of programs this one calls: they give the types of
    the calls' outputs (what the caller then computes with).
    """
    return _estimate_with(_model(), aleo_source, imported, log_notes=True)


def _estimate_with(model: _CostModel, aleo_source: str, imported: Iterable[str],
                   log_notes: bool) -> dict[str, FunctionEstimate]:
    """`estimate` with the tables of one size of the circuit (constraints or another)."""
    funcs, structs = _parse_functions(aleo_source)
    names = _struct_member_names(aleo_source)
    named = {s: list(zip(names.get(s, []), members)) for s, members in structs.items()}
    callees: dict[str, list[AleoType]] = {}
    for source in imported:
        pid = _program_id(source)
        for fn in _parse_functions(source)[0]:
            callees[f"{pid}/{fn.name}"] = [t for t, _ in fn.outputs]
    out: dict[str, FunctionEstimate] = {}
    for fn in funcs:
        est = FunctionEstimate(fn.name)
        est.overhead = _function_overhead(fn, model, structs, est.notes, named)
        regs: dict[str, _Operand] = {f"r{i}": _Operand(t, False) for i, (t, _) in enumerate(fn.inputs)}
        for line in fn.body:
            try:
                est.instructions += _instruction_cost(line, regs, model, structs, est.notes, callees, named)
            except Exception as exc:  # an odd line must never crash the estimator
                est.notes.append(f"{line}: could not be parsed ({exc}); charged default {DEFAULT_UNKNOWN_OP_COST}")
                est.instructions += model.default_op
        est.notes = list(dict.fromkeys(est.notes))  # one note per distinct fallback
        if log_notes:
            for n in est.notes:
                log.info("constraint estimate %s: %s", fn.name, n)
        out[fn.name] = est
    return out


# -- the other sizes of a circuit ---------------------------------------------------------
# Used only if costs.json has no `shapes` tables (scripts/measure_costs.py --shapes): each
# size costed as constraints times a typical ratio (from the iris tree's verifying key).
_FALLBACK_PER_CONSTRAINT = {"public_inputs": 0.0, "variables": 1.0, "nonzero_a": 2.3,
                            "nonzero_b": 3.2, "nonzero_c": 1.35}


def _quantity_data(data: dict[str, Any], quantity: str) -> tuple[dict[str, Any], float]:
    """The cost tables of one size (`shapes.quantities.<size>` of costs.json) in the form of
    the constraint tables, and its ratio to constraints. Ops measured for constraints only
    cost their constraint cost times the size's median ratio (`per_constraint`); so do calls."""
    tables = ((data.get("shapes") or {}).get("quantities") or {}).get(quantity)
    call = dict(data.get("call") or {})
    if tables is None:
        ratio = _FALLBACK_PER_CONSTRAINT[quantity]
        scaled_oh = json.loads(json.dumps(data.get("overhead", {})), parse_float=float)
        _scale_tree(scaled_oh, ratio)
        ops = {op: {k: c * ratio for k, c in tab.items()} for op, tab in data.get("ops", {}).items()}
        return {"ops": ops, "overhead": scaled_oh,
                "call": {**call, "cost": float(call.get("cost", 1800)) * ratio},
                "hash": _scaled_hash_model(data, ratio)}, ratio
    ratio = float(tables.get("per_constraint", 1.0))
    own_ops: dict[str, dict[str, float]] = tables.get("ops", {})
    ops: dict[str, dict[str, float]] = {}
    for op, tab in data.get("ops", {}).items():
        ops[op] = {}
        for k, c in tab.items():
            if k in own_ops.get(op, {}):
                ops[op][k] = float(own_ops[op][k])
                continue
            # An op measured for constraints only: like its alias's measured size when the
            # alias (same gadget) was measured for this type and mode, else by the ratio.
            alias = _ALIASES.get(op)
            base_c = data.get("ops", {}).get(alias or "", {}).get(k)
            if alias and k in own_ops.get(alias, {}) and base_c:
                ops[op][k] = float(own_ops[alias][k]) * c / base_c
            else:
                ops[op][k] = c * ratio
    for op, tab in own_ops.items():
        ops.setdefault(op, {}).update({k: float(v) for k, v in tab.items() if k not in ops[op]})
    call_cost = tables.get("call")
    if call_cost is not None:
        call = {**call, "cost": float(call_cost), "measured": True}
    else:
        call = {**call, "cost": float(call.get("cost", 1800)) * ratio}
    points = _input_points((data.get("shapes") or {}).get("raw") or {}, quantity)
    return {"ops": ops, "overhead": tables.get("overhead", {}), "call": call, "input_points": points,
            "private_array_input": data.get("private_array_input"),
            "lc_term": float(tables.get("lc_term", 0.0)), "lc_mul": _LC_MUL_OPERAND.get(quantity),
            "hash": _scaled_hash_model(data, ratio)}, ratio


def _scaled_hash_model(data: dict[str, Any], ratio: float) -> dict[str, Any]:
    """The hash and commit models (measured for constraints only) in another size's units:
    every coefficient times the size's ratio to constraints. Without it a hash would be
    charged the flat default in every other size (1,000 public inputs for a Poseidon8)."""
    hashes = json.loads(json.dumps((data.get("hash") or {}).get("model", {})))
    for model in hashes.values():
        if "fixed" in model:
            model["fixed"] = float(model["fixed"]) * ratio
        if "extra" in model:
            model["extra"] = float(model["extra"]) * ratio
        model["per"] = {k: float(v) * ratio for k, v in (model.get("per") or {}).items()}
    # The raw models were measured in every size: each size picks its own (_CostModel).
    return {"model": hashes, "raw_model": (data.get("hash") or {}).get("raw_model") or {}}


# Which operand of a field var*var product is a row of A (0) or of B (1).
_LC_MUL_OPERAND = {"nonzero_a": 0, "nonzero_b": 1}


def _piecewise(points: list[tuple[int, float]], n: int) -> float:
    """Linear interpolation through measured (elements, cost) points, sorted by elements;
    beyond the last (or before the first) point, the nearest segment's slope."""
    pts = sorted(points)
    for (n0, c0), (n1, c1) in zip(pts, pts[1:]):
        if n <= n1 or (n1, c1) == pts[-1]:
            return c0 + (c1 - c0) * (n - n0) / (n1 - n0)
    return pts[-1][1]


def _input_points(raw: dict[str, dict[str, int]], quantity: str) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """Single flat inputs measured for one size: visibility -> type -> [(elements, cost)]."""
    empty = (raw.get("empty") or {}).get(quantity)
    out: dict[str, dict[str, list[tuple[int, float]]]] = {}
    if empty is None:
        return out
    for key, sizes in raw.items():
        parts = key.split("/")
        if len(parts) != 4 or parts[0] != "in" or "x" in parts[3]:
            continue
        _, vis, ty, shape = parts
        n = 1 if shape == "scalar" else int(shape)
        out.setdefault(vis, {}).setdefault(ty, []).append((n, float(sizes[quantity] - empty)))
    return out


def _scale_tree(tree: Any, factor: float) -> None:
    """Multiply every number of a nested dict in place (fallback overhead tables)."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                tree[k] = v * factor
            else:
                _scale_tree(v, factor)


_OTHER_SIZES = ("public_inputs", "variables", "nonzero_a", "nonzero_b", "nonzero_c")


@lru_cache(maxsize=1)
def _quantity_models() -> dict[str, _CostModel]:
    data = load_costs()
    models = {}
    for q in _OTHER_SIZES:
        tables, ratio = _quantity_data(data, q)
        models[q] = _CostModel(tables, scale=max(ratio, 1.0), quantity=q)
    return models


def estimate_shapes(aleo_source: str, imported: Iterable[str] = ()) -> dict[str, CircuitShape]:
    """The six sizes of every function's circuit (what its verifying key will record),
    predicted before key synthesis, by function name.

    Constraints are `estimate_constraints`' numbers. Variables and the non-zero entries of
    A, B and C are summed from their own measured tables (costs.json `shapes`, written by
    `scripts/measure_costs.py --shapes`) in the same way; public inputs are rounded up to
    a power of two, as snarkVM pads them. See docs/cost-model.md for the accuracy.
    """
    sizes: dict[str, dict[str, int]] = {
        name: {"constraints": e.total} for name, e in estimate(aleo_source, imported).items()
    }
    for q, model in _quantity_models().items():
        for name, e in _estimate_with(model, aleo_source, imported, log_notes=False).items():
            sizes[name][q] = max(0, e.total)
    out = {}
    for name, d in sizes.items():
        d["public_inputs"] = domain_size(max(1, d["public_inputs"]))
        out[name] = CircuitShape(**d)
    return out


def estimate_constraints(aleo_source: str, imported: Iterable[str] = ()) -> dict[str, int]:
    """Estimated constraint count of every function of an Aleo program, by name.

    `imported`: the sources of the programs it calls (see `estimate`). Unmeasured
    opcodes/types fall back to documented defaults; see `estimate` for the notes (they
    are also logged at INFO level).
    """
    return {name: e.total for name, e in estimate(aleo_source, imported).items()}


def private_input_constraints(aleo_type: str) -> float | None:
    """Estimated constraints of one private input of `aleo_type` (e.g. `[[u16; 4u32]; 2u32]`),
    on the measured staircase; None when its element type was not measured."""
    return _model().private_input_cost(parse_type(aleo_type), {})


def overhead_constraints(aleo_source: str) -> dict[str, int]:
    """Estimated constraints of an empty function with each function's inputs and outputs.

    This is the fixed cost of a transition (request signature, input/output hashing); the
    rest of the offline budget (`OFFLINE_BUDGET`) is what the function body may spend.
    """
    return {name: int(round(e.overhead)) for name, e in estimate(aleo_source).items()}
