"""The Aleo value codec: how rows become an entry function's inputs and its outputs become integers.

An entry function takes one row as a flat array `[T; F]` or a batch of k rows as
`[[T; F]; k]`, and returns the prediction (a scalar, or `[T; k]` for a batch), then, with
`[zk] scores`, the score vector (`[S; n]`, or `[[S; n]; k]`). The integers are the ones
`QuantizedModel.quantize_inputs` and `predict_int` work with; a `field` output is read
back as a signed integer (a negative v is the element p - |v|).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from workbench.quantize import FIELD_MODULUS, FieldType, IntType, field_to_int

_LITERALS = re.compile(r"(-?\d+)(?:[iu](?:8|16|32|64|128)|field)\b")


class CodecError(ValueError):
    """An Aleo value that does not have the shape the program's signature promises."""


def split_array_literal(text: str) -> list[str]:
    """The elements of a flat array literal as snarkVM prints it (`[1field, 2field]`)."""
    inner = text.strip().removeprefix("[").removesuffix("]")
    return [e.strip() for e in inner.split(",") if e.strip()]


def parse_int_literals(text: str) -> list[int]:
    """Every integer literal in an Aleo value, in order: `[1u8, 2u8]` -> [1, 2]."""
    return [int(m.group(1)) for m in _LITERALS.finditer(text)]


def array_literal(values: np.ndarray, t: IntType | FieldType) -> str:
    """An Aleo array literal such as `[3i8, -1i8]` (nested for 2-D arrays)."""
    values = np.asarray(values)
    if values.ndim > 1:
        return "[" + ", ".join(array_literal(v, t) for v in values) + "]"
    return "[" + ", ".join(f"{int(v)}{t.name}" for v in values) + "]"


WORD_BITS = 128  # features are packed into u128 words, the widest Aleo integer


@dataclass(frozen=True)
class Packing:
    """An execution's features packed into `[u128; words]` instead of one element each.

    Value k of the execution (row-major: row k // n_features, feature k % n_features) is
    bits [s, s + bits) of word k // per_word, with s = (k % per_word) * bits. A private
    input pays per plaintext bit, and each array element also carries about 42 bits of type
    and length metadata (docs/performance.md), so fewer, wider elements cost less; the
    circuit reads a value back by a shift, a mask and a cast, which cost no constraint.
    Only unsigned feature types are packed (their values are the bits themselves).
    """

    bits: int  # width of each value: the feature type's
    values: int  # rows x features of one execution

    @property
    def per_word(self) -> int:
        return WORD_BITS // self.bits

    @property
    def words(self) -> int:
        return -(-self.values // self.per_word)

    @property
    def mask(self) -> int:
        return (1 << self.bits) - 1

    def slot(self, k: int) -> tuple[int, int]:
        """(word, shift) of value k."""
        return k // self.per_word, (k % self.per_word) * self.bits

    def pack(self, values: Sequence[int]) -> list[int]:
        """The words holding `values` (each in [0, 2^bits))."""
        if len(values) != self.values:
            raise CodecError(f"expected {self.values} values to pack, got {len(values)}")
        words = [0] * self.words
        for k, v in enumerate(values):
            v = int(v)
            if not 0 <= v <= self.mask:
                raise CodecError(f"value {v} does not fit {self.bits} unsigned bits")
            w, s = self.slot(k)
            words[w] |= v << s
        return words

    def unpack(self, words: Sequence[int]) -> list[int]:
        """The values packed in `words` (inverse of `pack`)."""
        return [(int(words[w]) >> s) & self.mask for w, s in map(self.slot, range(self.values))]


def encode_rows(rows: np.ndarray, feature_type: IntType, packing: Packing | None = None) -> list[str]:
    """The inputs of one execution for quantized rows of shape (batch, n_features): an array
    of them, or with `packing` the u128 words holding them."""
    rows = np.asarray(rows)
    if packing is not None:
        words = packing.pack([int(v) for v in rows.reshape(-1)])
        return ["[" + ", ".join(f"{w}u128" for w in words) + "]"]
    return [array_literal(rows[0] if len(rows) == 1 else rows, feature_type)]


def encode_outputs(
    predictions: np.ndarray, output_type: IntType | FieldType, scores: np.ndarray | None = None,
    score_type: IntType | None = None,
) -> list[str]:
    """The outputs an execution of `len(predictions)` rows returns (inverse of `decode_*`)."""
    predictions = np.asarray(predictions)

    def value(v: int, t: IntType | FieldType) -> str:
        # A field element is printed non-negative: -v is p - v.
        return f"{int(v) % FIELD_MODULUS if isinstance(t, FieldType) else int(v)}{t.name}"

    if len(predictions) == 1:
        out = [value(predictions[0], output_type)]
    else:
        out = ["[" + ", ".join(value(v, output_type) for v in predictions) + "]"]
    if scores is not None:
        assert score_type is not None
        scores = np.asarray(scores)
        out.append(array_literal(scores[0] if len(scores) == 1 else scores, score_type))
    return out


def decode_predictions(outputs: list[str], batch: int, output_type: IntType | FieldType) -> list[int]:
    """The prediction integers (one per row of the batch) from an execution's outputs."""
    values = parse_int_literals(outputs[0]) if outputs else []
    if len(values) != batch:
        raise CodecError(f"expected {batch} output value(s), snarkVM returned {outputs[:1]!r}")
    # A field output holds a signed value: negative predictions are p - |v|.
    return [field_to_int(v) for v in values] if isinstance(output_type, FieldType) else values


def decode_scores(outputs: list[str], batch: int, count: int) -> np.ndarray:
    """The score vectors (second output) of one execution, shape (batch, count)."""
    values = parse_int_literals(outputs[1]) if len(outputs) > 1 else []
    if len(values) != batch * count:
        raise CodecError(f"expected {batch} x {count} scores, snarkVM returned {outputs[1:2]!r}")
    return np.asarray(values, dtype=np.int64).reshape(batch, count)
