"""Every tree model: one `TreeIR` format, one quantized model, one integer reference, one form.

Estimators (TOML names): `decision_tree_classifier`, `decision_tree_regressor`,
`random_forest_classifier`, `adaboost_classifier`, `xgb_classifier`, `xgb_regressor`. Each
becomes a list of `TreeIR` whose leaves hold a row of `n_outputs` real numbers, plus a bias
row:

    scores(x) = bias + sum over trees of value[leaf reached by x]

- decision tree classifier: one tree whose leaf holds the index of its class (the argmax of
  the leaf's class weights, ties: first); the prediction is that index, selected directly
  (head LEAF: no scores to sum or compare).
- decision tree regressor: one tree, one output (the leaf mean); the prediction is the score.
- random forest: leaf rows are the class probabilities; scikit-learn predicts the argmax of
  their MEAN (soft vote), and the argmax of the SUM is the same class.
- AdaBoost (SAMME): a tree's leaf row is its estimator weight on the class the leaf
  predicts (zero elsewhere); scikit-learn's decision function is an increasing affine map
  of these weighted votes (the same for every class), so the argmax is the same class.
- XGBoost: leaf rows are the leaf margins (the dump's leaf values already include the
  learning rate); a multiclass tree writes only its class's column (trees are interleaved
  by class). The bias is the base margin. Binary models get two columns, [0, margin], so
  that "margin > 0" is the argmax (margin = 0 gives class 0, like xgboost's `p > 0.5`).

Fixed point: features with `f` fractional bits (see `trees.quantize_thresholds`), leaf
values and bias with `value_bits_` bits: Vq = q(v) = floor(v * 2^vb + 1/2). The scores are
sums of these integers, computed in the circuit in `field` (free) and exactly in numpy.

Circuit (`TreeForm`, rendered by workbench/leo/contexts.py): every used node compares
`x[feature] <= T` in the features' integer type; each tree's leaf row is selected bottom-up
with `field` ternaries; the class scores are summed in `field`, shifted by a constant offset
that makes them non-negative, cast to the narrowest unsigned type holding the proven bound,
and the argmax is taken with strict `>` (ties: lowest class index, as numpy's argmax).
Regression returns the summed score itself as a public `field` (the prediction times 2^vb).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np

from workbench.algorithms.base import QuantizedModel, _classes
from workbench.algorithms.forms import CircuitIO, LabelCodec, ScoresInfo, TreeForm, TreeHead
from workbench.algorithms.trees import TreeIR, depth, float_leaf_index, leaf_index, quantize_thresholds
from workbench.errors import UserError
from workbench.kinds import Task
from workbench.quantize import (
    FIELD,
    FIELD_MODULUS,
    Calibration,
    FixedPoint,
    InputRange,
    IntType,
    QuantizationSpec,
    QuantizedInputs,
    narrowest_int,
    search_bits,
)

# Bits of the leaf values of regressors: the prediction's resolution is 2^-8 per tree, far
# below the targets' noise (diabetes: 25..346); more bits cost nothing (field arithmetic).
REGRESSION_VALUE_BITS = 8
# The classifiers' value bits: searched upward from MIN_VALUE_BITS (more bits cost nothing
# but the width of the score cast, and make rounding ties on unseen rows rarer; the very
# fewest bits that reproduce the training set, 1-3 here, would be fragile) to MAX_VALUE_BITS.
MIN_VALUE_BITS = 8
MAX_VALUE_BITS = 16


@dataclass(frozen=True)
class TreeEnsembleIR:
    """Trees with row-valued leaves, a bias row, and how the scores become the prediction."""

    trees: tuple[TreeIR, ...]
    bias: np.ndarray  # shape (n_outputs,)
    head: TreeHead = TreeHead.ARGMAX  # ARGMAX or LEAF (one tree) for classification; SUM for regression

    @property
    def task(self) -> Task:
        return Task.REGRESSION if self.head == TreeHead.SUM else Task.CLASSIFICATION

    @property
    def n_outputs(self) -> int:
        return len(self.bias)

    def float_scores(self, X: np.ndarray) -> np.ndarray:
        """The float model's scores (the estimator's margins/votes up to a monotone map)."""
        s = np.tile(self.bias, (len(X), 1))
        for t in self.trees:
            s += np.asarray(t.value, dtype=np.float64).reshape(len(t.left), -1)[float_leaf_index(t, X)]
        return s


class QuantizedTreeEnsemble(QuantizedModel):
    """One tree or a sum of trees in fixed point: a class index, or a regression value.

    A model too large for one transition can be split into a chain of programs, a group of
    consecutive trees each (the Leo layer plans where to cut).
    """

    def __init__(
        self,
        ir: TreeEnsembleIR,
        inputs: QuantizedInputs,
        value_bits: int,
        classes: np.ndarray | None = None,
    ) -> None:
        self.ir_ = ir
        self.task = ir.task
        self.head_ = ir.head
        self.inputs_ = inputs
        self.classes_ = classes
        self.thresholds_ = [quantize_thresholds(t, inputs) for t in ir.trees]
        if ir.head == TreeHead.LEAF:
            # The leaf holds a class index: no scaling, no sum.
            self.value_bits_ = 0
            self.values_ = [np.asarray(t.value, dtype=np.int64).reshape(len(t.left), 1) for t in ir.trees]
            self.bias_ = np.zeros(1, dtype=np.int64)
        else:
            self.value_bits_ = value_bits
            vfix = FixedPoint(value_bits)
            self.values_ = [vfix.quantize(t.value) for t in ir.trees]  # (n_nodes, n_outputs) each
            self.bias_ = vfix.quantize(ir.bias)
        low = int(inputs.int_low.min()) - 1
        high = int(inputs.int_high.max())
        # Signed so that the clamped threshold q(low) - 1 is representable.
        self.feature_type_: IntType = narrowest_int(min(low, -1), high, signed=True)

        # Proven score bounds over ALL inputs: each tree contributes one of its leaf rows.
        lo = self.bias_.astype(object).copy()
        hi = self.bias_.astype(object).copy()
        for t, v in zip(ir.trees, self.values_):
            leaves = v[t.leaves]
            lo += leaves.min(axis=0).astype(object)
            hi += leaves.max(axis=0).astype(object)
        self.score_low_ = [int(v) for v in lo]
        self.score_high_ = [int(v) for v in hi]
        # Field sums equal integer sums while |score| < p/2 (then field_to_int reads them back).
        if max(max(map(abs, self.score_low_)), max(map(abs, self.score_high_))) >= FIELD_MODULUS // 2:
            raise UserError("the tree ensemble's scores exceed the field; use fewer value bits or fewer trees")
        self.offset_ = 0
        self.score_type_: IntType | None = None
        if ir.head == TreeHead.LEAF:
            assert classes is not None
            self.output_type_: Any = narrowest_int(0, max(len(classes) - 1, 0), signed=False)
        elif ir.head == TreeHead.ARGMAX:
            assert classes is not None and len(classes) == ir.n_outputs
            # Adding `offset_` maps every score into [0, max high + offset]: the cast to the
            # unsigned score type cannot halt for any input in the declared range.
            self.offset_ = max(0, -min(self.score_low_))
            self.score_type_ = narrowest_int(0, max(self.score_high_) + self.offset_, signed=False)
            self.output_type_ = narrowest_int(0, max(ir.n_outputs - 1, 0), signed=False)
        else:
            assert ir.n_outputs == 1
            self.output_type_ = FIELD

    @property
    def form(self) -> TreeForm:
        return TreeForm(
            io=CircuitIO(len(self.inputs_.int_low), self.feature_type_, self.output_type_, self.inputs_.fixed.fractional_bits),
            head=self.head_,
            trees=self.ir_.trees,
            thresholds=tuple(self.thresholds_),
            values=tuple(self.values_),
            bias=self.bias_,
            score_type=self.score_type_,
            offset=self.offset_,
            value_bits=self.value_bits_,
            n_classes=0 if self.classes_ is None else len(self.classes_),
        )

    # -- integer reference -------------------------------------------------------------
    def scores_int(self, Xq: np.ndarray, trees: list[int] | None = None, bias: bool = True) -> np.ndarray:
        """Exact integer scores (n_rows, n_outputs) of the given trees (default: all)."""
        idx = range(len(self.ir_.trees)) if trees is None else trees
        s = np.tile(self.bias_ if bias else np.zeros_like(self.bias_), (len(Xq), 1))
        for i in idx:
            s += self.values_[i][leaf_index(self.ir_.trees[i], self.thresholds_[i], Xq)]
        return s

    def predict_int(self, Xq: np.ndarray) -> np.ndarray:
        s = self.scores_int(Xq)
        if self.head_ == TreeHead.ARGMAX:
            return np.argmax(s, axis=1).astype(np.int64)  # ties: lowest index, as in the circuit
        return s[:, 0].astype(np.int64)  # LEAF: the class index; SUM: the regression score

    @property
    def label_codec(self) -> LabelCodec:
        if self.task == Task.CLASSIFICATION:
            return LabelCodec(classes=_classes(self.classes_))
        return LabelCodec(divisor=1 << self.value_bits_)

    def revealed_scores(self) -> ScoresInfo | None:
        if self.head_ != TreeHead.ARGMAX:
            return None  # a regression's output is already its score; a single tree has none
        assert self.score_type_ is not None
        return ScoresInfo(
            "class scores",
            self.score_type_,
            self.ir_.n_outputs,
            f"per class: the summed leaf values times 2^{self.value_bits_}, plus {self.offset_}",
        )

    def revealed_scores_int(self, Xq: np.ndarray) -> np.ndarray:
        if self.head_ != TreeHead.ARGMAX:
            return super().revealed_scores_int(Xq)
        return (self.scores_int(Xq) + self.offset_).astype(np.int64)

    def describe(self) -> dict[str, Any]:
        trees = self.ir_.trees
        info: dict[str, Any] = {
            "fractional_bits": self.inputs_.fixed.fractional_bits,
            "rounding": "floor(v * 2^f + 1/2), inputs clipped to the declared range first",
            "feature_type": self.feature_type_.name,
            "output_type": self.output_type_.name,
            "input_range": self.inputs_.range.as_lists(),
        }
        if self.head_ == TreeHead.LEAF:
            return {**info, "internal_nodes": len(trees[0].internal_nodes), "depth": depth(trees[0])}
        return {
            **info,
            "value_bits": self.value_bits_,
            "split": "x < t (strict: q(x) < q(t))" if trees[0].strict else "x <= t (q(x) <= q(t))",
            "score_type": self.score_type_.name if self.score_type_ else "field",
            "score_offset": self.offset_,
            "score_bounds": [self.score_low_, self.score_high_],
            "trees": len(trees),
            "internal_nodes": sum(len(t.internal_nodes) for t in trees),
            "depth": max(depth(t) for t in trees),
        }


# -- choice of the fixed-point scales ------------------------------------------------------
def choose_bits(
    ir: TreeEnsembleIR,
    rng: InputRange,
    X_train: np.ndarray,
    float_pred: np.ndarray,
    classes: np.ndarray | None,
    spec: QuantizationSpec,
) -> QuantizedTreeEnsemble:
    """Feature bits (requested, or the fewest keeping the most training rows where the float
    model keeps them), then value bits (regression: REGRESSION_VALUE_BITS; classifiers: the
    fewest from MIN_VALUE_BITS reproducing the most float predictions on the training set).

    "Where the float model keeps them": for a sum of trees, on the float leaf of every tree
    (the sum then cannot move); for a single classifier tree, on the float prediction (two
    leaves of the same class are the same answer, so fewer bits may do).
    """

    def make(f: int, vb: int) -> QuantizedTreeEnsemble:
        return QuantizedTreeEnsemble(ir, QuantizedInputs(FixedPoint(f), rng), vb, classes)

    def agreement(model: QuantizedTreeEnsemble) -> float:
        return float(np.mean(model.predict(X_train) == float_pred))

    if ir.head == TreeHead.LEAF:
        return search_bits(lambda f: make(f, 0), agreement, spec.fractional_bits)

    float_leaves = [float_leaf_index(t, X_train) for t in ir.trees]

    def leaf_agreement(qi: QuantizedInputs) -> float:
        Xq = qi(X_train)
        same = np.ones(len(X_train), dtype=bool)
        for t, fl in zip(ir.trees, float_leaves):
            same &= leaf_index(t, quantize_thresholds(t, qi), Xq) == fl
        return float(np.mean(same))

    qi = search_bits(lambda f: QuantizedInputs(FixedPoint(f), rng), leaf_agreement, spec.fractional_bits)
    f = qi.fixed.fractional_bits
    if ir.task == Task.REGRESSION:
        return make(f, REGRESSION_VALUE_BITS)
    return search_bits(lambda vb: make(f, vb), agreement, None, bits=range(MIN_VALUE_BITS, MAX_VALUE_BITS + 1))


# -- scikit-learn --------------------------------------------------------------------------
def _class_probabilities(tree: Any) -> np.ndarray:
    """Per-node class probabilities of a scikit-learn classifier tree (rows sum to 1)."""
    v = tree.tree_.value[:, 0, :].astype(np.float64)
    return v / v.sum(axis=1, keepdims=True)


def ir_decision_tree_classifier(est: Any) -> TreeEnsembleIR:
    """One tree whose leaf holds its class index (argmax of class weights, ties: first)."""
    if est.n_outputs_ != 1:
        raise UserError("decision_tree_classifier: only single-output classification is supported")
    tree = TreeIR.from_sklearn_classifier(est)
    return TreeEnsembleIR((tree,), np.zeros(1), TreeHead.LEAF)


def ir_decision_tree_regressor(est: Any) -> TreeEnsembleIR:
    """One tree, one output: the leaf's mean target."""
    if est.tree_.value.shape[1] != 1:
        raise UserError("decision_tree_regressor: only single-target regression is supported")
    tree = TreeIR.from_sklearn(est, est.tree_.value[:, 0, :])
    return TreeEnsembleIR((tree,), np.zeros(1), TreeHead.SUM)


