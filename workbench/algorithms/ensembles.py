"""Tree ensembles and tree regression: one `TreeIR` format, one integer reference, one template.

Estimators (TOML names): `decision_tree_regressor`, `random_forest_classifier`,
`adaboost_classifier`, `xgb_classifier`, `xgb_regressor`. Each becomes a list of `TreeIR`
whose leaves hold a row of `n_outputs` real numbers, plus a bias row:

    scores(x) = bias + sum over trees of value[leaf reached by x]

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

Fixed point: features with `f` fractional bits (as in `trees.py`), leaf values and bias with
`value_bits_` bits: Vq = q(v) = floor(v * 2^vb + 1/2). The scores are sums of these
integers, computed in the circuit in `field` (free) and exactly in numpy.

Circuit: every used node compares `x[feature] <= T` in the features' integer type; each
tree's leaf row is selected bottom-up with `field` ternaries (constant parts folded); the
class scores are summed in `field`, shifted by a constant offset that makes them
non-negative, cast to the narrowest unsigned type holding the proven bound, and the argmax
is taken with strict `>` (ties: lowest class index, as numpy's argmax). Regression returns
the summed score itself as a public `field` (the prediction times 2^vb).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np
from sklearn.ensemble import AdaBoostClassifier, RandomForestClassifier
from sklearn.tree import DecisionTreeRegressor

from workbench.algorithms.base import Algorithm, ProgramPlan, QuantizedModel, RevealedScores, parse_int_literals
from workbench.algorithms.registry import register
from workbench.algorithms.trees import (
    MAX_AUTO_FRACTIONAL_BITS,
    TreeIR,
    _depth,
    float_leaf_index,
    leaf_index,
    quantize_thresholds,
)
from workbench.data import Dataset
from workbench.errors import UserError
from workbench.experiment import QuantizationSpec
from workbench.quantize import (
    FIELD,
    FIELD_MODULUS,
    FixedPoint,
    InputRange,
    IntType,
    QuantizedInputs,
    field_to_int,
    narrowest_int,
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
    task: str  # "classification": argmax over outputs; "regression": the single output

    @property
    def n_outputs(self) -> int:
        return len(self.bias)

    def float_scores(self, X: np.ndarray) -> np.ndarray:
        """The float model's scores (the estimator's margins/votes up to a monotone map)."""
        s = np.tile(self.bias, (len(X), 1))
        for t in self.trees:
            s += t.value[float_leaf_index(t, X)]
        return s


class QuantizedTreeEnsemble(QuantizedModel):
    """A sum of trees in fixed point: argmax of class scores, or a regression value.

    A model too large for one transition is split into a chain of programs, a group of
    consecutive trees each (see `plan`); the pipeline chooses where to cut.
    """

    template = "tree_ensemble"
    chain_unit = "trees"

    def __init__(
        self,
        ir: TreeEnsembleIR,
        inputs: QuantizedInputs,
        value_bits: int,
        classes: np.ndarray | None = None,
    ) -> None:
        self.ir_ = ir
        self.task = ir.task
        self.inputs_ = inputs
        self.classes_ = classes
        self.value_bits_ = value_bits
        vfix = FixedPoint(value_bits)
        self.thresholds_ = [quantize_thresholds(t, inputs) for t in ir.trees]
        self.values_ = [vfix.quantize(t.value) for t in ir.trees]  # (n_nodes, n_outputs) each
        self.bias_ = vfix.quantize(ir.bias)
        low = int(inputs.int_low.min()) - 1
        high = int(inputs.int_high.max())
        # Signed so that the clamped threshold q(low) - 1 is representable (as in trees.py).
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
            raise OverflowError("tree ensemble scores exceed the field")
        if ir.task == "classification":
            assert classes is not None and len(classes) == ir.n_outputs
            # Adding `offset_` maps every score into [0, max high + offset]: the cast to the
            # unsigned score type cannot halt for any input in the declared range.
            self.offset_ = max(0, -min(self.score_low_))
            self.score_type_: IntType | None = narrowest_int(0, max(self.score_high_) + self.offset_, signed=False)
            self.output_type_: Any = narrowest_int(0, max(ir.n_outputs - 1, 0), signed=False)
        else:
            assert ir.n_outputs == 1
            self.offset_ = 0
            self.score_type_ = None
            self.output_type_ = FIELD

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
        if self.task == "classification":
            return np.argmax(s, axis=1).astype(np.int64)  # ties: lowest index, as in the circuit
        return s[:, 0].astype(np.int64)

    def labels(self, outputs: np.ndarray) -> np.ndarray:
        outputs = np.asarray(outputs, dtype=np.int64)
        if self.task == "classification":
            assert self.classes_ is not None
            return self.classes_[outputs]
        return outputs / float(1 << self.value_bits_)

    def decode_outputs(self, outputs: list[str], batch: int) -> list[int]:
        values = parse_int_literals(outputs[0])
        if len(values) != batch:
            raise ValueError(f"expected {batch} output values, snarkVM returned {outputs[0]!r}")
        # A regression output is a field element; negative predictions are p - |v|.
        return [field_to_int(v) for v in values] if self.task == "regression" else values

    # -- Leo -----------------------------------------------------------------------------
    def _tree_context(self, i: int, shared: dict[tuple[int, int], str]) -> dict[str, Any]:
        """One tree's comparisons and field selections, constant parts folded.

        `shared` maps (feature, threshold) to the name of a comparison already emitted by
        an earlier tree (boosted trees often repeat a split), so it is computed once.
        """
        t, thr, v = self.ir_.trees[i], self.thresholds_[i], self.values_[i]
        selects: list[dict[str, Any]] = []
        comparisons: list[dict[str, Any]] = []

        def cond(n: int) -> str:
            key = (int(t.feature[n]), int(thr[n]))
            if key not in shared:
                shared[key] = f"c{i}_{n}"
                comparisons.append(
                    {
                        "name": shared[key],
                        "feature": key[0],
                        "threshold": key[1],
                        # The float split, for the reader: the integer test is always `<=`.
                        "split": f"{'<' if t.strict else '<='} {float(t.threshold[n]):.6g}",
                    }
                )
            return shared[key]

        def ref(n: int, k: int) -> str:
            if t.is_leaf(n):
                return f"{int(v[n, k])}field"
            a, b = ref(int(t.left[n]), k), ref(int(t.right[n]), k)
            if a == b:  # both subtrees give the same constant: no selection needed
                return a
            name = f"t{i}_n{n}_k{k}"
            selects.append({"name": name, "cond": cond(n), "left": a, "right": b})
            return name

        outputs = [ref(0, k) for k in range(self.ir_.n_outputs)]
        return {"index": i, "comparisons": comparisons, "selects": selects, "outputs": outputs}

    def _scores_context(self, trees: list[dict[str, Any]], bias: bool) -> list[dict[str, Any]]:
        """Per output: the field expression of its score (variables + one folded constant)."""
        scores = []
        for k in range(self.ir_.n_outputs):
            const = int(self.bias_[k]) if bias else 0
            terms = []
            for tc in trees:
                r = tc["outputs"][k]
                if r.endswith("field") and not r.startswith("t"):
                    const += int(r.removesuffix("field"))
                else:
                    terms.append(r)
            scores.append({"terms": terms, "const": const})
        return scores

    def leo_context(self, trees: list[int] | None = None, partial: bool = False) -> dict[str, Any]:
        """Template variables for the given trees (default: all), complete or as a shard."""
        idx = list(range(len(self.ir_.trees))) if trees is None else trees
        shared: dict[tuple[int, int], str] = {}
        tree_ctx = [self._tree_context(i, shared) for i in idx]
        return {
            "task": self.task,
            "trees": tree_ctx,
            "scores": self._scores_context(tree_ctx, bias=not partial),
            "n_outputs": self.ir_.n_outputs,
            "score_type": self.score_type_.name if self.score_type_ else "field",
            "offset": self.offset_,
            "value_bits": self.value_bits_,
            "n_trees": len(self.ir_.trees),
            "strict": any(t.strict for t in self.ir_.trees),
        }

    def revealed_scores(self) -> RevealedScores | None:
        if self.task != "classification":
            return None  # a regression's output is already its score
        assert self.score_type_ is not None
        return RevealedScores(
            "class scores",
            self.score_type_,
            tuple(f"u{k}" for k in range(self.ir_.n_outputs)),
            f"per class: the summed leaf values times 2^{self.value_bits_}, plus {self.offset_}",
        )

    def revealed_scores_int(self, Xq: np.ndarray) -> np.ndarray:
        return (self.scores_int(Xq) + self.offset_).astype(np.int64)

    def chain_units(self) -> int:
        """Trees: a chain of transitions can cut the model between any two of them."""
        return len(self.ir_.trees)

    def _suffix_type(self, start: int) -> tuple[IntType, int]:
        """Type and offset carrying the partial scores of trees start..end between links.

        The bound is proven like the main scores': each tree adds one of its leaf rows, so
        lo/hi are sums of per-tree minima/maxima; the offset makes every lane non-negative.
        """
        lo = np.zeros(self.ir_.n_outputs, dtype=object)
        hi = np.zeros(self.ir_.n_outputs, dtype=object)
        for tree, values in zip(self.ir_.trees[start:], self.values_[start:]):
            leaves = values[tree.leaves]
            lo += leaves.min(axis=0).astype(object)
            hi += leaves.max(axis=0).astype(object)
        offset = max(0, -min(int(v) for v in lo))
        return narrowest_int(0, max(int(v) for v in hi) + offset, signed=False), offset

    def plan(self, name: str, cuts: tuple[int, ...] = ()) -> list[ProgramPlan]:
        """One program, or a chain split before each tree index in `cuts`.

        Chain: the main program `<name>` evaluates trees [0, cuts[0]) and calls
        `<name>_p<cuts[0]>`, which evaluates [cuts[0], cuts[1]) and calls the link named
        after cuts[1], and so on (a link is named after its first tree, so its name does
        not change when links are added before it). Each link returns, privately, the
        partial scores of its trees and of every later one; the main program adds the
        bias and takes the argmax (or returns the sum).
        A link holds one call, so each transition pays for at most one call, and each
        has its own ~16k-constraint budget (at most 31 transitions in one execution).
        """
        n = len(self.ir_.trees)
        if not cuts:
            return [ProgramPlan(name=name, template=self.template, context={**self.leo_context(), "next": None})]
        bounds = [0, *cuts, n]
        if any(a >= b for a, b in zip(bounds, bounds[1:])):
            raise ValueError(f"cuts {cuts} do not split {n} trees into non-empty groups")
        names = [name] + [f"{name}_p{c}" for c in cuts]
        # What link i returns (and its caller reads): the partial scores from cuts[i - 1] on.
        carried = {c: self._suffix_type(c) for c in cuts}
        plans = []
        for i in reversed(range(len(names))):  # dependencies first: the last link first
            last = i == len(names) - 1
            nxt = None
            if not last:
                t, off = carried[bounds[i + 1]]
                nxt = {"program": f"{names[i + 1]}.aleo", "type": t.name, "offset": off}
            context = self.leo_context(list(range(bounds[i], bounds[i + 1])), partial=i > 0)
            context.update(next=nxt, first_tree=bounds[i], last_tree=bounds[i + 1] - 1)
            if i > 0:
                t, off = carried[bounds[i]]
                context.update(acc_type=t.name, acc_offset=off)
            template = self.template if i == 0 else "tree_ensemble_link"
            plans.append(ProgramPlan(name=names[i], template=template, context=context, imports=() if last else (names[i + 1],)))
        return plans

    def describe(self) -> dict[str, Any]:
        trees = self.ir_.trees
        return {
            "fractional_bits": self.inputs_.fixed.fractional_bits,
            "value_bits": self.value_bits_,
            "rounding": "floor(v * 2^f + 1/2), inputs clipped to the declared range first",
            "split": "x < t (strict: q(x) < q(t))" if trees[0].strict else "x <= t (q(x) <= q(t))",
            "feature_type": self.feature_type_.name,
            "score_type": self.score_type_.name if self.score_type_ else "field",
            "score_offset": self.offset_,
            "score_bounds": [self.score_low_, self.score_high_],
            "output_type": self.output_type_.name,
            "input_range": self.inputs_.range.as_lists(),
            "trees": len(trees),
            "internal_nodes": sum(len(t.internal_nodes) for t in trees),
            "depth": max(_depth(t) for t in trees),
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
    """Feature bits (requested, or the fewest keeping the most training rows on the float
    leaves of every tree), then value bits (regression: REGRESSION_VALUE_BITS; classifiers:
    the fewest from MIN_VALUE_BITS reproducing the most float predictions on the training
    set)."""

    def make(f: int, vb: int) -> QuantizedTreeEnsemble:
        return QuantizedTreeEnsemble(ir, QuantizedInputs(FixedPoint(f), rng), vb, classes)

    if spec.fractional_bits is not None:
        f = spec.fractional_bits
    else:
        float_leaves = [float_leaf_index(t, X_train) for t in ir.trees]
        best = (-1.0, 0)
        for bits in range(MAX_AUTO_FRACTIONAL_BITS + 1):
            qi = QuantizedInputs(FixedPoint(bits), rng)
            Xq = qi(X_train)
            same = np.ones(len(X_train), dtype=bool)
            for t, fl in zip(ir.trees, float_leaves):
                same &= leaf_index(t, quantize_thresholds(t, qi), Xq) == fl
            agreement = float(np.mean(same))
            if agreement > best[0]:
                best = (agreement, bits)
            if agreement == 1.0:
                break
        f = best[1]
    if ir.task == "regression":
        return make(f, REGRESSION_VALUE_BITS)
    best_model: tuple[float, QuantizedTreeEnsemble] | None = None
    for vb in range(MIN_VALUE_BITS, MAX_VALUE_BITS + 1):
        model = make(f, vb)
        agreement = float(np.mean(model.predict(X_train) == float_pred))
        if best_model is None or agreement > best_model[0]:
            best_model = (agreement, model)
        if agreement == 1.0:
            break
    assert best_model is not None
    return best_model[1]


# -- scikit-learn --------------------------------------------------------------------------
def _class_probabilities(tree: Any) -> np.ndarray:
    """Per-node class probabilities of a scikit-learn classifier tree (rows sum to 1)."""
    v = tree.tree_.value[:, 0, :].astype(np.float64)
    return v / v.sum(axis=1, keepdims=True)


def ir_decision_tree_regressor(est: DecisionTreeRegressor) -> TreeEnsembleIR:
    """One tree, one output: the leaf's mean target."""
    if est.tree_.value.shape[1] != 1:
        raise UserError("decision_tree_regressor: only single-target regression is supported")
    tree = TreeIR.from_sklearn(est, est.tree_.value[:, 0, :])
    return TreeEnsembleIR((tree,), np.zeros(1), "regression")


