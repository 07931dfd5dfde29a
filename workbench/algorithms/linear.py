"""Linear models and dense networks: one integer format (`DenseNet`) and one circuit.

LinearRegression, Ridge and LogisticRegression are a dense network of one layer; the MLPs
(`workbench/algorithms/mlp.py`) are a stack of ReLU layers and an output layer. All of them
lower to the same integer layers (`IntLayer`), the same integer reference (`forward`) and
the same template (`workbench/leo_templates/linear.leo.j2`).

Fixed point (f fractional bits, q(v) = floor(v * 2^f + 1/2)):

* inputs x_q = q(x) (clipped to the declared range), weights W_q = q(W), biases at
  2f bits: B_q = floor(B * 2^(2f) + 1/2). A layer computes z = W_q a + B_q, an integer
  with 2f fractional bits.
* Hidden layers requantize back to f bits after the ReLU: a = z >= 0 ? z >> f : 0
  (an arithmetic shift, i.e. floor(z / 2^f)).
* The output layer's z (2f fractional bits) is the circuit's result: the regression value
  itself, its sign (binary classification) or the index of the largest score (argmax,
  ties to the lowest index, as numpy).

Circuit encoding (why it is cheap): the dot products are computed in `field`, where adding
and multiplying by constant weights costs no constraints. A field has no order, so a value
that must be compared is converted once to an unsigned integer in offset form:
u = z + 2^(N-1) as uN, where N is proven from interval bounds over the declared input
range. Then z >= 0 is the top bit of u (`u >> (N-1) == 1`, nearly free) and z >> f is
u >> f minus the constant 2^(N-1-f) (exact, as 2^(N-1) is a multiple of 2^f). Measured on
snarkVM: a ReLU neuron with N = 32 costs about 36 constraints this way, against about 99
with an integer comparison `u >= 2^(N-1)` and a ternary.

Inputs are unsigned offset-binary integers x_q + 2^(b-1) of type ub (b bits), turned into
field elements with one constant subtraction: casting a negative signed integer to field
would give its two's-complement bit pattern, not the negative element.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.algorithms.base import QuantizedModel, _classes
from workbench.algorithms.forms import CircuitIO, DenseForm, DenseHead, IntLayer, IntMaxPool, LabelCodec, ScoresInfo
from workbench.errors import UserError
from workbench.kinds import Task
from workbench.quantize import (
    Calibration,
    FixedPoint,
    InputRange,
    IntType,
    QuantizationSpec,
    QuantizedInputs,
    narrowest_int,
    search_bits,
)

# "auto" bits for regression: the fewest bits whose training predictions are within this
# RMS distance of the float model's, relative to the training target's standard deviation.
REGRESSION_TOLERANCE = 1e-3
# "auto" bits for classifiers: guard bits added to the fewest agreeing bits (see
# `choose_classifier_bits`).
CLASSIFIER_GUARD_BITS = 1
# Every bound must stay below this so the numpy reference (int64) is exact; the circuit's
# widest conversion is then u64.
INT64_SAFE = 2**62

HEADS = tuple(h.value for h in DenseHead)


@dataclass(frozen=True)
class DenseLayer:
    """A float dense layer: z = weight @ a + bias, then ReLU when `relu`."""

    weight: np.ndarray  # (n_out, n_in)
    bias: np.ndarray  # (n_out,)
    relu: bool


@dataclass(frozen=True)
class MaxPoolLayer:
    """The largest of each group of the previous layer's outputs (a max pool on a flat vector)."""

    groups: tuple[tuple[int, ...], ...]  # input indices of each output


