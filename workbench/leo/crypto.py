"""Leo's hash and commit core functions: `BHP256::hash_to_field(x)`, `BHP256::commit_to_field(x, salt)`,
`Poseidon2::hash_to_field(x)`, ...; their names, types and the Aleo opcodes they lower to.

A core function is written `Family::hash_to_T(value)`, `Family::hash_to_T_raw(value)` or
`Family::commit_to_T(value, salt)` with a `scalar` salt. It lowers to one instruction:
`hash.bhp256 r0 into r1 as field;`, `hash.bhp256.raw ...`, `commit.bhp256 r0 r1 into r2 as field;`.
snarkVM hashes a value's bits (`to_bits_le`: the value with its type metadata, see
``plaintext_bits``; the raw forms hash the bare value bits) or, for Poseidon, those bits
packed into field elements. The value may be any primitive, array or struct.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Optional

from .ltypes import INT_BITS, ArrayType, Prim, StructType, Type, is_empty


@dataclass(frozen=True)
class Family:
    """One hash family as Leo names it, and its Aleo opcode suffix."""

    leo: str  # `BHP256`
    opcode: str  # `bhp256`: `hash.bhp256`, `commit.bhp256`
    commits: bool  # has `commit_to_*`
    max_bits: Optional[int] = None  # Pedersen: snarkVM halts on a longer input
    halts: bool = False  # whether the instruction itself can halt (so it is never dropped)


FAMILIES: dict[str, Family] = {f.leo: f for f in (
    Family("BHP256", "bhp256", True),
    Family("BHP512", "bhp512", True),
    Family("BHP768", "bhp768", True),
    Family("BHP1024", "bhp1024", True),
    Family("Pedersen64", "ped64", True, 64, True),
    Family("Pedersen128", "ped128", True, 128, True),
    Family("Poseidon2", "psd2", False),
    Family("Poseidon4", "psd4", False),
    Family("Poseidon8", "psd8", False),
    Family("Keccak256", "keccak256", False),
    Family("Keccak384", "keccak384", False),
    Family("Keccak512", "keccak512", False),
    Family("SHA3_256", "sha3_256", False),
    Family("SHA3_384", "sha3_384", False),
    Family("SHA3_512", "sha3_512", False),
)}

# Result types, as snarkVM's `as` clause allows them (Leo spells them the same way).
HASH_RESULTS = ("address", "field", "group", "scalar") + tuple(INT_BITS)
COMMIT_RESULTS = ("address", "field", "group")

_NAME = re.compile(r"(hash|commit)_to_([a-z0-9]+?)(_raw)?")


@dataclass(frozen=True)
class CoreCall:
    """A resolved core function: `BHP256::hash_to_field_raw` is (BHP256, hash, field, raw)."""

    family: Family
    kind: str  # "hash" or "commit"
    result: str  # Leo type name of the result
    raw: bool = False

    @property
    def opcode(self) -> str:
        """The Aleo opcode: `hash.bhp256`, `hash.psd2.raw`, `commit.ped64`."""
        return f"{self.kind}.{self.family.opcode}" + (".raw" if self.raw else "")

    @property
    def arity(self) -> int:
        return 2 if self.kind == "commit" else 1


def is_core_owner(owner: str) -> bool:
    """Whether `owner::name(..)` names a hash family (and not a struct's `impl` function)."""
    return owner in FAMILIES


def resolve(owner: str, name: str) -> CoreCall | str:
    """The core function `owner::name`, or the reason it does not exist (a message)."""
    fam = FAMILIES[owner]
    m = _NAME.fullmatch(name)
    if m is None:
        forms = "`hash_to_TYPE`" + (", `commit_to_TYPE`" if fam.commits else "")
        return f"`{owner}` has no function `{name}`; it has {forms}"
    kind, result, raw = m.group(1), m.group(2), bool(m.group(3))
    if kind == "commit" and not fam.commits:
        return f"`{owner}` has no commitment; use a BHP or Pedersen family, or hash a value and a random salt"
    if kind == "commit" and raw:
        return f"`{owner}::{name}`: commitments have no `_raw` form"
    allowed = COMMIT_RESULTS if kind == "commit" else HASH_RESULTS
    if result not in allowed:
        return (f"`{owner}::{kind}_to_{result}` does not exist: a {kind} gives "
                + ", ".join(f"`{t}`" for t in allowed))
    return CoreCall(fam, kind, result, raw)


# Bits of each literal type's value in snarkVM (`size_in_bits`).
VALUE_BITS = {**INT_BITS, "bool": 1, "field": 253, "scalar": 251, "group": 253, "address": 253}


def plaintext_bits(t: Type, structs: Mapping[str, list[tuple[str, Type]]], raw: bool = False) -> int:
    """Length of snarkVM's `to_bits_le` of a value of type ``t`` (``raw``: `to_bits_raw_le`).

    The metadata: a literal has 2 variant bits, 8 type bits and 16 size bits before its
    value; an array 2 + 32 bits, then 16 per element; a struct 2 + 8 bits, then per member
    8 + 8 per name character + 16. Raw bits are the values alone. Empty arrays are not part
    of an Aleo value (see ``ltypes.is_empty``). The same rule is `hash_input_size` in
    workbench/snarkvm/costs.py, checked against aleo-sdk in tests/test_costs.py.
    """
    if isinstance(t, Prim):
        return VALUE_BITS[t.name] + (0 if raw else 26)
    if isinstance(t, ArrayType):
        inner = plaintext_bits(t.element, structs, raw)
        return t.length * inner if raw else 34 + t.length * (16 + inner)
    if isinstance(t, StructType):
        total = 0 if raw else 10
        for name, mt in structs[t.name]:
            if is_empty(mt):
                continue
            inner = plaintext_bits(mt, structs, raw)
            total += inner if raw else 8 + 8 * len(name) + 16 + inner
        return total
    raise TypeError(t)