def ir_random_forest(est: RandomForestClassifier) -> TreeEnsembleIR:
    """Soft vote: each tree's leaf row is its class probabilities (summed, not averaged)."""
    trees = tuple(TreeIR.from_sklearn(e, _class_probabilities(e)) for e in est.estimators_)
    return TreeEnsembleIR(trees, np.zeros(len(est.classes_)), "classification")


def ir_adaboost(est: AdaBoostClassifier) -> TreeEnsembleIR:
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
    return TreeEnsembleIR(tuple(trees), np.zeros(k), "classification")


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


def ir_xgboost(est: Any, X_train: np.ndarray, task: str) -> TreeEnsembleIR:
    """XGBClassifier/XGBRegressor -> IR, checked against the booster's own margins."""
    booster = est.get_booster()
    model = json.loads(booster.save_raw("json"))  # parsed as data, never evaluated
    objective = model["learner"]["objective"]["name"]
    base = _floats(model["learner"]["learner_model_param"]["base_score"])
    trees, groups = xgboost_trees(model)
    if task == "regression":
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
    ir = TreeEnsembleIR(tuple(row_trees), bias, task)

    # The booster's margins must be the IR's scores (up to float32 summation error).
    import xgboost

    margin = booster.predict(xgboost.DMatrix(X_train), output_margin=True).reshape(len(X_train), -1)
    mine = ir.float_scores(X_train)
    mine = mine[:, 1:] if objective == "binary:logistic" else mine
    if not np.allclose(margin, mine, atol=1e-3, rtol=1e-5):
        raise UserError("xgboost: the trees read from the model JSON do not reproduce the booster's margins")
    return ir


