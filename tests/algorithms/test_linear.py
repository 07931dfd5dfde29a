"""Linear models (LinearRegression, Ridge, LogisticRegression): integer reference, bounds,
auto bits, generated Leo; and, marked slow, end-to-end runs in snarkVM."""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from support import TrainedRun, train_shipped

from workbench.algorithms import catalogue
from workbench.algorithms.linear import (
    DenseLayer,
    DenseNet,
    QuantizedDenseModel,
    forward,
    head_output,
    quantize_net,
)
from workbench.errors import UserError
from workbench.experiment import Experiment, load_experiment
from workbench.leo import generate
from workbench.leo.compiler import compile_source
from workbench.leo.contexts import dense_context
from workbench.quantize import Calibration, FixedPoint, InputRange, QuantizedInputs
from workbench.stages import metrics_for

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
LINEAR_EXPERIMENTS = ("diabetes_linear_regression", "diabetes_ridge", "breast_cancer_logistic", "wine_logistic")


@functools.lru_cache(maxsize=None)
def trained(name: str, **quantization: object) -> tuple[Experiment, TrainedRun]:
    """A shipped experiment trained and quantized (no snarkVM); cached, do not mutate."""
    t = train_shipped(name, **quantization)
    return t.exp, t


def simulate_circuit(model: QuantizedDenseModel, xu: np.ndarray) -> int:
    """The template's operations on one row, with Python ints and snarkVM's cast checks.

    Mirrors `workbench/leo_templates/linear.leo.j2` step by step (independently of `forward`): the
    field arithmetic, each `field as uN` cast (which halts unless 0 <= v < 2^N), the top
    bit test and shifts of the offset form, the max pools' comparisons, and the output head.
    """
    ctx = dense_context(model.form)
    f = model.inputs_.fixed.fractional_bits

    def cast(v: int, bits: int, signed: bool = False) -> int:
        low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
        assert 0 <= v and low <= v <= high, f"cast of {v} into {'i' if signed else 'u'}{bits} would halt"
        return v

    assert all(0 <= int(v) < 2**model.feature_type_.bits for v in xu)
    a = [int(v) - ctx["input_offset"] for v in xu]
    for layer in ctx["layers"]:
        if layer["kind"] == "maxpool":
            out = []
            for o in layer["outputs"]:
                m = a[o["inputs"][0]]
                diff_bits = int(o["diff_type"].removeprefix("u"))
                for j in o["inputs"][1:]:
                    d = cast(a[j] - m + o["room"], diff_bits)
                    m = m + (d >> o["bits"]) * (a[j] - m)
                out.append(m)
            a = out
            continue
        z = [sum(w * a[j] for w, j in n["terms"]) + n["bias"] for n in layer["neurons"]]
        if not layer["relu"] and not layer["requantize"]:
            a = z
            continue
        out = []
        for n, zi in zip(layer["neurons"], z):
            if n["dead"]:
                assert zi < 0
                out.append(0)
                continue
            u = cast(zi + n["half"], n["bits"])
            if layer["requantize"]:
                out.append((u >> f) - n["post"])
            else:
                out.append((u >> f) - n["post"] if (u >> (n["bits"] - 1)) == 1 else 0)
        a = out
    if ctx["head"] == "regression":
        t = model.output_type_
        assert t.holds(0, ctx["output_offset"]), "the offset literal must fit the output type"
        return cast(a[0] + ctx["output_offset"], t.bits, signed=True) - ctx["output_offset"]
    s = [cast(v + ctx["head_half"], ctx["head_bits"]) for v in a]
    if ctx["head"] == "sign":
        return 1 if s[0] > ctx["head_half"] else 0
    best, arg = s[0], 0
    for k in range(1, len(s)):
        if s[k] > best:
            best, arg = s[k], k
    return arg


def box_rows(model: QuantizedDenseModel, n_random: int, seed: int = 0) -> np.ndarray:
    """Circuit inputs at the corners-ish of the declared range plus random rows inside it."""
    lo, hi = model.inputs_.int_low, model.inputs_.int_high
    rng = np.random.default_rng(seed)
    corners = np.where(rng.integers(0, 2, size=(32, len(lo))) == 1, hi, lo)
    inside = rng.integers(lo, hi + 1, size=(n_random, len(lo)))
    return np.vstack([lo, hi, corners, inside]) + model.input_offset_


# -- the integer reference ------------------------------------------------------------------


