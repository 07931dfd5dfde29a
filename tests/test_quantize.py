"""Fixed point, type choice and the decision tree's integer reference (no snarkVM here)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.tree import DecisionTreeClassifier

from workbench.algorithms.ensembles import lower_decision_tree_classifier
from workbench.algorithms.trees import TreeIR
from workbench.data import load_dataset
from workbench.kinds import Task
from workbench.errors import UserError
from workbench.experiment import DatasetSpec, QuantizationSpec
from workbench.quantize import Calibration, FixedPoint, InputRange, IntType, NoIntegerType, narrowest_int, search_bits


def test_rounding_rule_is_round_half_up() -> None:
    fp = FixedPoint(2)  # quarter steps
    values = np.array([0.125, -0.125, 0.1, -0.1, 0.375, -0.375, 1.0])
    assert fp.quantize(values).tolist() == [1, 0, 0, 0, 2, -1, 4]


@given(st.integers(-(2**40), 2**40), st.integers(0, 2**40))
def test_narrowest_int_holds_the_range_and_is_narrowest(low: int, span: int) -> None:
    high = low + span
    t = narrowest_int(low, high)
    assert t.holds(low, high)
    if t.bits > 8:
        assert not IntType(t.signed, t.bits // 2).holds(low, high)


def test_narrowest_int_examples() -> None:
    assert narrowest_int(-128, 127).name == "i8"
    assert narrowest_int(-129, 0).name == "i16"
    assert narrowest_int(0, 255).name == "u8"
    assert narrowest_int(0, 256).name == "u16"
    assert narrowest_int(-1, 255, signed=True).name == "i16"


def _iris_tree(fractional_bits: int | None, depth: int = 4):
    data = load_dataset(DatasetSpec(name="iris"), seed=1, task=Task.CLASSIFICATION)
    est = DecisionTreeClassifier(max_depth=depth, random_state=1).fit(data.X_train, data.y_train)
    calibration = Calibration(data.X_train, data.y_train)
    return data, est, lower_decision_tree_classifier(est, calibration, QuantizationSpec(fractional_bits=fractional_bits))


def _walk_with_floats(tree: TreeIR, fp: FixedPoint, x: np.ndarray) -> int:
    # An independent reading of the tree: compare dequantized inputs with the float
    # threshold rounded the same way, without the clamp.
    n = 0
    while tree.left[n] != -1:
        f = tree.feature[n]
        n = tree.left[n] if x[f] <= int(fp.quantize(tree.threshold[n])) else tree.right[n]
    return int(tree.value[n])


@pytest.mark.parametrize("bits", [0, 3, 8])
def test_integer_reference_matches_an_independent_walk(bits: int) -> None:
    data, _, model = _iris_tree(bits)
    Xq = model.quantize_inputs(np.vstack([data.X_train, data.X_test]))
    expected = [_walk_with_floats(model.ir_.trees[0], model.inputs_.fixed, row) for row in Xq]
    assert model.predict_int(Xq).tolist() == expected


def test_high_precision_quantized_tree_matches_float_tree() -> None:
    data, est, model = _iris_tree(16)
    X = np.vstack([data.X_train, data.X_test])
    assert (model.predict(X) == est.predict(X)).all()


def test_auto_bits_reproduce_float_training_predictions_with_narrow_types() -> None:
    data, est, model = _iris_tree(None)
    assert (model.predict(data.X_train) == est.predict(data.X_train)).mean() == 1.0
    assert model.feature_type_.bits <= 16


def test_types_hold_every_value_of_the_declared_range_and_inputs_are_clipped() -> None:
    data, _, model = _iris_tree(None)
    t = model.feature_type_
    far = np.array([[1e6] * 4, [-1e6] * 4])
    Xq = model.quantize_inputs(far)
    assert t.holds(int(Xq.min()), int(Xq.max()))
    assert (Xq[0] == model.inputs_.int_high).all() and (Xq[1] == model.inputs_.int_low).all()
    internal = model.ir_.trees[0].internal_nodes
    assert t.holds(int(model.thresholds_[0][internal].min()), int(model.thresholds_[0][internal].max()))


def test_clamped_thresholds_keep_every_in_range_decision() -> None:
    data, _, model = _iris_tree(2)
    rng = np.random.default_rng(0)
    lo, hi = model.inputs_.int_low, model.inputs_.int_high
    Xq = rng.integers(lo, hi + 1, size=(500, len(lo)))
    expected = [_walk_with_floats(model.ir_.trees[0], model.inputs_.fixed, row) for row in Xq]
    assert model.predict_int(Xq).tolist() == expected


def test_declared_input_range_is_used() -> None:
    r = InputRange.from_training(np.array([[0.0, 5.0], [1.0, 6.0]]), (-2.0, 2.0))
    assert r.low.tolist() == [-2.0, -2.0] and r.high.tolist() == [2.0, 2.0]
    auto = InputRange.from_training(np.array([[0.0, 5.0], [1.0, 6.0]]), None)
    assert auto.low.tolist() == [-0.25, 4.75] and auto.high.tolist() == [1.25, 6.25]


def test_no_integer_type_is_a_user_error_with_advice() -> None:
    with pytest.raises(NoIntegerType, match="fractional_bits lower"):
        narrowest_int(0, 2**200)
    assert issubclass(NoIntegerType, UserError)


def test_bit_search_takes_the_fewest_bits_reaching_the_target() -> None:
    tried: list[int] = []

    def make(f: int) -> int:
        tried.append(f)
        return f

    assert search_bits(make, lambda f: min(f / 5, 1.0), None) == 5
    assert tried == [0, 1, 2, 3, 4, 5]  # stops at the first that reaches the target
    assert search_bits(make, lambda f: 0.5, 9) == 9  # requested bits are used as they are
    # Without reaching the target: the fewest bits with the best score.
    assert search_bits(make, lambda f: -abs(f - 7), None, target=1.0) == 7
    # Guard bits are added on top, capped at the end of the range.
    assert search_bits(make, lambda f: min(f / 5, 1.0), None, guard=2) == 7
    assert search_bits(make, lambda f: 1.0, None, bits=range(3, 6), guard=9) == 5


def test_bit_search_stops_where_integers_get_too_wide() -> None:
    def make(f: int) -> int:
        if f > 3:
            raise UserError("too wide")
        return f

    assert search_bits(make, lambda f: f / 10, None) == 3  # 4 and up overflow: the best below
    assert search_bits(make, lambda f: 1.0 if f == 3 else 0.0, None, guard=2) == 3  # guard falls back
    with pytest.raises(UserError, match="too wide"):
        search_bits(make, lambda f: 1.0, None, bits=range(5, 8))
