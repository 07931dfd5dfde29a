"""Typed quantized forms: what each family's circuit computes, as integers, without Leo syntax.

A family lowers a fitted estimator to a `QuantizedModel` whose `form` is one of these
records. The Leo layer (`workbench/leo/contexts.py`) turns a form into template variables;
the integer reference in numpy computes exactly what the form describes. Four forms serve
every family:

- `TreeForm`: one tree or a sum of trees (decision trees, random forests, AdaBoost,
  XGBoost): every internal node tests `x[feature] <= threshold` on integers.
- `DenseForm`: dense layers (linear and logistic regression, MLPs).
- `CentroidsForm`: the nearest of public points (KMeans).
- `StoredRowsForm`: a vote among the k nearest stored rows (k-NN).

Records hold numpy arrays, so they compare by identity (`eq=False`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Union

import numpy as np

from workbench.algorithms.trees import TreeIR
from workbench.quantize import FieldType, IntType, narrowest_int


@dataclass(frozen=True)
class CircuitIO:
    """What one row looks like to the circuit: the packed features and the prediction."""

    n_features: int
    feature_type: IntType  # every feature travels as this integer type
    output_type: IntType | FieldType  # the prediction's type
    fractional_bits: int  # of the features (value = integer / 2^f)


@dataclass(frozen=True)
class InputCodec:
    """How a row of (scaled) float features becomes the integers the circuit receives.

    u_j = floor(clip(x_j, low_j, high_j) * 2^f + 1/2) + offset_j: the fixed-point value,
    shifted by a per-feature offset (offset-binary families make every input unsigned).
    """

    fractional_bits: int
    low: tuple[float, ...]
    high: tuple[float, ...]
    offsets: tuple[int, ...]

    def encode(self, X: np.ndarray) -> np.ndarray:
        """The circuit's input integers for rows X, shape (n_rows, n_features)."""
        clipped = np.clip(np.asarray(X, dtype=np.float64), np.asarray(self.low), np.asarray(self.high))
        q = np.floor(clipped * (1 << self.fractional_bits) + 0.5).astype(np.int64)
        return q + np.asarray(self.offsets, dtype=np.int64)


@dataclass(frozen=True)
class LabelCodec:
    """How the circuit's output integer becomes the model's label or value.

    Classification: output i is `classes[i]`; regression: the value is output / `divisor`;
    clustering: the output is the cluster index itself (neither set).
    """

    classes: tuple[Any, ...] | None = None
    divisor: int | None = None

    def decode(self, outputs: np.ndarray) -> np.ndarray:
        outputs = np.asarray(outputs, dtype=np.int64)
        if self.classes is not None:
            return np.asarray(self.classes)[outputs]
        if self.divisor is not None:
            return outputs / float(self.divisor)
        return outputs


@dataclass(frozen=True)
class ScoresInfo:
    """The per-row score vector a circuit can output next to its prediction (`[zk] scores`).

    `encoding` says how those integers relate to the model (for result.json and docs).
    """

    what: str  # e.g. "class scores", "votes per class"
    type: IntType
    count: int
    encoding: str


# -- trees ----------------------------------------------------------------------------------
class TreeHead(StrEnum):
    """How a tree form's leaves become the prediction."""

    LEAF = "leaf"  # one tree: the class index stored in the leaf reached, selected directly
    ARGMAX = "argmax"  # the index of the largest summed leaf row (ties: the lowest index)
    SUM = "sum"  # the summed leaf value itself (regression), a field element


@dataclass(frozen=True, eq=False)
class TreeForm:
    """Trees over integer features; a leaf holds a row of `n_outputs` integers.

    scores(x) = bias + sum over trees of values[tree][leaf reached by x]. For ARGMAX the
    scores are shifted by `offset` (proven non-negative over the declared input range) and
    cast to `score_type`. `trees` keep the float structure (float thresholds for comments,
    strictness); `thresholds` are the integer tests the circuit makes.
    """

    io: CircuitIO
    head: TreeHead
    trees: tuple[TreeIR, ...]
    thresholds: tuple[np.ndarray, ...]  # per tree, per node: x[feature] <= T
    values: tuple[np.ndarray, ...]  # per tree: (n_nodes, n_outputs) integers
    bias: np.ndarray  # (n_outputs,) integers
    score_type: IntType | None  # ARGMAX only
    offset: int
    value_bits: int  # leaf values are value * 2^value_bits (LEAF: 0, they are class indices)
    n_classes: int  # 0 for regression

    @property
    def n_outputs(self) -> int:
        return len(self.bias)

    def suffix_type(self, start: int) -> tuple[IntType, int]:
        """Type and offset carrying the partial scores of trees start..end (no bias)."""
        return self.partial_type(start, len(self.trees))

    def partial_type(self, start: int, end: int) -> tuple[IntType, int]:
        """Type and offset carrying the partial scores of trees [start, end) (no bias).

        The bound is proven like the main scores': each tree adds one of its leaf rows, so
        lo/hi are sums of per-tree minima/maxima; the offset makes every lane non-negative.
        """
        lo = np.zeros(self.n_outputs, dtype=object)
        hi = np.zeros(self.n_outputs, dtype=object)
        for tree, values in zip(self.trees[start:end], self.values[start:end]):
            leaves = values[tree.leaves]
            lo += leaves.min(axis=0).astype(object)
            hi += leaves.max(axis=0).astype(object)
        offset = max(0, -min(int(v) for v in lo))
        return narrowest_int(0, max(int(v) for v in hi) + offset, signed=False), offset