def test_forward_floors_negative_values_and_zeroes_them_with_relu() -> None:
    hidden = DenseLayer(np.array([[1.0], [-1.0]]), np.array([0.0, 0.0]), relu=True)
    out = DenseLayer(np.array([[1.0, 1.0]]), np.array([0.0]), relu=False)
    layers = quantize_net(DenseNet((hidden, out)), FixedPoint(2), np.array([-20]), np.array([20]))
    # f = 2: weights 1.0 -> 4; hidden z = 4x, relu then >> 2 gives x for x >= 0; output 4 * that.
    a = np.array([[-3], [0], [5], [7]])
    np.testing.assert_array_equal(forward(layers, a, 2)[:, 0], 4 * np.abs(a[:, 0]))
    # A non-multiple of 2^f is floored: z = 4 * 3 + 3 (bias 3/16 at 2f = 4 bits) -> 15 >> 2 = 3.
    h = DenseLayer(np.array([[1.0]]), np.array([3 / 16]), relu=True)
    net = DenseNet((h, DenseLayer(np.array([[1.0]]), np.array([0.0]), False)))
    layers = quantize_net(net, FixedPoint(2), np.array([-8]), np.array([8]))
    assert forward(layers, np.array([[3]]), 2)[0, 0] == 4 * 3


def test_heads_follow_scikit_learn_and_numpy_conventions() -> None:
    z = np.array([[0], [1], [-1]])
    np.testing.assert_array_equal(head_output("sign", z), [0, 1, 0])  # 0 is not > 0
    ties = np.array([[5, 5, 1], [1, 7, 7], [-2, -2, -2]])
    np.testing.assert_array_equal(head_output("argmax", ties), [0, 1, 0])


def test_interval_bounds_are_exact_for_one_layer_and_sound_for_random_rows() -> None:
    rng = np.random.default_rng(3)
    w = rng.normal(size=(3, 5))
    layers = quantize_net(DenseNet.linear(w, rng.normal(size=3)), FixedPoint(6), np.full(5, -200), np.full(5, 300))
    layer = layers[0]
    # The box corner chosen by each weight's sign reaches the bound exactly.
    for i in range(3):
        corner_hi = np.where(layer.weight[i] >= 0, 300, -200)
        corner_lo = np.where(layer.weight[i] >= 0, -200, 300)
        assert layer.weight[i] @ corner_hi + layer.bias[i] == layer.z_high[i]
        assert layer.weight[i] @ corner_lo + layer.bias[i] == layer.z_low[i]
    rows = rng.integers(-200, 301, size=(500, 5))
    z = forward(layers, rows, 6)
    assert np.all(z >= layer.z_low) and np.all(z <= layer.z_high)


@pytest.mark.parametrize("name", LINEAR_EXPERIMENTS)
def test_reference_equals_the_circuit_over_the_declared_range(name: str) -> None:
    """Every cast in the circuit fits for inputs anywhere in the range, and the outputs agree."""
    _, t = trained(name)
    rows = box_rows(t.model, 200)
    expected = t.model.predict_int(rows)
    assert [simulate_circuit(t.model, r) for r in rows] == list(expected)
    assert np.array_equal(t.model.predict_int(t.Xq_test), [simulate_circuit(t.model, r) for r in t.Xq_test])


def test_regression_output_type_holds_the_proven_range() -> None:
    _, t = trained("diabetes_linear_regression")
    m = t.model
    t_out = m.output_type_
    lo, hi = int(m.layers_[-1].z_low[0]), int(m.layers_[-1].z_high[0])
    assert t_out.signed and t_out.holds(lo, hi + m.output_offset_)
    assert m.output_offset_ == -lo


def test_regression_with_only_negative_outputs_fits_its_type() -> None:
    net = DenseNet.linear(np.array([1.0, -2.0]), -100.0)
    rng = InputRange(np.array([-2.0, -2.0]), np.array([2.0, 2.0]))
    m = QuantizedDenseModel(net, QuantizedInputs(FixedPoint(4), rng), "regression")
    assert m.layers_[0].z_high[0] < 0
    assert m.output_type_.holds(0, m.output_offset_)  # the literal OFF in `... - OFF`
    rows = box_rows(m, 50)
    assert [simulate_circuit(m, r) for r in rows] == list(m.predict_int(rows))
    compile_source(generate.render(m, "neg_out", "neg_out", "", "private", "public")[0].source)


def test_auto_bits_regression_meets_the_tolerance_and_one_bit_less_does_not() -> None:
    from workbench.algorithms.linear import REGRESSION_TOLERANCE

    exp, t = trained("diabetes_linear_regression")
    f = t.model.inputs_.fixed.fractional_bits
    target = REGRESSION_TOLERANCE * np.std(t.data.y_train)
    float_train = t.estimator.predict(t.data.X_train)

    def rms(model: QuantizedDenseModel) -> float:
        return float(np.sqrt(np.mean((model.predict(t.data.X_train) - float_train) ** 2)))

    assert rms(t.model) <= target
    _, fewer = trained("diabetes_linear_regression", fractional_bits=f - 1)
    assert rms(fewer.model) > target


def test_auto_bits_classifier_reproduces_the_float_model_on_training_rows() -> None:
    for name in ("wine_logistic", "breast_cancer_logistic"):
        _, t = trained(name)
        assert np.mean(t.model.predict(t.data.X_train) == t.estimator.predict(t.data.X_train)) == 1.0


def test_requested_bits_are_used() -> None:
    _, t = trained("wine_logistic", fractional_bits=7)
    assert t.model.inputs_.fixed.fractional_bits == 7 and t.model.describe()["fractional_bits"] == 7