def ir_random_forest(est: Any) -> TreeEnsembleIR:
    """Soft vote: each tree's leaf row is its class probabilities (summed, not averaged)."""
    trees = tuple(TreeIR.from_sklearn(e, _class_probabilities(e)) for e in est.estimators_)
    return TreeEnsembleIR(trees, np.zeros(len(est.classes_)))


def ir_adaboost(est: Any) -> TreeEnsembleIR:
    """SAMME weighted vote: leaf row = estimator weight on the class the leaf predicts."""
    k = len(est.classes_)
    trees = []
    for e, w in zip(est.estimators_, est.estimator_weights_):
        if not hasattr(e, "tree_"):
            raise UserError("adaboost_classifier: only tree base estimators are supported")
        # The sub-tree predicts classes_[argmax(proba)] (first on ties); its classes_ are
        # AdaBoost's classes_ (same encoded y), so the column index is the class index.
        pred = np.argmax(e.tree_.value[:, 0, :], axis=1)
        value = np.zeros((len(pred), k))
        value[np.arange(len(pred)), pred] = float(w)
        trees.append(TreeIR.from_sklearn(e, value))
    return TreeEnsembleIR(tuple(trees), np.zeros(k))


# -- XGBoost -------------------------------------------------------------------------------
def _floats(text: str) -> list[float]:
    """base_score as saved by xgboost: '5E-1' or '[5E-1]' or '[1E0,2E0]'."""
    return [float(v) for v in text.strip("[]").split(",") if v.strip()]


