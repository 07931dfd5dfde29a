"""Fixed-point numbers, declared input ranges and the choice of Leo integer types.

Rounding rule (the one every model family uses, and the one the integer reference and the
Leo program share): a real value v becomes the integer

    q(v) = floor(v * 2^f + 1/2)          (round half up)

where f is the number of fractional bits. q is monotone non-decreasing, so `v <= t`
implies `q(v) <= q(t)`; the reverse can fail only for values closer than 2^-f to t,
which is the quantization error reported as float vs quantized accuracy.

Inputs are clipped to the declared input range [low, high] before quantization, so every
integer the circuit sees lies in [q(low), q(high)]: types are chosen over that range, not
over the samples that happened to be seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TypeVar

import numpy as np

from workbench.errors import UserError

# Margin added on each side of the training range when input_range = "auto", as a fraction
# of each feature's training span: test rows slightly outside the training range still
# quantize without clipping.
AUTO_RANGE_MARGIN = 0.25
# The "auto" fractional-bit search tries 0..MAX_AUTO_FRACTIONAL_BITS bits.
MAX_AUTO_FRACTIONAL_BITS = 16

M = TypeVar("M")


@dataclass(frozen=True)
class QuantizationSpec:
    """Fixed-point options: fractional bits and the declared input range.

    The TOML's `[quantization]` section, and the options a Python caller passes.
    """

    fractional_bits: int | None = None  # None means "auto"
    input_range: tuple[float, float] | None = None  # None means "auto" (from the calibration rows)


@dataclass(frozen=True, eq=False)
class Calibration:
    """The rows a model is quantized against: the training features, and targets if known.

    Input ranges ("auto"), the fractional-bit search and regression tolerances are taken
    from these rows; `y` is optional (a caller bringing only features still gets a model).
    """

    X: np.ndarray
    y: np.ndarray | None = None


class NoIntegerType(UserError):
    """A value range that no Leo integer type holds (the model needs fewer bits or a narrower range)."""

    title = "model too wide for Leo integers"


@dataclass(frozen=True)
class IntType:
    """A Leo integer type."""

    signed: bool
    bits: int

    @property
    def name(self) -> str:
        return f"{'i' if self.signed else 'u'}{self.bits}"

    @property
    def min(self) -> int:
        return -(2 ** (self.bits - 1)) if self.signed else 0

    @property
    def max(self) -> int:
        return 2 ** (self.bits - 1) - 1 if self.signed else 2**self.bits - 1

    def holds(self, low: int, high: int) -> bool:
        return self.min <= low and high <= self.max


@dataclass(frozen=True)
class FieldType:
    """Leo's `field`: integers modulo FIELD_MODULUS. Additions and multiplications by
    constants cost no constraints, but there is no overflow check and no ordering, so a
    negative value v is the element FIELD_MODULUS + v (see `field_to_int`)."""

    name: str = "field"


FIELD = FieldType()
# The scalar field of BLS12-377, which Aleo's `field` type uses.
FIELD_MODULUS = 8444461749428370424248824938781546531375899335154063827935233455917409239041


def type_named(name: str) -> "IntType | FieldType":
    """The Leo type called `name`: "field", or an integer type such as "u8" or "i16"."""
    if name == FIELD.name:
        return FIELD
    if len(name) > 1 and name[0] in "iu" and name[1:].isdigit() and int(name[1:]) in _WIDTHS:
        return IntType(name[0] == "i", int(name[1:]))
    raise ValueError(f"not a Leo integer or field type: {name!r}")


def field_to_int(value: int) -> int:
    """Read a field element as a signed integer (elements above p/2 are negative)."""
    value %= FIELD_MODULUS
    return value - FIELD_MODULUS if value > FIELD_MODULUS // 2 else value


_WIDTHS = (8, 16, 32, 64, 128)


def narrowest_int(low: int, high: int, signed: bool | None = None) -> IntType:
    """The narrowest Leo integer type holding every value in [low, high].

    With `signed=None`, an unsigned type is used when low >= 0 and a signed one otherwise.
    """
    if signed is None:
        signed = low < 0
    for bits in _WIDTHS:
        t = IntType(signed, bits)
        if t.holds(low, high):
            return t
    raise NoIntegerType(
        f"no Leo integer type holds [{low}, {high}]; set [quantization] fractional_bits lower or declare a "
        "narrower input_range"
    )


@dataclass(frozen=True)
class FixedPoint:
    """Fixed-point encoding with `fractional_bits` bits after the binary point."""

    fractional_bits: int

    @property
    def scale(self) -> int:
        return 1 << self.fractional_bits

    def quantize(self, values: np.ndarray | float) -> np.ndarray:
        """q(v) = floor(v * 2^f + 1/2), as int64 (exact for |v * 2^f| < 2^52)."""
        return np.floor(np.asarray(values, dtype=np.float64) * self.scale + 0.5).astype(np.int64)

    def dequantize(self, ints: np.ndarray | int) -> np.ndarray:
        return np.asarray(ints, dtype=np.float64) / self.scale


@dataclass(frozen=True)
class InputRange:
    """The declared range of each (scaled) feature; inputs are clipped to it."""

    low: np.ndarray  # shape (n_features,)
    high: np.ndarray

    @classmethod
    def from_training(cls, X_train: np.ndarray, declared: tuple[float, float] | None) -> "InputRange":
        """The declared range if given, otherwise training min/max widened by AUTO_RANGE_MARGIN."""
        n = X_train.shape[1]
        if declared is not None:
            return cls(np.full(n, declared[0]), np.full(n, declared[1]))
        lo, hi = X_train.min(axis=0), X_train.max(axis=0)
        span = np.maximum(hi - lo, 1e-9)
        return cls(lo - AUTO_RANGE_MARGIN * span, hi + AUTO_RANGE_MARGIN * span)

    def clip(self, X: np.ndarray) -> np.ndarray:
        return np.clip(X, self.low, self.high)

    def as_lists(self) -> dict[str, list[float]]:
        return {"low": [float(v) for v in self.low], "high": [float(v) for v in self.high]}


@dataclass(frozen=True)
class QuantizedInputs:
    """How raw (scaled) feature rows become the integers the circuit takes."""

    fixed: FixedPoint
    range: InputRange

    @property
    def int_low(self) -> np.ndarray:
        return self.fixed.quantize(self.range.low)

    @property
    def int_high(self) -> np.ndarray:
        return self.fixed.quantize(self.range.high)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """Clip to the declared range, then quantize: the circuit's input integers."""
        return self.fixed.quantize(self.range.clip(np.asarray(X, dtype=np.float64)))


