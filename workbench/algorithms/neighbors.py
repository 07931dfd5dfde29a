"""Clustering and neighbours: KMeans (nearest centroid) and k-nearest-neighbours voting.

Both models compare a row x with a set of public points P (centroids, or stored training
rows) by squared Euclidean distance, in fixed point with f fractional bits:

    D_p(x) = sum_j (x_j - p_j)^2 = |x|^2 + (|p|^2 - 2 x.p)

|x|^2 is the same for every point, so the order of the D_p is the order of the *scores*
s_p(x) = |p|^2 - 2 x.p, which are linear in x with public coefficients. The circuit
computes them in `field` (constant multiplications and additions cost no constraints),
adds one public offset that makes every score non-negative over the declared input range,
and casts them to the narrowest unsigned type holding that range (the cast is the range
check). KMeans compares those integers with a strict `<` scan (an argmin). k-NN, which
makes k comparisons per stored row, compares in field instead: with every score in
[0, 2^B), `s < v` is bit B of v - s + 2^B - 1 (a value in [0, 2^(B+1) - 2]), read by one
cast to an unsigned type (the range check) and a shift; the sorted top-k slots and their
classes are then selected with field arithmetic a + c * (b - a) (one constraint each),
and a majority vote over the k classes follows. Everything is in the circuit; only the
prediction is output.

Inputs travel as unsigned offset-binary integers u_j = xq_j - q(low_j) (so that the cast
to field is exact: a negative signed integer cast to field is its bit pattern, not p - |v|),
and the offset is folded into the score constants:

    s_p + O = (|p|^2 - 2 sum_j p_j q(low_j) + O) + sum_j (-2 p_j) u_j

Overflow argument: over the box 0 <= u_j <= q(high_j) - q(low_j) a linear form reaches its
extremes at corners, so its exact range is known; O = -(smallest minimum over all points),
the score type is the narrowest unsigned type holding the largest maximum + O, and the
lowering refuses magnitudes that are not far below the field modulus (they are < 2^126), so
the field value equals the integer and the cast never halts. The k-NN circuit asserts
0 <= u_j <= q(high_j) - q(low_j) (its bounds hold for every input it accepts); KMeans needs
no assert, its casts are the range checks.

Ties: the lowest index wins, in the integer reference and in the circuit (strict `<`
scans), as numpy's argmin / KMeans.predict and scikit-learn's brute-force neighbour order
(stored index order among equal distances; `np.argmax` of class counts for the vote).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.algorithms.base import QuantizedModel, _classes
from workbench.algorithms.forms import CentroidsForm, CircuitIO, LabelCodec, LinearScores, ScoresInfo, StoredRowsForm
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

# Scores must stay far below the field modulus (~2^252) so that field arithmetic is exact
# integer arithmetic; well above anything a fitting circuit uses (u64 at most).
_MAX_SCORE_BITS = 126


def linear_scores(points_q: np.ndarray, inputs: QuantizedInputs) -> LinearScores:
    """Scores of quantized points (shape (P, F)) for inputs in the declared range."""
    lo = [int(v) for v in inputs.int_low]
    span = [int(h) - int(l) for l, h in zip(inputs.int_low, inputs.int_high)]
    consts, coefs, lows, highs = [], [], [], []
    for p in points_q:
        p = [int(v) for v in p]
        c = sum(v * v for v in p) - 2 * sum(v * l for v, l in zip(p, lo))
        a = [-2 * v for v in p]
        # A linear form over a box: each term is extreme at one end of its interval.
        lows.append(c + sum(min(0, aj * s) for aj, s in zip(a, span)))
        highs.append(c + sum(max(0, aj * s) for aj, s in zip(a, span)))
        consts.append(c)
        coefs.append(tuple(a))
    offset = -min(lows)
    high = max(highs) + offset
    if high.bit_length() > _MAX_SCORE_BITS:
        raise UserError(f"distance scores need {high.bit_length()} bits; use fewer fractional bits")
    return LinearScores(
        const=tuple(c + offset for c in consts),
        coef=tuple(coefs),
        high=high,
        score_type=narrowest_int(0, high, signed=False),
    )


def offset_feature_type(inputs: QuantizedInputs) -> IntType:
    """The unsigned type of offset-binary inputs u_j in [0, q(high_j) - q(low_j)]."""
    return narrowest_int(0, int(np.max(inputs.int_high - inputs.int_low)), signed=False)


def argmin_first(S: np.ndarray) -> np.ndarray:
    """Per row, the index of the smallest score, the lowest index on ties (strict `<` scan)."""
    return np.asarray([min(range(len(row)), key=lambda p: (row[p], p)) for row in S], dtype=np.int64)


def top_k_insertion(S: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """The circuit's selection: labels of the k smallest scores per row, ascending.

    Stored rows are inserted one at a time, in index order, into a sorted list of k slots
    with a strict `<`, so among equal scores the earlier row stays first. This is the same
    order as a stable sort by score, truncated to k.
    """
    n = S.shape[0]
    out = np.zeros((n, k), dtype=np.int64)
    for r in range(n):
        out[r] = top_k_slots(S[r], labels, k)[1]
    return out


def top_k_slots(scores: Any, labels: Any, k: int) -> tuple[list[Any], list[int]]:
    """The k slots (scores, labels) after inserting one row's stored-row scores in order,
    as the circuit's selection leaves them (see `top_k_insertion`)."""
    vals: list[Any] = []
    labs: list[int] = []
    for s, y in zip(scores, labels):
        y = int(y)
        less = [s < v for v in vals]  # c_m, monotone in m because vals is sorted
        new_vals, new_labs = [], []
        for m in range(min(len(vals) + 1, k)):
            if m < len(vals):
                if m > 0 and less[m - 1]:
                    new_vals.append(vals[m - 1]), new_labs.append(labs[m - 1])
                elif less[m]:
                    new_vals.append(s), new_labs.append(y)
                else:
                    new_vals.append(vals[m]), new_labs.append(labs[m])
            else:  # a still-empty slot: the shifted last value, or the new one
                if m > 0 and less[m - 1]:
                    new_vals.append(vals[m - 1]), new_labs.append(labs[m - 1])
                else:
                    new_vals.append(s), new_labs.append(y)
        vals, labs = new_vals, new_labs
    return vals, labs