def xgboost_trees(model: dict[str, Any]) -> tuple[list[TreeIR], list[int]]:
    """Trees (strict splits, one leaf value each) and their output group, from the model JSON."""
    gb = model["learner"]["gradient_booster"]
    if gb.get("name") != "gbtree":
        raise UserError(f"xgboost: only the gbtree booster is supported, not {gb.get('name')!r}")
    trees = []
    for t in gb["model"]["trees"]:
        if any(t.get("split_type", [])) or int(t["tree_param"].get("size_leaf_vector", "1")) > 1:
            raise UserError("xgboost: categorical splits and vector leaves are not supported")
        left = np.asarray(t["left_children"], dtype=np.int64)
        # split_conditions hold the float32 threshold of a split and the value of a leaf;
        # going through float32 recovers the exact float32 the booster compares with.
        cond = np.asarray(t["split_conditions"], dtype=np.float32).astype(np.float64)
        leaf = left == -1
        trees.append(
            TreeIR(
                left=left,
                right=np.asarray(t["right_children"], dtype=np.int64),
                feature=np.where(leaf, -2, np.asarray(t["split_indices"], dtype=np.int64)),
                threshold=np.where(leaf, -2.0, cond),
                value=np.where(leaf, cond, 0.0),
                strict=True,
            )
        )
    return trees, [int(g) for g in gb["model"]["tree_info"]]