@dataclass(frozen=True)
class DenseNet:
    """A float dense network: hidden layers (ReLU, or none before a max pool), max pools, then
    a linear output layer."""

    layers: tuple[DenseLayer | MaxPoolLayer, ...]

    def __post_init__(self) -> None:
        last = self.layers[-1] if self.layers else None
        if not isinstance(last, DenseLayer) or last.relu:
            raise ValueError("a dense network ends with a linear output layer")

    @classmethod
    def linear(cls, coef: np.ndarray, intercept: np.ndarray | float) -> "DenseNet":
        """One linear layer from scikit-learn's `coef_` (1-D or (n_out, n_in)) and `intercept_`."""
        w = np.atleast_2d(np.asarray(coef, dtype=np.float64))
        b = np.broadcast_to(np.asarray(intercept, dtype=np.float64), (w.shape[0],)).copy()
        return cls((DenseLayer(w, b, relu=False),))

    @classmethod
    def mlp(cls, coefs: list[np.ndarray], intercepts: list[np.ndarray]) -> "DenseNet":
        """From an MLP's `coefs_` ((n_in, n_out) each) and `intercepts_`; ReLU on hidden layers."""
        last = len(coefs) - 1
        return cls(
            tuple(
                DenseLayer(np.asarray(w, dtype=np.float64).T.copy(), np.asarray(b, dtype=np.float64), relu=i < last)
                for i, (w, b) in enumerate(zip(coefs, intercepts))
            )
        )

    def forward(self, X: np.ndarray) -> np.ndarray:
        """The float network on rows X: the output layer's values, (rows, n_outputs)."""
        a = np.asarray(X, dtype=np.float64)
        for layer in self.layers:
            if isinstance(layer, MaxPoolLayer):
                a = np.stack([a[:, list(g)].max(axis=1) for g in layer.groups], axis=1)
            else:
                a = a @ layer.weight.T + layer.bias
                a = np.maximum(a, 0.0) if layer.relu else a
        return a

    @property
    def n_inputs(self) -> int:
        first = self.layers[0]
        if isinstance(first, MaxPoolLayer):
            return 1 + max(i for g in first.groups for i in g)
        return int(first.weight.shape[1])

    @property
    def n_outputs(self) -> int:
        last = self.layers[-1]
        assert isinstance(last, DenseLayer)
        return int(last.weight.shape[0])


def _offset_bits(low: int, high: int, at_least: int = 8) -> int:
    """Width N of an unsigned offset form u = z + 2^(N-1) holding every z in [low, high]."""
    return max(narrowest_int(min(low, -1), max(high, 0), signed=True).bits, at_least)