def majority_vote(neighbour_labels: np.ndarray, n_classes: int) -> np.ndarray:
    """The most frequent class per row, the smallest class index on ties (argmax)."""
    counts = np.stack([(neighbour_labels == c).sum(axis=1) for c in range(n_classes)], axis=1)
    return np.argmax(counts, axis=1).astype(np.int64)


class _DistanceModel(QuantizedModel):
    """What both families share: offset-binary inputs and linear distance scores.

    The circuit's inputs (and the integer reference's) are the offset-binary rows
    u = q(clip(x)) - q(low): `quantize_inputs` returns them, `predict_int` takes them.
    """

    points_q_: np.ndarray
    scores_: LinearScores

    def _setup(self, points: np.ndarray, inputs: QuantizedInputs) -> None:
        self.inputs_ = inputs
        self.points_q_ = inputs.fixed.quantize(points)
        self.scores_ = linear_scores(self.points_q_, inputs)
        self.feature_type_: IntType = offset_feature_type(inputs)

    def offset_rows(self, Xq: np.ndarray) -> np.ndarray:
        """Quantized rows q(x) -> the unsigned offset-binary integers the circuit receives."""
        return np.asarray(Xq, dtype=np.int64) - self.inputs_.int_low

    def input_offsets(self) -> np.ndarray:
        """The circuit's inputs are q(clip(x)) - q(low): unsigned offset-binary."""
        return -np.asarray(self.inputs_.int_low, dtype=np.int64)

    def _io(self) -> CircuitIO:
        return CircuitIO(len(self.inputs_.int_low), self.feature_type_, self.output_type_, self.inputs_.fixed.fractional_bits)

    def scores(self, U: np.ndarray) -> np.ndarray:
        """The circuit's score of every point for every offset-binary row, shape (n, P).

        Defined on the declared input range only (rows are clipped to it before they are
        quantized); outside it the circuit may halt, so the reference refuses.
        """
        U = np.asarray(U, dtype=np.int64)
        if U.size and (U.min() < 0 or np.any(U > self.inputs_.int_high - self.inputs_.int_low)):
            raise ValueError("a quantized input lies outside the declared input range")
        return self.scores_.evaluate(U)

    def _common_describe(self) -> dict[str, Any]:
        return {
            "fractional_bits": self.inputs_.fixed.fractional_bits,
            "rounding": "floor(v * 2^f + 1/2), inputs clipped to the declared range first",
            "feature_type": self.feature_type_.name,
            "feature_encoding": "offset binary: u = q(x) - q(low)",
            "score_type": self.scores_.score_type.name,
            "score_max": int(self.scores_.high),
            "output_type": self.output_type_.name,
            "input_range": self.inputs_.range.as_lists(),
        }