def ir_xgboost(est: Any, X_train: np.ndarray, task: Task) -> TreeEnsembleIR:
    """XGBClassifier/XGBRegressor -> IR, checked against the booster's own margins."""
    booster = est.get_booster()
    model = json.loads(booster.save_raw("json"))  # parsed as data, never evaluated
    objective = model["learner"]["objective"]["name"]
    base = _floats(model["learner"]["learner_model_param"]["base_score"])
    trees, groups = xgboost_trees(model)
    if task == Task.REGRESSION:
        if objective not in ("reg:squarederror", "reg:absoluteerror", "reg:pseudohubererror"):
            raise UserError(f"xgb_regressor: objective {objective!r} is not supported (identity link only)")
        n_out, bias, column = 1, np.array([base[0]]), [0] * len(trees)
    elif objective == "binary:logistic":
        # Columns [0, margin]: argmax = (margin > 0) = (p > 0.5), ties to class 0.
        p = base[0]
        n_out, bias, column = 2, np.array([0.0, np.log(p / (1.0 - p))]), [1] * len(trees)
    elif objective in ("multi:softprob", "multi:softmax"):
        n_out = int(model["learner"]["learner_model_param"]["num_class"])
        bias = np.array(base if len(base) == n_out else base * n_out, dtype=np.float64)
        column = groups
    else:
        raise UserError(f"xgb_classifier: objective {objective!r} is not supported")
    row_trees = []
    for t, c in zip(trees, column):
        value = np.zeros((len(t.left), n_out))
        value[:, c] = t.value
        row_trees.append(replace(t, value=value))
    ir = TreeEnsembleIR(tuple(row_trees), bias, TreeHead.SUM if task == Task.REGRESSION else TreeHead.ARGMAX)

    # The booster's margins must be the IR's scores (up to float32 summation error).
    import xgboost

    margin = booster.predict(xgboost.DMatrix(X_train), output_margin=True).reshape(len(X_train), -1)
    mine = ir.float_scores(X_train)
    mine = mine[:, 1:] if objective == "binary:logistic" else mine
    if not np.allclose(margin, mine, atol=1e-3, rtol=1e-5):
        raise UserError("xgboost: the trees read from the model JSON do not reproduce the booster's margins")
    return ir