# -- dense layers ---------------------------------------------------------------------------
class DenseHead(StrEnum):
    """How the output layer's values become the prediction."""

    REGRESSION = "regression"  # the single output value
    SIGN = "sign"  # class 1 when the single score is > 0
    ARGMAX = "argmax"  # the index of the largest score (ties: the lowest index)


@dataclass(frozen=True, eq=False)
class IntLayer:
    """A dense layer in fixed point, with its pre-activation bounds proven over the input range.

    `bits[i]` is the width N of the unsigned offset form of neuron i's z for a ReLU layer
    (0 for a neuron whose z is never positive: its output is the constant 0).
    """

    weight: np.ndarray  # int64 (n_out, n_in), f fractional bits
    bias: np.ndarray  # int64 (n_out,), 2f fractional bits
    relu: bool
    z_low: np.ndarray  # int64 (n_out,): min of z over the input box
    z_high: np.ndarray
    a_low: np.ndarray  # bounds of the layer's output (after ReLU and shift for hidden layers)
    a_high: np.ndarray
    bits: np.ndarray  # int64 (n_out,)
    # A hidden layer without ReLU (followed by a max pool) still returns to f bits:
    # a = z >> f through the same offset form, without the ReLU's test.
    requantize: bool = False


@dataclass(frozen=True, eq=False)
class IntMaxPool:
    """The largest of each group of the previous layer's outputs (a max pool, flattened).

    Each output's inputs lie in [low, high] with high - low < 2^bits[i]; the circuit compares
    two of them by bit `bits[i]` of a - b + 2^bits[i] - 1, cast to an unsigned type.
    """

    groups: tuple[tuple[int, ...], ...]  # input indices of each output
    a_low: np.ndarray  # int64 (n_out,): bounds of each output
    a_high: np.ndarray
    bits: np.ndarray  # int64 (n_out,)


@dataclass(frozen=True, eq=False)
class DenseForm:
    """Dense layers over offset-binary inputs (u = x_q + input_offset), then a head.

    Hidden layers compute a = z >= 0 ? z >> f : 0 (or a = z >> f without ReLU) through an
    unsigned offset form of `bits` bits, max pools take the largest of groups of them; the
    head compares the output layer's z in a `head_bits` offset form, or (REGRESSION)
    returns z through `output_offset`.
    """

    io: CircuitIO
    kind: str  # "linear", "mlp" or "onnx", for the generated program's comments
    layers: tuple[IntLayer | IntMaxPool, ...]
    head: DenseHead
    head_bits: int
    input_offset: int
    output_offset: int
    n_outputs: int
    n_classes: int  # 0 for regression


# -- distances ------------------------------------------------------------------------------
@dataclass(frozen=True)
class LinearScores:
    """Scores s_p(u) = const[p] + coef[p] . u of P points on offset-binary inputs u.

    `const` already includes the common offset, so every score over the declared input
    range lies in [0, high]; `score_type` is the narrowest unsigned type holding it.
    Values are Python ints (exact, no int64 wrap-around).
    """

    const: tuple[int, ...]
    coef: tuple[tuple[int, ...], ...]
    high: int
    score_type: IntType

    def evaluate(self, U: np.ndarray) -> np.ndarray:
        """Scores of offset-binary rows U (shape (n, F)) -> shape (n, P), exact ints.

        Raises ValueError if a score leaves [0, high], where the circuit's cast would halt.
        """
        U = np.asarray(U, dtype=object)
        S = U @ np.array(self.coef, dtype=object).T + np.array(self.const, dtype=object)
        S = np.asarray(S, dtype=object).reshape(len(U), len(self.const))
        if S.size and (S.min() < 0 or S.max() > self.high):
            raise ValueError("a score is outside its proven range (input outside the declared range?)")
        return S


@dataclass(frozen=True, eq=False)
class CentroidsForm:
    """The index of the nearest public point: the smallest score (strict `<` scan)."""

    io: CircuitIO
    scores: LinearScores


@dataclass(frozen=True, eq=False)
class StoredRowsForm:
    """A majority vote among the k stored rows with the smallest scores.

    Inputs are asserted to lie in [0, spans[j]]; comparisons read bit `score_bits` of
    v - s + 2^score_bits - 1 through `diff_type`; votes are counted in `count_type`.
    """

    io: CircuitIO
    scores: LinearScores
    labels: tuple[int, ...]  # class index of each stored row
    k: int
    n_classes: int
    spans: tuple[int, ...]
    score_bits: int
    diff_type: IntType
    count_type: IntType


Form = Union[TreeForm, DenseForm, CentroidsForm, StoredRowsForm]
