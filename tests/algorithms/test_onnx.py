"""Networks from ONNX: every supported operator on graphs built with `onnx.helper` (no torch
or TensorFlow needed), checked against onnxruntime, quantized, simulated and compiled; the
shipped PyTorch exports; clear errors for what is not supported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from test_linear import simulate_circuit

from workbench import stages
from workbench.algorithms.forms import DenseHead, IntMaxPool
from workbench.algorithms.onnx_net import OnnxEstimator, OnnxImportError, lower_onnx
from workbench.leo.compiler import compile_source
from workbench.quantize import Calibration, QuantizationSpec
from workbench.stages.records import PlanRequest, ProgramSpec

MODELS = Path(__file__).resolve().parents[2] / "experiments" / "models"
RNG = np.random.default_rng(11)


def _init(name: str, value: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value, dtype=np.float32) if np.asarray(value).dtype.kind == "f"
                                   else np.asarray(value), name)


def _model(nodes: list, inits: list, in_shape: list, out_shape: list, batch: object = "n") -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, *in_shape])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, *out_shape])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


def _w(*shape: int) -> np.ndarray:
    return RNG.normal(size=shape).astype(np.float32)


def _fit(model: onnx.ModelProto, n_features: int, task: str = "auto") -> tuple[OnnxEstimator, np.ndarray]:
    X = RNG.normal(size=(300, n_features))
    # fit imports the graph and checks it against onnxruntime on the first rows.
    return OnnxEstimator(model=model, task=task).fit(X), X


def _quantized_and_compiled(est: OnnxEstimator, X: np.ndarray):  # type: ignore[no-untyped-def]
    model = lower_onnx(est, Calibration(X), QuantizationSpec())
    # The template's arithmetic, step by step, equals the integer reference.
    rows = model.quantize_inputs(X[:40])
    assert [simulate_circuit(model, r) for r in rows] == list(model.predict_int(rows))
    plan = stages.plan(model, PlanRequest(ProgramSpec("onnx_test"), rows=2))
    (program,) = stages.generate_leo(model, plan).programs
    assert compile_source(program.source).aleo.startswith("program onnx_test.aleo;")
    return model


def test_gemm_relu_gemm_softmax_like_pytorch_linear_layers() -> None:
    m = _model(
        [
            helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], transB=1),
            helper.make_node("Relu", ["h"], ["r"]),
            helper.make_node("Gemm", ["r", "w2", "b2"], ["z"], transB=1, alpha=0.5, beta=2.0),
            helper.make_node("Softmax", ["z"], ["y"], axis=1),
        ],
        [_init("w1", _w(6, 4)), _init("b1", _w(6)), _init("w2", _w(3, 6)), _init("b2", _w(3))],
        [4], [3],
    )
    est, X = _fit(m, 4)
    assert est.network_.head == DenseHead.ARGMAX and est.network_.final == "Softmax"
    model = _quantized_and_compiled(est, X)
    assert np.mean(model.predict(X) == est.predict(X)) > 0.97


def test_matmul_add_like_keras_dense_layers_and_constant_preprocessing() -> None:
    mean, std = _w(5), np.abs(_w(5)) + 0.5
    m = _model(
        [
            helper.make_node("Sub", ["x", "mean"], ["c"]),
            helper.make_node("Div", ["c", "std"], ["s"]),
            helper.make_node("Identity", ["s"], ["i"]),
            helper.make_node("MatMul", ["i", "w1"], ["m1"]),
            helper.make_node("Add", ["m1", "b1"], ["h"]),
            helper.make_node("Relu", ["h"], ["r"]),
            helper.make_node("Dropout", ["r"], ["d"]),
            helper.make_node("MatMul", ["d", "w2"], ["m2"]),
            helper.make_node("Add", ["b2", "m2"], ["y"]),
        ],
        [_init("mean", mean), _init("std", std), _init("w1", _w(5, 7)), _init("b1", _w(7)),
         _init("w2", _w(7, 4)), _init("b2", _w(4))],
        [5], [4],
    )
    est, X = _fit(m, 5)
    assert len(est.network_.net.layers) == 2  # the constant arithmetic folded into the first layer
    _quantized_and_compiled(est, X)


def test_conv_batchnorm_relu_maxpool_flatten_gemm_like_a_pytorch_cnn() -> None:
    m = _model(
        [
            helper.make_node("Conv", ["x", "k", "kb"], ["c"], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1]),
            helper.make_node("BatchNormalization", ["c", "sc", "sh", "mu", "var"], ["bn"], epsilon=1e-5),
            helper.make_node("Relu", ["bn"], ["r"]),
            helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
            helper.make_node("Flatten", ["p"], ["f"], axis=1),
            helper.make_node("Gemm", ["f", "w", "b"], ["y"], transB=1),
        ],
        [_init("k", _w(2, 1, 3, 3)), _init("kb", _w(2)), _init("sc", _w(2)), _init("sh", _w(2)), _init("mu", _w(2)),
         _init("var", np.abs(_w(2)) + 0.1), _init("w", _w(3, 2 * 2 * 2)), _init("b", _w(3))],
        [1, 4, 4], [3],
    )
    est, X = _fit(m, 16)
    kinds = [type(layer).__name__ for layer in est.network_.net.layers]
    assert kinds == ["DenseLayer", "MaxPoolLayer", "DenseLayer"]  # BatchNormalization folded into the conv
    model = _quantized_and_compiled(est, X)
    assert any(isinstance(layer, IntMaxPool) for layer in model.layers_)


def test_tf2onnx_nhwc_transposes_same_padding_and_reshape() -> None:
    # Keras: input NHWC, transposed to NCHW for Conv, back to NHWC before Flatten/Reshape.
    m = _model(
        [
            helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
            helper.make_node("Conv", ["t", "k"], ["c"], kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER"),
            helper.make_node("Relu", ["c"], ["r"]),
            helper.make_node("Transpose", ["r"], ["t2"], perm=[0, 2, 3, 1]),
            helper.make_node("Reshape", ["t2", "shape"], ["f"]),
            helper.make_node("MatMul", ["f", "w"], ["m"]),
            helper.make_node("Add", ["m", "b"], ["z"]),
            helper.make_node("Softmax", ["z"], ["y"]),
        ],
        [_init("k", _w(2, 1, 3, 3)), _init("shape", np.array([-1, 18], dtype=np.int64)), _init("w", _w(18, 4)),
         _init("b", _w(4))],
        [6, 6, 1], [4],
    )
    est, X = _fit(m, 36)
    _quantized_and_compiled(est, X)


def test_average_pools_and_a_sigmoid_binary_classifier() -> None:
    m = _model(
        [
            helper.make_node("Conv", ["x", "k"], ["c"], kernel_shape=[2, 2]),
            helper.make_node("Relu", ["c"], ["r"]),
            helper.make_node("AveragePool", ["r"], ["a"], kernel_shape=[2, 2], strides=[1, 1], pads=[1, 1, 0, 0]),
            helper.make_node("GlobalAveragePool", ["a"], ["g"]),
            helper.make_node("Flatten", ["g"], ["f"]),
            helper.make_node("Gemm", ["f", "w", "b"], ["z"], transB=1),
            helper.make_node("Sigmoid", ["z"], ["y"]),
        ],
        [_init("k", _w(3, 1, 2, 2)), _init("w", _w(1, 3)), _init("b", np.array([0.1], dtype=np.float32))],
        [1, 5, 5], [1],
    )
    est, X = _fit(m, 25)
    assert est.network_.head == DenseHead.SIGN and est.network_.final == "Sigmoid"
    assert set(est.predict(X)) <= {0, 1}
    _quantized_and_compiled(est, X)


def test_a_flatten_computed_from_the_shape_and_a_fixed_batch_of_one() -> None:
    # torch's `x.view(x.size(0), -1)`: Shape -> Gather -> Unsqueeze -> Concat -> Reshape.
    m = _model(
        [
            helper.make_node("Shape", ["x"], ["s"]),
            helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
            helper.make_node("Unsqueeze", ["n", "axes"], ["n1"]),
            helper.make_node("Concat", ["n1", "minus_one"], ["shape"], axis=0),
            helper.make_node("Reshape", ["x", "shape"], ["f"]),
            helper.make_node("Gemm", ["f", "w", "b"], ["y"], transB=1),
        ],
        [_init("zero", np.array(0, dtype=np.int64)), _init("axes", np.array([0], dtype=np.int64)),
         _init("minus_one", np.array([-1], dtype=np.int64)), _init("w", _w(2, 12)), _init("b", _w(2))],
        [3, 2, 2], [2], batch=1,
    )
    est, X = _fit(m, 12)
    assert est.network_.batch_fixed  # onnxruntime is run row by row
    _quantized_and_compiled(est, X)


def test_a_max_pool_before_its_relu_is_reordered_and_a_regression_head() -> None:
    m = _model(
        [
            helper.make_node("Conv", ["x", "k"], ["c"], kernel_shape=[2, 2]),
            helper.make_node("MaxPool", ["c"], ["p"], kernel_shape=[2, 2], strides=[1, 1]),
            helper.make_node("Relu", ["p"], ["r"]),
            helper.make_node("MaxPool", ["r"], ["p2"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
            helper.make_node("Flatten", ["p2"], ["f"]),
            helper.make_node("Gemm", ["f", "w", "b"], ["y"], transB=1),
        ],
        [_init("k", _w(2, 1, 2, 2)), _init("w", _w(1, 2 * 2 * 2)), _init("b", _w(1))],
        [1, 5, 5], [1],
    )
    est, X = _fit(m, 25)
    assert est.network_.head == DenseHead.REGRESSION
    layers = est.network_.net.layers
    assert [type(layer).__name__ for layer in layers] == ["DenseLayer", "MaxPoolLayer", "MaxPoolLayer", "DenseLayer"]
    assert layers[0].relu  # the ReLU after the first pool was applied before it
    _quantized_and_compiled(est, X)


def test_a_max_pool_without_relu_requantizes_its_inputs() -> None:
    m = _model(
        [
            helper.make_node("Conv", ["x", "k", "kb"], ["c"], kernel_shape=[2, 2]),
            helper.make_node("MaxPool", ["c"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
            helper.make_node("Flatten", ["p"], ["f"]),
            helper.make_node("Gemm", ["f", "w"], ["y"], transB=1),
        ],
        [_init("k", _w(2, 1, 2, 2)), _init("kb", _w(2)), _init("w", _w(3, 2 * 2 * 2))],
        [1, 5, 5], [3],
    )
    est, X = _fit(m, 25)
    model = _quantized_and_compiled(est, X)
    assert model.layers_[0].requantize and not model.layers_[0].relu


def _error(nodes: list, inits: list, in_shape: list, out_shape: list) -> str:
    with pytest.raises(OnnxImportError) as info:
        _fit(_model(nodes, inits, in_shape, out_shape), int(np.prod(in_shape)))
    return str(info.value)


def test_an_unsupported_operator_names_itself_its_node_and_the_supported_list() -> None:
    message = _error(
        [helper.make_node("Gemm", ["x", "w"], ["h"], transB=1), helper.make_node("Tanh", ["h"], ["y"], name="act1")],
        [_init("w", _w(3, 4))], [4], [3],
    )
    assert "unsupported ONNX operator Tanh at node 'act1' (Tanh)" in message
    assert "supported operators: " in message and "Conv" in message and "MaxPool" in message


def test_a_softmax_in_the_middle_and_other_shapes_are_refused() -> None:
    message = _error(
        [helper.make_node("Softmax", ["x"], ["s"]), helper.make_node("Gemm", ["s", "w"], ["y"], transB=1)],
        [_init("w", _w(3, 4))], [4], [3],
    )
    assert "only as the last operator" in message
    message = _error(
        [helper.make_node("Conv", ["x", "k"], ["c"], kernel_shape=[2, 2], dilations=[2, 2]),
         helper.make_node("Flatten", ["c"], ["y"])],
        [_init("k", _w(1, 1, 2, 2))], [1, 4, 4], [4],
    )
    assert "dilations other than 1" in message
    # The weight as the first operand of Gemm (the activation second) is not a layer it reads.
    message = _error([helper.make_node("Gemm", ["w", "x"], ["y"], transB=1)], [_init("w", _w(4, 4))], [4], [4])
    assert "the activation must be its first input, not input 1" in message
    # Two operators reading the input: not a chain.
    message = _error(
        [helper.make_node("Relu", ["x"], ["a"]), helper.make_node("Add", ["x", "a"], ["y"])], [], [4], [4],
    )
    assert "reads" in message and "chains" in message


def test_the_estimator_checks_the_width_of_the_rows() -> None:
    m = _model([helper.make_node("Gemm", ["x", "w"], ["y"], transB=1)], [_init("w", _w(2, 4))], [4], [2])
    with pytest.raises(OnnxImportError, match=r"has shape \(4,\) \(4 values per row\); the data has 5"):
        OnnxEstimator(model=m).fit(RNG.normal(size=(10, 5)))


@pytest.mark.parametrize("name", ["digits_mlp", "digits_cnn"])
def test_the_shipped_pytorch_exports_import_and_match_onnxruntime(name: str) -> None:
    from workbench.data import load_dataset
    from workbench.kinds import Task
    from workbench.experiment import DatasetSpec

    data = load_dataset(DatasetSpec(name="digits", test_size=0.2, scaling="minmax"), 7, Task.CLASSIFICATION)
    est = OnnxEstimator(MODELS / f"{name}.onnx", task="classification").fit(data.X_train, data.y_train)
    float_acc = np.mean(est.predict(data.X_test) == data.y_test)
    assert float_acc > (0.95 if name == "digits_mlp" else 0.85)
    # The float network the importer built is onnxruntime's, on every test row.
    np.testing.assert_allclose(est.network_.net.forward(data.X_test), est.outputs(data.X_test), rtol=1e-4, atol=1e-4)