# -- lowerings -----------------------------------------------------------------------------
def _lower(make_ir: Callable[[Any, np.ndarray], TreeEnsembleIR]) -> Callable[..., QuantizedTreeEnsemble]:
    def lower(est: Any, calibration: Calibration, spec: QuantizationSpec) -> QuantizedTreeEnsemble:
        ir = make_ir(est, calibration.X)
        rng = InputRange.from_training(calibration.X, spec.input_range)
        classes = np.asarray(est.classes_) if ir.task == Task.CLASSIFICATION else None
        return choose_bits(ir, rng, calibration.X, est.predict(calibration.X), classes, spec)

    lower.__doc__ = f"Quantize a fitted estimator through `{make_ir.__name__}`."
    return lower


lower_decision_tree_classifier = _lower(lambda est, X: ir_decision_tree_classifier(est))
lower_decision_tree_regressor = _lower(lambda est, X: ir_decision_tree_regressor(est))
lower_random_forest_classifier = _lower(lambda est, X: ir_random_forest(est))
lower_adaboost_classifier = _lower(lambda est, X: ir_adaboost(est))
lower_xgb_classifier = _lower(lambda est, X: ir_xgboost(est, X, Task.CLASSIFICATION))
lower_xgb_regressor = _lower(lambda est, X: ir_xgboost(est, X, Task.REGRESSION))