def search_bits(
    make: Callable[[int], M],
    score: Callable[[M], float],
    requested: int | None,
    bits: range = range(MAX_AUTO_FRACTIONAL_BITS + 1),
    target: float = 1.0,
    guard: int = 0,
) -> M:
    """The model for the requested bits, or ("auto") the one fractional-bit search of every family.

    Tries `bits` in increasing order and keeps the fewest bits with the best `score`
    (higher is better), stopping at the first that reaches `target`. Fewer bits mean
    narrower integer types and cheaper circuits. `guard` bits are then added (capped at
    the range's end) where a family's boundary cases need them. A `make` that raises
    UserError (integers too wide) ends the search: more bits only widen them further.
    """
    if requested is not None:
        return make(requested)
    best: tuple[float, int, M] | None = None
    for f in bits:
        try:
            model = make(f)
        except UserError:
            if best is None:
                raise
            break
        s = score(model)
        if best is None or s > best[0]:
            best = (s, f, model)
        if s >= target:
            break
    if best is None:
        raise UserError(f"no fractional bits in {bits.start}..{bits.stop - 1} to search")
    _, found, model = best
    for f in range(min(found + guard, bits.stop - 1), found, -1):
        try:
            return make(f)
        except UserError:
            continue  # the guard bits overflow: fall back towards the bits found
    return model