def interval_dot(
    weight: np.ndarray, bias: np.ndarray, low: np.ndarray, high: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Exact bounds of weight @ a + bias over the box low <= a <= high (integer arithmetic)."""
    w = weight.astype(object)  # Python ints: a bound never overflows while being checked
    lo = np.where(w >= 0, w * low.astype(object), w * high.astype(object)).sum(axis=1) + bias.astype(object)
    hi = np.where(w >= 0, w * high.astype(object), w * low.astype(object)).sum(axis=1) + bias.astype(object)
    return lo, hi


def _max_pool(layer: MaxPoolLayer, low: np.ndarray, high: np.ndarray) -> IntMaxPool:
    """A max pool's output bounds, and the width its comparisons need."""
    groups = tuple(tuple(int(i) for i in g) for g in layer.groups)
    a_lo = np.array([max(int(low[i]) for i in g) for g in groups], dtype=np.int64)
    a_hi = np.array([max(int(high[i]) for i in g) for g in groups], dtype=np.int64)
    # a - b over one group lies within +-(max high - min low): 1 + that many bits of room.
    bits = np.array([max(1, (max(int(high[i]) for i in g) - min(int(low[i]) for i in g)).bit_length()) for g in groups],
                    dtype=np.int64)
    return IntMaxPool(groups, a_lo, a_hi, bits)


def quantize_net(
    net: DenseNet, fixed: FixedPoint, in_low: np.ndarray, in_high: np.ndarray
) -> tuple[IntLayer | IntMaxPool, ...]:
    """Quantize weights and biases and prove every layer's bounds by interval arithmetic.

    Raises UserError if a bound reaches 2^62 (fewer fractional bits are needed).
    """
    f = fixed.fractional_bits
    bias_fixed = FixedPoint(2 * f)
    low, high = np.asarray(in_low, dtype=np.int64), np.asarray(in_high, dtype=np.int64)
    layers: list[IntLayer | IntMaxPool] = []
    for n, layer in enumerate(net.layers):
        if isinstance(layer, MaxPoolLayer):
            pool = _max_pool(layer, low, high)
            layers.append(pool)
            low, high = pool.a_low, pool.a_high
            continue
        w = fixed.quantize(layer.weight)
        b = bias_fixed.quantize(layer.bias)
        z_lo, z_hi = interval_dot(w, b, low, high)
        # Partial sums are bounded by the sum of absolute terms; keep all of them int64-exact.
        absolute = (np.abs(w).astype(object) * np.maximum(np.abs(low), np.abs(high)).astype(object)).sum(axis=1)
        if max(absolute + np.abs(b).astype(object)) >= INT64_SAFE:
            raise UserError(
                f"layer {n + 1} of the model needs integers beyond 2^62 with {f} fractional bits; "
                "set [quantization] fractional_bits lower or declare a narrower input_range"
            )
        z_lo, z_hi = z_lo.astype(np.int64), z_hi.astype(np.int64)
        hidden = n < len(net.layers) - 1
        if layer.relu:
            a_lo, a_hi = np.maximum(z_lo, 0) >> f, np.maximum(z_hi, 0) >> f
            # N > f keeps 2^(N-1) a multiple of 2^f, which makes the shift exact (see module doc).
            bits = np.array(
                [0 if hi < 0 else _offset_bits(int(lo), int(hi), at_least=max(8, f + 1)) for lo, hi in zip(z_lo, z_hi)],
                dtype=np.int64,
            )
        elif hidden:  # no ReLU, but back to f bits for what follows (a max pool)
            a_lo, a_hi = z_lo >> f, z_hi >> f
            bits = np.array([_offset_bits(int(lo), int(hi), at_least=max(8, f + 1)) for lo, hi in zip(z_lo, z_hi)],
                            dtype=np.int64)
        else:
            a_lo, a_hi = z_lo, z_hi
            bits = np.zeros(len(b), dtype=np.int64)
        layers.append(IntLayer(w, b, layer.relu, z_lo, z_hi, a_lo, a_hi, bits, requantize=hidden and not layer.relu))
        low, high = a_lo, a_hi
    return tuple(layers)


def forward(layers: tuple[IntLayer | IntMaxPool, ...], a: np.ndarray, fractional_bits: int) -> np.ndarray:
    """Integer reference of the layers: the output layer's z for each row, (rows, n_out)."""
    a = np.asarray(a, dtype=np.int64)
    for layer in layers:
        if isinstance(layer, IntMaxPool):
            a = np.stack([a[:, list(g)].max(axis=1) for g in layer.groups], axis=1)
            continue
        z = a @ layer.weight.T + layer.bias
        # numpy's >> on int64 is an arithmetic shift, floor(z / 2^f), as the circuit's u >> f.
        if layer.relu:
            a = np.where(z >= 0, z >> fractional_bits, 0)
        elif layer.requantize:
            a = z >> fractional_bits
        else:
            a = z
    return a


def head_output(head: str, z: np.ndarray) -> np.ndarray:
    """The circuit's output integer from the output layer's z: value, sign or argmax."""
    if head == "regression":
        return z[:, 0].astype(np.int64)
    if head == "sign":
        return (z[:, 0] > 0).astype(np.int64)  # z == 0 is class 0, as scikit-learn's `> 0`
    if head == "argmax":
        return np.argmax(z, axis=1).astype(np.int64)  # ties: lowest index, as in the circuit
    raise ValueError(f"unknown head {head!r}")


# Constraint estimate, fitted to measurements on snarkVM 4.12 (aleo-sdk 0.8.0): a ReLU
# neuron in offset form (field -> uN cast, top-bit test, shift, field ternary) measured
# 20 constraints at N = 16 and 36 at N = 32; field additions and multiplications by
# constants are free. The heads: see `QuantizedDenseModel.layer_costs`.
def _relu_cost(bits: int) -> int:
    return bits + 4 if bits else 0


class QuantizedDenseModel(QuantizedModel):
    """A linear model or an MLP in fixed point: dense layers plus an output head.

    `head` is "regression" (the output layer's single value, dequantized by `labels`),
    "sign" (binary classification by the sign of one score) or "argmax" (the index of
    the largest of several scores).
    """

    def __init__(
        self,
        net: DenseNet,
        inputs: QuantizedInputs,
        head: str,
        classes: np.ndarray | None = None,
        kind: str = "linear",
    ) -> None:
        if head not in HEADS:
            raise ValueError(f"unknown head {head!r}")
        self.net_ = net
        self.inputs_ = inputs
        self.head_ = DenseHead(head)
        self.kind_ = kind
        self.classes_ = classes
        self.task = Task.REGRESSION if head == DenseHead.REGRESSION else Task.CLASSIFICATION
        f = inputs.fixed.fractional_bits
        self.layers_ = quantize_net(net, inputs.fixed, inputs.int_low, inputs.int_high)
        # Features travel as unsigned offset-binary integers (see the module docstring).
        low, high = int(inputs.int_low.min()), int(inputs.int_high.max())
        b = narrowest_int(min(low, -1), max(high, 0), signed=True).bits
        self.feature_type_: IntType = IntType(False, b)
        self.input_offset_ = 1 << (b - 1)
        last = self.layers_[-1]
        assert isinstance(last, IntLayer)
        z_lo, z_hi = int(last.z_low.min()), int(last.z_high.max())
        if head == "regression":
            # out = (z + OFF) as T - OFF: the field -> T cast needs a non-negative value, and
            # T holds z, z + OFF and the literal OFF, so neither step can halt.
            off = self.output_offset_ = max(-z_lo, 0)
            self.output_type_: IntType = narrowest_int(min(z_lo, 0), max(z_hi + off, off), signed=True)
            self.head_bits_ = self.output_type_.bits
        else:
            self.output_offset_ = 0
            self.head_bits_ = _offset_bits(z_lo, z_hi)
            self.output_type_ = narrowest_int(0, max(len(classes) - 1, 1), signed=False)
        self.output_fixed_ = FixedPoint(2 * f)

    # -- the integer reference --------------------------------------------------------

    def input_offsets(self) -> np.ndarray:
        """The circuit's inputs are q(clip(x)) + 2^(b-1): unsigned offset-binary."""
        return np.full(len(self.inputs_.int_low), self.input_offset_, dtype=np.int64)

    def _output_layer(self, Xq: np.ndarray) -> np.ndarray:
        a0 = np.asarray(Xq, dtype=np.int64) - self.input_offset_
        return forward(self.layers_, a0, self.inputs_.fixed.fractional_bits)

    def predict_int(self, Xq: np.ndarray) -> np.ndarray:
        return head_output(self.head_, self._output_layer(Xq))

    def revealed_scores(self) -> ScoresInfo | None:
        if self.head_ == DenseHead.REGRESSION:
            return None  # the output is already the score
        n = 1 if self.head_ == DenseHead.SIGN else self.net_.n_outputs
        what = "decision score" if self.head_ == DenseHead.SIGN else "class scores"
        return ScoresInfo(
            what,
            IntType(False, self.head_bits_),
            n,
            f"{what} (output layer z, fixed point with {self.output_fixed_.fractional_bits} fractional bits) "
            f"plus 2^{self.head_bits_ - 1}",
        )

    def revealed_scores_int(self, Xq: np.ndarray) -> np.ndarray:
        z = self._output_layer(Xq)
        z = z[:, :1] if self.head_ == "sign" else z
        return (z + (1 << (self.head_bits_ - 1))).astype(np.int64)

    @property
    def label_codec(self) -> LabelCodec:
        if self.head_ == DenseHead.REGRESSION:
            return LabelCodec(divisor=self.output_fixed_.scale)
        return LabelCodec(classes=_classes(self.classes_))

    # -- the circuit --------------------------------------------------------------------

    def layer_costs(self) -> list[int]:
        """Estimated constraints of each layer's own logic (the output layer includes the head).

        Excludes the fixed cost of a transition and of its inputs; see `_relu_cost`.
        """
        costs = [
            int(sum((int(b) + 6) * (len(g) - 1) for g, b in zip(layer.groups, layer.bits)))  # per comparison
            if isinstance(layer, IntMaxPool)
            else int(sum(_relu_cost(int(n)) for n in layer.bits))
            for layer in self.layers_[:-1]
        ]
        k, n = self.net_.n_outputs, self.head_bits_
        if self.head_ == "argmax":
            # K casts, K-1 comparisons and index ternaries, K-2 ternaries on the best value
            # (fits the measured runs: 109 at K = 3, N = 16 (wine_logistic) and
            # 525 - 2 * 160 = 205 at K = 3, N = 32 (iris_mlp), net of the input overhead).
            head = k * (n + 1) + (k - 1) * (n + 5) + (k - 2) * n
        else:
            # One cast and one comparison or checked subtraction.
            head = 2 * n + 10
        return costs + [head]

    @property
    def form(self) -> DenseForm:
        return DenseForm(
            io=CircuitIO(self.net_.n_inputs, self.feature_type_, self.output_type_, self.inputs_.fixed.fractional_bits),
            kind=self.kind_,
            layers=self.layers_,
            head=self.head_,
            head_bits=self.head_bits_,
            input_offset=self.input_offset_,
            output_offset=self.output_offset_,
            n_outputs=self.net_.n_outputs,
            n_classes=0 if self.classes_ is None else len(self.classes_),
        )

    def describe(self) -> dict[str, Any]:
        return {
            "fractional_bits": self.inputs_.fixed.fractional_bits,
            "weight_fractional_bits": self.inputs_.fixed.fractional_bits,
            "bias_fractional_bits": 2 * self.inputs_.fixed.fractional_bits,
            "rounding": "floor(v * 2^f + 1/2), inputs clipped to the declared range first",
            "requantization": "hidden layers: a = z >= 0 ? z >> f : 0 (arithmetic shift; without ReLU a = z >> f)",
            "feature_type": self.feature_type_.name,
            "input_offset": self.input_offset_,
            "output_type": self.output_type_.name,
            "output_offset": self.output_offset_,
            "head": str(self.head_),
            "head_bits": self.head_bits_,
            "input_range": self.inputs_.range.as_lists(),
            "layer_sizes": [self.net_.n_inputs] + [len(layer.bits) for layer in self.layers_],
            "layers": ["max pool" if isinstance(layer, IntMaxPool) else "relu" if layer.relu else "linear"
                       for layer in self.layers_],
            "z_bounds": [
                [int(layer.a_low.min()), int(layer.a_high.max())] if isinstance(layer, IntMaxPool)
                else [int(layer.z_low.min()), int(layer.z_high.max())]
                for layer in self.layers_
            ],
            "relu_bits": [[int(b) for b in layer.bits] for layer in self.layers_[:-1]],
            "estimated_layer_constraints": self.layer_costs(),
        }


# -- choosing the fractional bits --------------------------------------------------------


def lower_dense(
    net: DenseNet, est: Any, calibration: Calibration, spec: QuantizationSpec, head: DenseHead, kind: str
) -> QuantizedDenseModel:
    """Quantize a float dense network of a fitted estimator, choosing the bits ("auto").

    Regression: the fewest bits whose calibration predictions are within
    REGRESSION_TOLERANCE * std(y) (RMS) of the float model's (y: the calibration targets,
    or the float predictions when no targets are given). Every extra bit is free in the
    field arithmetic; it only widens the input and output types.

    Classification: the fewest bits reaching the best agreement with the float model, plus
    CLASSIFIER_GUARD_BITS. The guard: at the fewest agreeing bits some training scores sit
    just on the right side of a decision boundary, and unseen rows then flip (measured on
    wine: 1 of 36 test rows at the fewest bits, none with one more).
    """
    X = calibration.X
    rng = InputRange.from_training(X, spec.input_range)
    classes = None if head == DenseHead.REGRESSION else np.asarray(est.classes_)

    def make(f: int) -> QuantizedDenseModel:
        return QuantizedDenseModel(net, QuantizedInputs(FixedPoint(f), rng), head, classes, kind)

    float_pred = est.predict(X)
    if head == DenseHead.REGRESSION:
        y = float_pred if calibration.y is None else calibration.y
        tolerance = REGRESSION_TOLERANCE * max(float(np.std(y)), 1e-12)

        def closeness(model: QuantizedDenseModel) -> float:
            return -float(np.sqrt(np.mean((model.predict(X) - float_pred) ** 2)))

        return search_bits(make, closeness, spec.fractional_bits, target=-tolerance)

    def agreement(model: QuantizedDenseModel) -> float:
        return float(np.mean(model.predict(X) == float_pred))

    return search_bits(make, agreement, spec.fractional_bits, guard=CLASSIFIER_GUARD_BITS)


def _single_target(est: Any) -> None:
    if np.ndim(est.coef_) == 2 and np.shape(est.coef_)[0] != 1:
        raise UserError(f"{type(est).__name__}: only a single regression target is supported")


def lower_linear_regression(est: Any, calibration: Calibration, spec: QuantizationSpec) -> QuantizedDenseModel:
    """Quantize a fitted LinearRegression or Ridge: one output, y = w . x + b."""
    _single_target(est)
    net = DenseNet.linear(np.ravel(est.coef_), np.ravel(np.asarray(est.intercept_, dtype=np.float64))[0])
    return lower_dense(net, est, calibration, spec, DenseHead.REGRESSION, "linear")


def lower_logistic_regression(est: Any, calibration: Calibration, spec: QuantizationSpec) -> QuantizedDenseModel:
    """Quantize a fitted LogisticRegression: sign of one score (binary) or argmax of scores."""
    net = DenseNet.linear(est.coef_, est.intercept_)
    head = DenseHead.SIGN if len(est.classes_) == 2 else DenseHead.ARGMAX
    return lower_dense(net, est, calibration, spec, head, "linear")


# -- splitting a network across transitions ------------------------------------------------
# A dense network too large for one transition is cut into a chain of programs
# (workbench/leo/contexts.py renders it). The units of the chain are the outputs of every
# layer (neurons of dense layers, outputs of max pools), flattened in order; a cut before
# unit c hands the rest of the network the values it still needs: the *carry*.
#
# Between layer n and a dense layer n + 1 narrower than it, the network *accumulates*:
# each program adds its neurons' terms to the pre-activations of layer n + 1 (a field sum,
# free), so a cut inside layer n carries those partial sums (one per neuron of layer
# n + 1) instead of the finished activations of layer n, and a cut inside layer n + 1
# carries the complete pre-activations of its remaining neurons. The carry then stays
# about as wide as the narrow layer, however wide layer n is (a 192-neuron hidden layer
# before 10 outputs carries 10 sums, not up to 192 activations). Elsewhere (a max pool
# next, or a wider layer next) activations are carried.

# Kinds of carried values.
FEATURE = "x"  # an input feature, as the circuit's input integer
ACTIVATION = "a"  # a hidden layer's output
PRE = "z"  # a complete pre-activation of a neuron not yet computed
PARTIAL = "p"  # a partial pre-activation: the bias plus the terms of the neurons before the cut
SCORE = "s"  # an output-layer value in the head's offset form z + 2^(head_bits - 1)


@dataclass(frozen=True)
class Carried:
    """One value a cut of a dense network carries to the next program of a chain.

    `kind` says what it is (FEATURE, ACTIVATION, PRE, PARTIAL, SCORE), `layer` and `index`
    which (FEATURE: layer 0; PRE, PARTIAL: the neuron of the layer whose z it is). It
    travels as value - `low` in `type`, the narrowest unsigned type of its proven range
    (a FEATURE as the input integer itself, `low` = -input_offset; a SCORE in the head's
    own type, `low` = -2^(head_bits - 1)), so the cast that makes it never halts.
    """

    kind: str
    layer: int
    index: int
    type: IntType
    low: int

    @property
    def key(self) -> tuple[str, int, int]:
        return self.kind, self.layer, self.index


def layer_widths(form: DenseForm) -> list[int]:
    """The number of units (outputs) of each layer."""
    return [len(layer.groups) if isinstance(layer, IntMaxPool) else int(layer.weight.shape[0]) for layer in form.layers]


def layer_starts(form: DenseForm) -> list[int]:
    """The flat index of each layer's first unit, and the number of units last."""
    return [0, *np.cumsum(layer_widths(form)).tolist()]


def locate_unit(form: DenseForm, unit: int) -> tuple[int, int]:
    """(layer n, 1-based; index in the layer) of a unit of the flattened network."""
    starts = layer_starts(form)
    if not 0 <= unit < starts[-1]:
        raise ValueError(f"no unit {unit} in a network of {starts[-1]}")
    n = int(np.searchsorted(starts, unit, side="right"))
    return n, unit - starts[n - 1]


def is_dead(layer: IntLayer | IntMaxPool, i: int) -> bool:
    """A ReLU neuron whose z is never positive: its output is the constant 0 (not carried)."""
    return isinstance(layer, IntLayer) and layer.relu and int(layer.bits[i]) == 0


def accumulates(form: DenseForm, n: int) -> bool:
    """Whether the chain accumulates layer n + 1's pre-activations over layer n (1 <= n <
    number of layers): layer n + 1 is dense and narrower than layer n."""
    widths = layer_widths(form)
    return isinstance(form.layers[n], IntLayer) and widths[n] < widths[n - 1]


def _reads(layer: IntLayer | IntMaxPool, first: int) -> np.ndarray:
    """Which of the previous layer's values the units `first..` of `layer` read (bool mask)."""
    if isinstance(layer, IntMaxPool):
        n_in = 1 + max(max(g) for g in layer.groups)
        mask = np.zeros(n_in, dtype=bool)
        for g in layer.groups[first:]:
            mask[list(g)] = True
        return mask
    live = np.array([not is_dead(layer, i) for i in range(first, layer.weight.shape[0])], dtype=bool)
    w = layer.weight[first:]
    return np.any((w != 0) & live[:, None], axis=0) if len(w) else np.zeros(layer.weight.shape[1], dtype=bool)


def _unsigned(kind: str, n: int, i: int, low: int, high: int) -> Carried:
    return Carried(kind, n, i, narrowest_int(0, high - low, signed=False), low)


def _score(form: DenseForm, k: int) -> Carried:
    return Carried(SCORE, len(form.layers), k, IntType(False, form.head_bits), -(1 << (form.head_bits - 1)))


def partial_bounds(form: DenseForm, n: int, i: int) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of layer n + 1's partial pre-activations after units 0..i-1 of layer n: the
    bias plus those units' terms, over the proven bounds of their outputs (exact ints)."""
    nxt = form.layers[n]
    assert isinstance(nxt, IntLayer)
    layer = form.layers[n - 1]
    low, high = layer.a_low[:i], layer.a_high[:i]
    return interval_dot(nxt.weight[:, :i], nxt.bias, low, high)


def carry_at(form: DenseForm, cut: int) -> tuple[Carried, ...]:
    """The values a cut before unit `cut` (inside layer n, before its unit i) carries.

    What layer n's remaining units need: the previous layer's outputs they read (the
    features for layer 1), or, when the chain accumulates into layer n, the complete
    pre-activations of units i.. (SCORE for the output layer). Then, for i > 0, what layer
    n's finished units give the rest: the output layer's scores, or the partial sums of
    layer n + 1 when the chain accumulates into it, or the finished outputs layer n + 1
    reads. Dead ReLU outputs (constant 0) and values no later unit reads are left out; the
    result is empty only for a degenerate network (see `chain_cuts`).
    """
    n, i = locate_unit(form, cut)
    last = len(form.layers)
    layer = form.layers[n - 1]
    values: list[Carried] = []
    if n >= 2 and accumulates(form, n - 1):
        assert isinstance(layer, IntLayer)
        for j in range(i, len(layer.bias)):
            if n == last:
                values.append(_score(form, j))
            elif not is_dead(layer, j):
                values.append(_unsigned(PRE, n, j, int(layer.z_low[j]), int(layer.z_high[j])))
    else:
        for j in (int(j) for j in np.flatnonzero(_reads(layer, i))):
            if n == 1:
                values.append(Carried(FEATURE, 0, j, form.io.feature_type, -form.input_offset))
            elif not is_dead(form.layers[n - 2], j):
                prev = form.layers[n - 2]
                values.append(_unsigned(ACTIVATION, n - 1, j, int(prev.a_low[j]), int(prev.a_high[j])))
    if i and n == last:
        values += [_score(form, k) for k in range(i)]
    elif i and accumulates(form, n):
        lo, hi = partial_bounds(form, n, i)
        nxt = form.layers[n]
        values += [_unsigned(PARTIAL, n + 1, k, int(lo[k]), int(hi[k])) for k in range(len(lo)) if not is_dead(nxt, k)]
    elif i:
        needed = _reads(form.layers[n], 0)
        values += [_unsigned(ACTIVATION, n, j, int(layer.a_low[j]), int(layer.a_high[j]))
                   for j in range(i) if needed[j] and not is_dead(layer, j)]
    return tuple(sorted(set(values), key=lambda v: (v.kind != SCORE, v.layer, v.kind, v.index)))


def chain_cuts(form: DenseForm) -> int:
    """How many units a chain may cut the network between (0: it cannot be split).

    A network of one layer (a linear model) is not split: each link would need every
    feature and the head, which is all it computes. Nor is a network with a cut that
    carries nothing (the rest of it would be a constant).
    """
    if len(form.layers) < 2:
        return 0
    units = sum(layer_widths(form))
    return units if all(carry_at(form, c) for c in range(1, units)) else 0


# -- a linear model split by features ---------------------------------------------------------
def splits_by_features(form: DenseForm) -> bool:
    """Whether the form is one dense layer (linear or logistic regression), which a split
    cuts between features rather than neurons (`chain_cuts` leaves it whole)."""
    return len(form.layers) == 1 and isinstance(form.layers[0], IntLayer)


def feature_input_bounds(form: DenseForm) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of a0_j = u_j - input_offset over every input the feature type allows (not
    only the declared range: a handoff's cast must never halt on a well-typed input)."""
    t = form.io.feature_type
    low = np.full(form.io.n_features, int(t.min) - form.input_offset, dtype=np.int64)
    high = np.full(form.io.n_features, int(t.max) - form.input_offset, dtype=np.int64)
    return low, high


def feature_partial_type(form: DenseForm, end: int) -> tuple[IntType, int]:
    """Type and offset carrying each output's partial dot product over features [0, end)
    (no bias) of a form that `splits_by_features`: one unsigned type and one offset for
    every output, so each sum travels as sum + offset >= 0 (exact interval bounds)."""
    layer = form.layers[0]
    assert isinstance(layer, IntLayer)
    low, high = feature_input_bounds(form)
    zero = np.zeros(layer.weight.shape[0], dtype=np.int64)
    lo, hi = interval_dot(layer.weight[:, :end], zero, low[:end], high[:end])
    offset = max(0, -min(int(v) for v in lo))
    return narrowest_int(0, max(int(v) for v in hi) + offset, signed=False), offset


def feature_partial_sums(form: DenseForm, row: np.ndarray, end: int) -> list[int]:
    """Each output's dot product over features [0, end) of one row of circuit inputs (the
    integer reference of what a link hands on), exact ints."""
    layer = form.layers[0]
    assert isinstance(layer, IntLayer)
    a0 = [int(v) - form.input_offset for v in np.asarray(row)[:end]]
    return [sum(int(w) * a for w, a in zip(layer.weight[k, :end], a0)) for k in range(layer.weight.shape[0])]