# -- lowerings -----------------------------------------------------------------------------
def _lower(make_ir: Callable[[Any, Dataset], TreeEnsembleIR]) -> Callable[..., QuantizedTreeEnsemble]:
    def lower(est: Any, data: Dataset, spec: QuantizationSpec) -> QuantizedTreeEnsemble:
        ir = make_ir(est, data)
        rng = InputRange.from_training(data.X_train, spec.input_range)
        classes = np.asarray(est.classes_) if ir.task == "classification" else None
        return choose_bits(ir, rng, data.X_train, est.predict(data.X_train), classes, spec)

    return lower


lower_decision_tree_regressor = _lower(lambda est, data: ir_decision_tree_regressor(est))
lower_random_forest_classifier = _lower(lambda est, data: ir_random_forest(est))
lower_adaboost_classifier = _lower(lambda est, data: ir_adaboost(est))
lower_xgb_classifier = _lower(lambda est, data: ir_xgboost(est, data.X_train, "classification"))
lower_xgb_regressor = _lower(lambda est, data: ir_xgboost(est, data.X_train, "regression"))

register(Algorithm("decision_tree_regressor", DecisionTreeRegressor, "regression", lower_decision_tree_regressor))
register(Algorithm("random_forest_classifier", RandomForestClassifier, "classification", lower_random_forest_classifier))
register(Algorithm("adaboost_classifier", AdaBoostClassifier, "classification", lower_adaboost_classifier))


def _register_xgboost() -> None:
    try:
        from xgboost import XGBClassifier, XGBRegressor
    except ImportError:  # pragma: no cover - xgboost is a declared dependency
        return
    register(Algorithm("xgb_classifier", XGBClassifier, "classification", lower_xgb_classifier))
    register(Algorithm("xgb_regressor", XGBRegressor, "regression", lower_xgb_regressor))


_register_xgboost()
