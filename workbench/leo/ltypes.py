"""Leo types as values, with the facts the checker and the constant folder need."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

# BLS12-377 scalar field: the modulus of Aleo's `field` type.
FIELD_MODULUS = 8444461749428370424248824938781546531375899335154063827935233455917409239041

INT_BITS = {"i8": 8, "i16": 16, "i32": 32, "i64": 64, "i128": 128,
            "u8": 8, "u16": 16, "u32": 32, "u64": 64, "u128": 128}
# `scalar`, `group` and `address` are values to hash, commit, compare and pass on: they have
# no arithmetic, ordering or casts here (Leo's group and scalar arithmetic is left out).
OPAQUE_NAMES = frozenset({"scalar", "group", "address"})
PRIMITIVE_NAMES = frozenset(INT_BITS) | {"field", "bool"} | OPAQUE_NAMES
# The order of the scalar field of Aleo's curve: a `scalar` literal is below it.
SCALAR_MODULUS = 2111115437357092606062206234695386632838870926408408195193685246394721360383
MAGNITUDE_TYPES = frozenset({"u8", "u16", "u32"})


@dataclass(frozen=True)
class Prim:
    """A primitive: an integer type, ``field``, ``bool``, or one of the opaque ``scalar``,
    ``group`` and ``address``."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class ArrayType:
    element: "Type"
    length: int

    def __str__(self) -> str:
        return f"[{self.element}; {self.length}]"


@dataclass(frozen=True)
class StructType:
    """A struct by its Aleo name; an instance of a generic struct is named like Leo names it
    (``Foo__6h1mBzWS4b``) and shown as written (``Foo::[10u32]``)."""

    name: str
    display: str = field(default="", compare=False)

    def __str__(self) -> str:
        return self.display or self.name


@dataclass(frozen=True)
class OptionalType(StructType):
    """`T?`: Leo lowers it to a struct `{ is_some: bool, val: T }` named from `T` (see
    ``checker.optional_struct_name``), so everything past the checker treats it as that struct."""

    inner: "Type" = field(default=None, compare=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class TupleType:
    elements: tuple["Type", ...]

    def __str__(self) -> str:
        return "(" + ", ".join(str(e) for e in self.elements) + ")"


Type = Union[Prim, ArrayType, StructType, TupleType]

BOOL = Prim("bool")
FIELD = Prim("field")
U32 = Prim("u32")


def is_int(t: object) -> bool:
    return isinstance(t, Prim) and t.name in INT_BITS


def is_signed(t: object) -> bool:
    return isinstance(t, Prim) and t.name.startswith("i")


def is_unsigned(t: object) -> bool:
    return isinstance(t, Prim) and t.name.startswith("u")


def is_field(t: object) -> bool:
    return t == FIELD


def is_bool(t: object) -> bool:
    return t == BOOL


def is_opaque(t: object) -> bool:
    """`scalar`, `group`, `address`: no operators but `==`, `!=` and `?:`."""
    return isinstance(t, Prim) and t.name in OPAQUE_NAMES


def is_numeric(t: object) -> bool:
    """Integers and field: the types with arithmetic and ordering."""
    return is_int(t) or is_field(t)


def int_range(name: str) -> tuple[int, int]:
    """Inclusive value range of an integer type."""
    bits = INT_BITS[name]
    if name.startswith("i"):
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def fits(value: int, t: Prim) -> bool:
    """Whether an integer is a valid value of ``t`` (field: 0 <= v < p)."""
    if t.name == "field":
        return 0 <= value < FIELD_MODULUS
    if t.name == "scalar":
        return 0 <= value < SCALAR_MODULUS
    lo, hi = int_range(t.name)
    return lo <= value <= hi


def is_empty(t: object) -> bool:
    """A type with no values to store: `[T; 0]`, or an array of such. Leo drops these from
    inputs, outputs and struct members (snarkVM has no empty arrays)."""
    return isinstance(t, ArrayType) and (t.length == 0 or is_empty(t.element))


def aleo_type(t: Type) -> str:
    """Spelling of a type in Aleo instructions (``bool`` is ``boolean``, lengths are u32)."""
    if isinstance(t, Prim):
        return "boolean" if t.name == "bool" else t.name
    if isinstance(t, ArrayType):
        return f"[{aleo_type(t.element)}; {t.length}u32]"
    if isinstance(t, StructType):
        return t.name
    raise TypeError(f"type {t} has no single Aleo spelling")