@pytest.mark.parametrize("name", LINEAR_EXPERIMENTS)
def test_quantization_loss_is_small(name: str) -> None:
    exp, t = trained(name)
    task = catalogue.get(exp.model.algorithm).task
    fl = metrics_for(task, t.data.y_test, t.y_float)
    qu = metrics_for(task, t.data.y_test, t.model.labels(t.int_ref))
    if task == "regression":
        assert abs(fl["r2"] - qu["r2"]) < 0.01 and fl["r2"] > 0.3
    else:
        assert qu["accuracy"] >= fl["accuracy"] - 0.03 and fl["accuracy"] > 0.9


def test_binary_logistic_uses_the_sign_head_and_multiclass_the_argmax() -> None:
    _, b = trained("breast_cancer_logistic")
    _, m = trained("wine_logistic")
    assert b.model.head_ == "sign" and b.model.net_.n_outputs == 1
    assert m.model.head_ == "argmax" and m.model.net_.n_outputs == 3
    assert b.model.output_type_.name == m.model.output_type_.name == "u8"


def test_too_many_bits_for_a_wide_range_is_a_user_error() -> None:
    net = DenseNet.linear(np.array([1000.0, -1000.0]), 0.0)
    rng = InputRange(np.array([-1e6, -1e6]), np.array([1e6, 1e6]))
    with pytest.raises(UserError, match="2\\^62"):
        QuantizedDenseModel(net, QuantizedInputs(FixedPoint(24), rng), "regression")


def test_multi_target_regression_is_rejected() -> None:
    from sklearn.linear_model import LinearRegression

    from workbench.algorithms.linear import lower_linear_regression

    exp, t = trained("diabetes_linear_regression")
    est = LinearRegression().fit(t.data.X_train, np.c_[t.data.y_train, t.data.y_train])
    with pytest.raises(UserError, match="single regression target"):
        lower_linear_regression(est, Calibration(t.data.X_train, t.data.y_train), exp.quantization)


# -- the generated Leo ----------------------------------------------------------------------


@pytest.mark.parametrize("name", LINEAR_EXPERIMENTS)
@pytest.mark.parametrize("batch", [1, 4])
def test_generated_leo_compiles(name: str, batch: int) -> None:
    exp, t = trained(name)
    (program,) = generate.render(t.model, exp.program_name, exp.name, exp.description, "private", "public", batch=batch)
    aleo = compile_source(program.source).aleo
    out = t.model.output_type_.name
    assert f"as {out}.public;" in aleo if batch == 1 else f"as [{out}; 4u32].public;" in aleo
    # Dot products are field arithmetic: multiplications by field constants. The only
    # others are the argmax head's selects, two per comparison of class scores.
    muls = [line for line in aleo.splitlines() if line.strip().startswith("mul ")]
    selects = [line for line in muls if "field" not in line]
    comparisons = max(0, (t.model.form.n_outputs - 1) if str(t.model.form.head) == "argmax" else 0)
    assert muls and len(selects) <= 2 * comparisons * batch


# -- snarkVM (slow) ------------------------------------------------------------------------


@pytest.mark.slow
def test_linear_regression_end_to_end(tmp_path: Path) -> None:
    from workbench.pipeline import run_experiment

    exp = load_experiment(EXPERIMENTS / "diabetes_linear_regression.toml")
    result, _ = run_experiment(exp, tmp_path, samples=2, proofs=1, workers=1)
    assert result.agreement == 1.0
    assert result.metrics.zk == result.metrics.quantized_on_zk_rows
    assert result.proofs[0].verified and result.proofs[0].output.endswith("i32")


@pytest.mark.slow
def test_ridge_batched_end_to_end(tmp_path: Path) -> None:
    """A batch of 4 rows per execution (two executions, the second padded)."""
    from workbench.pipeline import run_experiment

    exp = load_experiment(EXPERIMENTS / "diabetes_ridge.toml")
    exp = replace(exp, zk=replace(exp.zk, batch=4))
    result, _ = run_experiment(exp, tmp_path, samples=7, proofs=0, workers=1)
    assert result.circuit.batch == 4 and result.zk_samples == 7
    assert result.agreement == 1.0
    assert result.metrics.zk == result.metrics.quantized_on_zk_rows


@pytest.mark.slow
def test_wine_logistic_full_run_agrees_on_every_test_row(tmp_path: Path) -> None:
    """The shipped experiment as shipped (every test row), proofs skipped for time."""
    from workbench.pipeline import run_experiment

    result, _ = run_experiment(load_experiment(EXPERIMENTS / "wine_logistic.toml"), tmp_path, proofs=0)
    assert result.zk_samples == result.dataset.n_test == 36
    assert result.agreement == 1.0 and result.disagreements == ()
    assert result.metrics.zk == result.metrics.quantized
    assert result.circuit.transitions == 1
    assert result.circuit.functions[0].constraints < 16_000
