"""MLPs (MLPClassifier, MLPRegressor): ReLU requantization, layer bounds, auto bits,
generated Leo; and, marked slow, end-to-end runs in snarkVM.

The circuit simulator and helpers are shared with test_linear.py (same integer format).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier, MLPRegressor
from test_linear import EXPERIMENTS, box_rows, simulate_circuit, trained

from workbench.algorithms.forms import IntMaxPool
from workbench.algorithms.linear import DenseLayer, DenseNet, MaxPoolLayer, QuantizedDenseModel, forward
from workbench.algorithms.mlp import lower_mlp_classifier, lower_mlp_regressor
from workbench.errors import UserError
from workbench.experiment import load_experiment
from workbench.leo import generate
from workbench.leo.compiler import compile_source
from workbench.leo.contexts import dense_context
from workbench.quantize import Calibration, FixedPoint, InputRange, QuantizedInputs
from workbench.stages import metrics_for

MLP_EXPERIMENTS = ("iris_mlp", "diabetes_mlp")


@pytest.mark.parametrize("name", MLP_EXPERIMENTS)
def test_reference_equals_the_circuit_over_the_declared_range(name: str) -> None:
    """Layer by layer, every cast fits for inputs anywhere in the declared range."""
    _, t = trained(name)
    rows = box_rows(t.model, 300)
    assert [simulate_circuit(t.model, r) for r in rows] == list(t.model.predict_int(rows))
    assert [simulate_circuit(t.model, r) for r in t.Xq_test] == list(t.int_ref)


@pytest.mark.parametrize("name", MLP_EXPERIMENTS)
def test_hidden_bounds_hold_layer_by_layer(name: str) -> None:
    _, t = trained(name)
    m = t.model
    a = box_rows(m, 300) - m.input_offset_
    f = m.inputs_.fixed.fractional_bits
    for layer in m.layers_:
        z = a @ layer.weight.T + layer.bias
        assert np.all(z >= layer.z_low) and np.all(z <= layer.z_high)
        a = np.where(z >= 0, z >> f, 0) if layer.relu else z
        assert np.all(a >= layer.a_low) and np.all(a <= layer.a_high)
        if layer.relu:
            # The offset form holds z: -2^(N-1) <= z < 2^(N-1), and N > f.
            live = layer.bits > 0
            assert np.all(layer.z_low[live] >= -(2 ** (layer.bits[live] - 1)))
            assert np.all(layer.z_high[live] < 2 ** (layer.bits[live] - 1))
            assert np.all(layer.bits[live] > f)


def test_at_least_two_hidden_layers_are_shipped() -> None:
    for name in MLP_EXPERIMENTS:
        _, t = trained(name)
        assert sum(layer.relu for layer in t.model.layers_) >= 2
        assert not t.model.layers_[-1].relu


def test_reference_matches_float_network_up_to_quantization() -> None:
    exp, t = trained("iris_mlp")
    assert t.model.head_ == "argmax"
    assert np.mean(t.model.predict(t.data.X_train) == t.estimator.predict(t.data.X_train)) == 1.0
    exp, t = trained("diabetes_mlp")
    fl = metrics_for("regression", t.data.y_test, t.y_float)
    qu = metrics_for("regression", t.data.y_test, t.model.labels(t.int_ref))
    assert abs(fl["r2"] - qu["r2"]) < 0.01 and abs(fl["mae"] - qu["mae"]) < 0.5


def test_dead_neuron_is_the_constant_zero() -> None:
    hidden = DenseLayer(np.array([[1.0], [1.0]]), np.array([-100.0, 0.0]), relu=True)
    out = DenseLayer(np.array([[1.0, 1.0]]), np.array([0.0]), relu=False)
    rng = InputRange(np.array([-2.0]), np.array([2.0]))
    model = QuantizedDenseModel(DenseNet((hidden, out)), QuantizedInputs(FixedPoint(4), rng), "regression")
    assert list(model.layers_[0].bits) == [0, 16]
    ctx = dense_context(model.form)
    assert ctx["layers"][0]["neurons"][0]["dead"]
    rows = box_rows(model, 50)
    assert [simulate_circuit(model, r) for r in rows] == list(model.predict_int(rows))
    source = generate.render(model, "dead_neuron", "dead_neuron", "", "private", "public")[0].source
    assert "let a1_0: field = 0field;" in source
    compile_source(source)


def test_binary_mlp_classifier_uses_the_sign_of_its_logit() -> None:
    _, t = trained("iris_mlp")
    y = (t.data.y_train == t.data.y_train[0]).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = MLPClassifier(hidden_layer_sizes=(4, 4), max_iter=500, random_state=0).fit(t.data.X_train, y)
    calibration = Calibration(t.data.X_train, y)
    model = lower_mlp_classifier(est, calibration, load_experiment(EXPERIMENTS / "iris_mlp.toml").quantization)
    assert model.head_ == "sign"
    np.testing.assert_array_equal(model.predict(t.data.X_train), est.predict(t.data.X_train))
    rows = box_rows(model, 50)
    assert [simulate_circuit(model, r) for r in rows] == list(model.predict_int(rows))


def test_non_relu_activation_is_a_user_error() -> None:
    _, t = trained("diabetes_mlp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = MLPRegressor(hidden_layer_sizes=(3, 3), activation="tanh", max_iter=20, random_state=0)
        est.fit(t.data.X_train, t.data.y_train)
    with pytest.raises(UserError, match="relu"):
        lower_mlp_regressor(est, Calibration(t.data.X_train), load_experiment(EXPERIMENTS / "diabetes_mlp.toml").quantization)


def test_relu_requantization_floors_like_numpy() -> None:
    # z in 2f bits; a = z >= 0 ? z >> f : 0, checked against Python's floor division.
    hidden = DenseLayer(np.eye(3), np.array([0.3, -0.7, 0.01]), relu=True)
    out = DenseLayer(np.ones((1, 3)), np.zeros(1), relu=False)
    rng = InputRange(np.full(3, -4.0), np.full(3, 4.0))
    model = QuantizedDenseModel(DenseNet((hidden, out)), QuantizedInputs(FixedPoint(3), rng), "regression")
    rows = box_rows(model, 100) - model.input_offset_
    h = model.layers_[0]
    z = rows @ h.weight.T + h.bias
    expected = np.vectorize(lambda v: max(v, 0) // 8)(z)
    np.testing.assert_array_equal(forward(model.layers_[:1], rows, 3), expected)


@pytest.mark.parametrize("name", MLP_EXPERIMENTS)
def test_generated_leo_compiles_and_fits_the_estimate(name: str) -> None:
    exp, t = trained(name)
    (program,) = generate.render(t.model, exp.program_name, exp.name, exp.description, "private", "public")
    aleo = compile_source(program.source).aleo
    n_hidden = sum(len(layer.bits) for layer in t.model.layers_[:-1])
    # One field -> uN conversion per live hidden neuron, plus the head's.
    n_head = t.model.net_.n_outputs if t.model.head_ != "regression" else 1
    assert aleo.count("cast r") - aleo.count("as field;") == n_hidden + n_head
    # The estimate of the model's own logic leaves room in one transition (~3-5k for logic).
    assert sum(t.model.layer_costs()) < 3_000


# -- snarkVM (slow) ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", MLP_EXPERIMENTS)
def test_mlp_end_to_end(name: str, tmp_path: Path) -> None:
    from workbench.pipeline import run_experiment

    result, _ = run_experiment(load_experiment(EXPERIMENTS / f"{name}.toml"), tmp_path, samples=3, proofs=0, workers=1)
    assert result.agreement == 1.0
    assert result.metrics.zk == result.metrics.quantized_on_zk_rows
    assert result.circuit.transitions == 1


def _pool_net(rng: np.random.Generator) -> DenseNet:
    """4 inputs -> 6 ReLU -> max pool of pairs (3) -> 4 linear (requantized) -> max pool (2) -> 3 outputs."""
    return DenseNet(
        (
            DenseLayer(rng.normal(size=(6, 4)), rng.normal(size=6), relu=True),
            MaxPoolLayer(((0, 1), (2, 3), (4, 5))),
            DenseLayer(rng.normal(size=(4, 3)), rng.normal(size=4), relu=False),
            MaxPoolLayer(((0, 1, 2), (1, 3))),
            DenseLayer(rng.normal(size=(3, 2)), rng.normal(size=3), relu=False),
        )
    )


def test_max_pools_and_layers_without_relu_match_the_circuit_over_the_range() -> None:
    rng = np.random.default_rng(5)
    inputs = QuantizedInputs(FixedPoint(5), InputRange(np.full(4, -2.0), np.full(4, 2.0)))
    model = QuantizedDenseModel(_pool_net(rng), inputs, "argmax", np.array([0, 1, 2]), kind="onnx")
    pools = [layer for layer in model.layers_ if isinstance(layer, IntMaxPool)]
    assert len(pools) == 2 and model.layers_[2].requantize and not model.layers_[2].relu
    rows = box_rows(model, 300)
    assert [simulate_circuit(model, r) for r in rows] == list(model.predict_int(rows))
    # The proven bounds hold on every row (a max of the group's values, in its bounds).
    a = rows - model.input_offset_
    for layer in model.layers_[:-1]:
        a = forward((layer,), a, 5)
        assert (a >= layer.a_low).all() and (a <= layer.a_high).all()
    source = generate.render(model, "pool_net", "pool_net", "", "private", "public", batch=2)[0].source
    aleo = compile_source(source).aleo
    assert "layer 2: max pool, 6 -> 3" in source and aleo.count(" shr ") >= 3