class QuantizedKMeans(_DistanceModel):
    """KMeans in fixed point: the index of the nearest quantized centroid."""

    task = Task.CLUSTERING

    def __init__(self, centers: np.ndarray, inputs: QuantizedInputs) -> None:
        self.centers_ = np.asarray(centers, dtype=np.float64)
        self._setup(self.centers_, inputs)
        self.output_type_: IntType = narrowest_int(0, max(len(centers) - 1, 0), signed=False)

    @property
    def form(self) -> CentroidsForm:
        return CentroidsForm(io=self._io(), scores=self.scores_)

    def predict_int(self, Xq: np.ndarray) -> np.ndarray:
        return argmin_first(self.scores(Xq))

    @property
    def label_codec(self) -> LabelCodec:
        return LabelCodec()  # the cluster index itself

    def revealed_scores(self) -> ScoresInfo | None:
        return ScoresInfo(
            "distance scores",
            self.scores_.score_type,
            len(self.centers_),
            "per centroid: the squared distance up to the term |x|^2 shared by all centroids, shifted to be "
            "non-negative (see docs/algorithms/neighbors.md); the smallest is the assignment",
        )

    def revealed_scores_int(self, Xq: np.ndarray) -> np.ndarray:
        return self.scores(Xq).astype(np.int64)

    def describe(self) -> dict[str, Any]:
        return {**self._common_describe(), "n_clusters": len(self.centers_)}


class QuantizedKNeighborsClassifier(_DistanceModel):
    """k-NN classification in fixed point over public stored rows."""

    task = Task.CLASSIFICATION

    def __init__(
        self, stored: np.ndarray, stored_labels: np.ndarray, classes: np.ndarray, k: int, inputs: QuantizedInputs
    ) -> None:
        if not 1 <= k <= len(stored):
            raise UserError(f"n_neighbors = {k} needs at least {k} stored rows, the model has {len(stored)}")
        self.stored_ = np.asarray(stored, dtype=np.float64)
        self.stored_labels_ = np.asarray(stored_labels, dtype=np.int64)  # class indices
        self.classes_ = classes
        self.k_ = k
        self._setup(self.stored_, inputs)
        self.output_type_: IntType = narrowest_int(0, max(len(classes) - 1, 0), signed=False)

    @property
    def score_bits(self) -> int:
        """B with every score in [0, 2^B): the comparison reads bit B of v - s + 2^B - 1."""
        return max(1, int(self.scores_.high).bit_length())

    @property
    def diff_type(self) -> IntType:
        """The unsigned type holding v - s + 2^B - 1, which lies in [0, 2^(B+1) - 2]."""
        return narrowest_int(0, 2 ** (self.score_bits + 1) - 2, signed=False)

    @property
    def form(self) -> StoredRowsForm:
        return StoredRowsForm(
            io=self._io(),
            scores=self.scores_,
            labels=tuple(int(v) for v in self.stored_labels_),
            k=self.k_,
            n_classes=len(self.classes_),
            spans=tuple(int(v) for v in self.inputs_.int_high - self.inputs_.int_low),
            score_bits=self.score_bits,
            diff_type=self.diff_type,
            count_type=narrowest_int(0, self.k_, signed=False),
        )

    def neighbours(self, Xq: np.ndarray) -> np.ndarray:
        """Class indices of the k selected neighbours of each row, nearest first."""
        return top_k_insertion(self.scores(Xq), self.stored_labels_, self.k_)

    def predict_int(self, Xq: np.ndarray) -> np.ndarray:
        return majority_vote(self.neighbours(Xq), len(self.classes_))

    def revealed_scores(self) -> ScoresInfo | None:
        return ScoresInfo(
            "votes per class",
            narrowest_int(0, self.k_, signed=False),
            len(self.classes_),
            f"per class: how many of the {self.k_} nearest stored rows have that class",
        )

    def revealed_scores_int(self, Xq: np.ndarray) -> np.ndarray:
        nb = self.neighbours(Xq)
        return np.stack([(nb == c).sum(axis=1) for c in range(len(self.classes_))], axis=1).astype(np.int64)

    @property
    def label_codec(self) -> LabelCodec:
        return LabelCodec(classes=_classes(self.classes_))

    def describe(self) -> dict[str, Any]:
        info = self._common_describe()
        info.pop("score_type")  # k-NN keeps scores in field; it compares through diff_type
        return {
            **info,
            "score_bits": self.score_bits,
            "diff_type": self.diff_type.name,
            "n_neighbors": self.k_,
            "stored_rows": len(self.stored_),
        }


def _agreement(X: np.ndarray, float_pred: np.ndarray) -> Any:
    return lambda model: float(np.mean(model.predict(X) == float_pred))


def lower_kmeans(est: Any, calibration: Calibration, spec: QuantizationSpec) -> QuantizedKMeans:
    """Quantize a fitted KMeans: its centroids at the inputs' scale; the fewest bits
    reproducing the float assignment of the calibration rows."""
    rng = InputRange.from_training(calibration.X, spec.input_range)

    def make(f: int) -> QuantizedKMeans:
        return QuantizedKMeans(est.cluster_centers_, QuantizedInputs(FixedPoint(f), rng))

    return search_bits(make, _agreement(calibration.X, est.predict(calibration.X)), spec.fractional_bits)


def lower_knn_classifier(est: Any, calibration: Calibration, spec: QuantizationSpec) -> QuantizedKNeighborsClassifier:
    """Quantize a fitted KNeighborsClassifier (Euclidean distance, uniform weights)."""
    if est.weights != "uniform":
        raise UserError(f"knn_classifier: weights = {est.weights!r} is not supported; use \"uniform\"")
    p = est.effective_metric_params_.get("p", 2) if est.effective_metric_ == "minkowski" else None
    if est.effective_metric_ not in ("euclidean", "minkowski") or (p is not None and p != 2):
        raise UserError(f"knn_classifier: metric {est.metric!r} is not supported; use the Euclidean distance")
    if np.ndim(est._y) != 1:
        raise UserError("knn_classifier: multi-output targets are not supported")
    rng = InputRange.from_training(calibration.X, spec.input_range)

    def make(f: int) -> QuantizedKNeighborsClassifier:
        return QuantizedKNeighborsClassifier(
            est._fit_X, est._y, est.classes_, est.n_neighbors, QuantizedInputs(FixedPoint(f), rng)
        )

    return search_bits(make, _agreement(calibration.X, est.predict(calibration.X)), spec.fractional_bits)
