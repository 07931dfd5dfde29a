"""Networks imported from ONNX files (PyTorch's `torch.onnx`, TensorFlow's tf2onnx) as dense networks.

The importer walks a chain-shaped graph and keeps the activation as an affine map of the
last materialized layer's outputs. Every linear operator composes into that map in float
(Gemm, MatMul, Add/Sub/Mul/Div by a constant, 2-D Conv, AveragePool, GlobalAveragePool,
BatchNormalization, and the layout operators Flatten, Reshape, Transpose, Squeeze,
Unsqueeze, Identity, Dropout), so a BatchNormalization is folded into the layer before it
and a tf2onnx NHWC transpose into the layer after it. A Relu or a MaxPool materializes the
map as a layer of the dense network (`workbench/algorithms/linear.py`), whose quantization,
integer reference and circuit serve linear models and MLPs too. Sigmoid, Softmax and
LogSoftmax are accepted as the last operator only: they are monotone, so the argmax (or,
for one sigmoid output, the test `logit > 0`) is the same without them, and the circuit
leaves them out. Shape computations on constants (Shape, Gather, Concat, ...) are evaluated
at import.

onnxruntime runs the file itself as the float model (`OnnxEstimator.predict`), so float,
quantized and ZK columns compare like for like.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from workbench.algorithms.forms import DenseHead
from workbench.algorithms.linear import DenseLayer, DenseNet, MaxPoolLayer, QuantizedDenseModel, lower_dense
from workbench.errors import UserError
from workbench.quantize import Calibration, QuantizationSpec

# Operators on the activation that the importer turns into the network.
LAYER_OPERATORS = (
    "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool",
    "BatchNormalization", "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Identity", "Dropout", "Cast",
)
# Accepted only as the graph's last operator (monotone: the prediction does not change).
FINAL_OPERATORS = ("Softmax", "LogSoftmax", "Sigmoid")
# Evaluated at import when every input is a constant (shape arithmetic).
CONSTANT_OPERATORS = (
    "Constant", "Shape", "Gather", "Concat", "Unsqueeze", "Squeeze", "Cast", "Slice", "Reshape", "Identity",
    "Add", "Sub", "Mul", "Div", "ConstantOfShape",
)
SUPPORTED_OPERATORS = tuple(sorted(set(LAYER_OPERATORS + FINAL_OPERATORS + CONSTANT_OPERATORS)))
TASKS = ("auto", "classification", "regression")
# The import is checked against onnxruntime on this many calibration rows, to this relative
# tolerance (float32 in onnxruntime against float64 here).
CHECK_ROWS = 64
IMPORT_TOLERANCE = 1e-3


class OnnxImportError(UserError):
    """An ONNX graph the workbench cannot turn into a circuit (the message says why and where)."""

    title = "cannot import the ONNX model"


def _node_name(node: Any) -> str:
    return f"node {node.name!r} ({node.op_type})" if node.name else f"a {node.op_type} node"


def _unsupported(node: Any, why: str = "") -> OnnxImportError:
    reason = f": {why}" if why else ""
    return OnnxImportError(
        f"unsupported ONNX operator {node.op_type} at {_node_name(node)}{reason}; supported operators: "
        f"{', '.join(SUPPORTED_OPERATORS)} (Sigmoid, Softmax and LogSoftmax only as the last operator)"
    )


def load_model(source: str | Path | bytes | Any) -> Any:
    """An `onnx.ModelProto` from a path, the file's bytes, or a model already loaded."""
    import onnx

    if isinstance(source, onnx.ModelProto):
        return source
    try:
        if isinstance(source, (bytes, bytearray)):
            return onnx.load_from_string(bytes(source))
        return onnx.load(str(source))
    except FileNotFoundError:
        raise OnnxImportError(f"{source}: no such ONNX file") from None
    except Exception as exc:  # onnx raises DecodeError and others for a file that is not ONNX
        raise OnnxImportError(f"{source}: not a readable ONNX model ({type(exc).__name__}: {exc})") from None


# -- the activation as an affine map --------------------------------------------------------
@dataclass(frozen=True)
class _Affine:
    """The current activation: weight @ stage + bias, shaped `shape` (no batch axis).

    `stage` is the flat output of the last materialized layer (the network's input at first);
    `nonneg` says whether the stage is known to be >= 0 (after a ReLU).
    """

    shape: tuple[int, ...]
    weight: np.ndarray  # (size, n_stage)
    bias: np.ndarray  # (size,)
    nonneg: bool = False
    is_identity: bool = False  # nothing composed since the stage (reshapes aside)

    @classmethod
    def identity(cls, shape: tuple[int, ...], nonneg: bool = False) -> "_Affine":
        n = int(np.prod(shape))
        return cls(shape, np.eye(n), np.zeros(n), nonneg, is_identity=True)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def then(self, matrix: np.ndarray, offset: np.ndarray, shape: tuple[int, ...]) -> "_Affine":
        """Compose with y = matrix @ x + offset (a map on the flat activation)."""
        return _Affine(shape, matrix @ self.weight, matrix @ self.bias + offset)

    def reshaped(self, shape: tuple[int, ...]) -> "_Affine":
        if int(np.prod(shape)) != self.size:
            raise ValueError(f"cannot reshape {self.shape} to {shape}")
        return _Affine(tuple(shape), self.weight, self.bias, self.nonneg, self.is_identity)

    def permuted(self, order: np.ndarray, shape: tuple[int, ...]) -> "_Affine":
        return _Affine(tuple(shape), self.weight[order], self.bias[order], self.nonneg)

    def scaled(self, factor: np.ndarray, offset: np.ndarray) -> "_Affine":
        """Elementwise y = factor * x + offset, both broadcast to the activation's shape."""
        f = np.broadcast_to(factor, self.shape).reshape(-1)
        o = np.broadcast_to(offset, self.shape).reshape(-1)
        return _Affine(self.shape, self.weight * f[:, None], self.bias * f + o)


def _attrs(node: Any) -> dict[str, Any]:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _as_str(v: Any) -> Any:
    return v.decode() if isinstance(v, bytes) else v


def _broadcastable(value: np.ndarray, shape: tuple[int, ...], node: Any) -> np.ndarray:
    """A constant operand of an elementwise operator, without the batch axis."""
    v = np.asarray(value, dtype=np.float64)
    while v.ndim > len(shape):  # leading axes of size 1 (the batch)
        if v.shape[0] != 1:
            raise _unsupported(node, f"a constant of shape {v.shape} does not broadcast over one row")
        v = v[0]
    try:
        np.broadcast_to(v, shape)
    except ValueError:
        raise _unsupported(node, f"a constant of shape {v.shape} does not broadcast to {shape}") from None
    return v


def _spatial(node: Any, shape: tuple[int, ...], kernel: tuple[int, int]) -> tuple[int, int, int, int, int, int, int, int]:
    """Strides, pads (top, left, bottom, right) and output size of a 2-D window operator."""
    a = _attrs(node)
    if len(shape) != 3:
        raise _unsupported(node, f"expects a (channels, height, width) input, found shape {shape}")
    if any(d != 1 for d in a.get("dilations", [1, 1])):
        raise _unsupported(node, "dilations other than 1")
    _, h, w = shape
    sh, sw = a.get("strides", [1, 1])
    kh, kw = kernel
    auto = _as_str(a.get("auto_pad", "NOTSET"))
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        oh, ow = math.ceil(h / sh), math.ceil(w / sw)
        ph, pw = max((oh - 1) * sh + kh - h, 0), max((ow - 1) * sw + kw - w, 0)
        small_h, small_w = ph // 2, pw // 2
        top, left = (small_h, small_w) if auto == "SAME_UPPER" else (ph - small_h, pw - small_w)
        bottom, right = ph - top, pw - left
    else:
        top, left, bottom, right = a.get("pads", [0, 0, 0, 0]) if auto == "NOTSET" else (0, 0, 0, 0)
    round_up = bool(a.get("ceil_mode", 0))
    size = (math.ceil if round_up else math.floor)
    oh = int(size((h + top + bottom - kh) / sh)) + 1
    ow = int(size((w + left + right - kw) / sw)) + 1
    if oh < 1 or ow < 1:
        raise _unsupported(node, f"a {kh}x{kw} window does not fit a {h}x{w} input")
    return sh, sw, top, left, oh, ow, h, w


def _windows(node: Any, shape: tuple[int, ...], kernel: tuple[int, int]) -> tuple[list[list[int]], tuple[int, int, int], int]:
    """For each output position (channel-major), the flat input indices inside its window
    (padding left out), the output shape, and the window's full size."""
    sh, sw, top, left, oh, ow, h, w = _spatial(node, shape, kernel)
    c = shape[0]
    kh, kw = kernel
    out: list[list[int]] = []
    for ch in range(c):
        for y in range(oh):
            for x in range(ow):
                idx = [
                    ch * h * w + iy * w + ix
                    for iy in range(y * sh - top, y * sh - top + kh)
                    for ix in range(x * sw - left, x * sw - left + kw)
                    if 0 <= iy < h and 0 <= ix < w
                ]
                out.append(idx)
    return out, (c, oh, ow), kh * kw


def _conv(node: Any, shape: tuple[int, ...], weight: np.ndarray, bias: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """The matrix of a 2-D convolution on a flat (C, H, W) activation."""
    a = _attrs(node)
    if weight.ndim != 4:
        raise _unsupported(node, "only 2-D convolutions")
    m, c_per_group, kh, kw = weight.shape
    group = int(a.get("group", 1))
    sh, sw, top, left, oh, ow, h, w = _spatial(node, shape, (kh, kw))
    c = shape[0]
    if c != c_per_group * group or m % group:
        raise _unsupported(node, f"{c} input channels do not match weights {weight.shape} in {group} group(s)")
    matrix = np.zeros((m * oh * ow, c * h * w))
    per_group = m // group
    for o in range(m):
        g = o // per_group
        for y in range(oh):
            for x in range(ow):
                row = (o * oh + y) * ow + x
                for ci in range(c_per_group):
                    ch = g * c_per_group + ci
                    for dy in range(kh):
                        iy = y * sh - top + dy
                        if not 0 <= iy < h:
                            continue
                        for dx in range(kw):
                            ix = x * sw - left + dx
                            if 0 <= ix < w:
                                matrix[row, (ch * h + iy) * w + ix] += weight[o, ci, dy, dx]
    offset = np.repeat(np.zeros(m) if bias is None else bias.astype(np.float64), oh * ow)
    return matrix, offset, (m, oh, ow)


def _reshape_target(node: Any, shape: tuple[int, ...], target: np.ndarray, allowzero: bool) -> tuple[int, ...]:
    full = (1, *shape)
    dims = [int(d) for d in target]
    out = [full[i] if d == 0 and not allowzero and i < len(full) else d for i, d in enumerate(dims)]
    if out.count(-1) > 1:
        raise _unsupported(node, f"reshape to {dims}")
    if -1 in out:
        known = int(np.prod([d for d in out if d != -1]))
        out[out.index(-1)] = int(np.prod(full)) // max(known, 1)
    if int(np.prod(out)) != int(np.prod(full)) or out[0] != 1:
        raise _unsupported(node, f"reshape of {shape} (one row) to {dims} changes the batch axis")
    return tuple(out[1:])


# -- constants ------------------------------------------------------------------------------
def _eval_constant(node: Any, values: list[np.ndarray]) -> np.ndarray:
    """A node whose every input is a constant (shape arithmetic), evaluated with numpy."""
    import onnx

    a = _attrs(node)
    op = node.op_type
    if op == "Constant":
        if "value" in a:
            return onnx.numpy_helper.to_array(a["value"])
        for key in ("value_float", "value_int"):
            if key in a:
                return np.asarray(a[key])
        for key in ("value_floats", "value_ints"):
            if key in a:
                return np.asarray(a[key])
        raise _unsupported(node, "a Constant without a tensor value")
    if op == "Identity":
        return values[0]
    if op == "Cast":
        return values[0].astype(onnx.helper.tensor_dtype_to_np_dtype(a["to"]))
    if op == "Gather":
        return np.take(values[0], values[1].astype(np.int64), axis=int(a.get("axis", 0)))
    if op == "Concat":
        return np.concatenate([np.atleast_1d(v) for v in values], axis=int(a.get("axis", 0)))
    if op in ("Unsqueeze", "Squeeze"):
        axes = values[1] if len(values) > 1 else a.get("axes")
        v = values[0]
        if op == "Squeeze":
            return np.squeeze(v) if axes is None else np.squeeze(v, axis=tuple(int(x) for x in np.atleast_1d(axes)))
        for ax in sorted(int(x) % (v.ndim + len(np.atleast_1d(axes))) for x in np.atleast_1d(axes)):
            v = np.expand_dims(v, ax)
        return v
    if op == "Slice":
        starts, ends = values[1], values[2]
        axes = values[3] if len(values) > 3 else np.arange(len(starts))
        steps = values[4] if len(values) > 4 else np.ones(len(starts), dtype=np.int64)
        index = [slice(None)] * values[0].ndim
        for s, e, ax, st in zip(starts, ends, axes, steps):
            index[int(ax)] = slice(int(s), int(e), int(st))
        return values[0][tuple(index)]
    if op == "Reshape":
        return values[0].reshape([int(d) for d in values[1]])
    if op == "ConstantOfShape":
        fill = onnx.numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1)
        return np.full([int(d) for d in values[0]], fill.reshape(-1)[0], dtype=fill.dtype)
    arithmetic: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
        "Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide,
    }
    if op in arithmetic:
        return arithmetic[op](values[0], values[1])
    raise _unsupported(node, "on constants")


# -- the importer -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportedNetwork:
    """A network read from ONNX: the float dense network and how it predicts."""

    net: DenseNet
    head: DenseHead
    input_name: str
    input_shape: tuple[int, ...]  # one row, without the batch axis
    batch_fixed: bool  # the file's batch axis is 1 (rows are run one at a time)
    n_outputs: int
    final: str | None  # the monotone last operator left out of the circuit, if any


def _value_shape(value_info: Any) -> tuple[list[Any], bool]:
    dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in value_info.type.tensor_type.shape.dim]
    return dims, bool(dims) and dims[0] == 1


def import_network(model: Any, task: str = "auto") -> ImportedNetwork:
    """Turn an ONNX model into a dense network (see the module docstring); raises
    OnnxImportError naming the operator and node it cannot take."""
    import onnx

    if task not in TASKS:
        raise OnnxImportError(f"task must be one of {', '.join(TASKS)}, not {task!r}")
    graph = model.graph
    consts: dict[str, np.ndarray] = {i.name: onnx.numpy_helper.to_array(i) for i in graph.initializer}
    inputs = [i for i in graph.input if i.name not in consts]
    if len(inputs) != 1:
        raise OnnxImportError(f"the graph has {len(inputs)} inputs; the workbench proves networks of one input")
    if len(graph.output) != 1:
        raise OnnxImportError(f"the graph has {len(graph.output)} outputs; the workbench proves networks of one output")
    dims, batch_fixed = _value_shape(inputs[0])
    row = dims[1:]
    if not dims or any(not isinstance(d, int) or d < 1 for d in row):
        raise OnnxImportError(f"input {inputs[0].name!r} has shape {dims}; every axis but the batch must be known")
    shape = tuple(int(d) for d in row)
    current = inputs[0].name
    act = _Affine.identity(shape)
    layers: list[DenseLayer | MaxPoolLayer] = []
    final: str | None = None
    skip: set[int] = set()
    nodes = list(graph.node)

    def materialize(relu: bool) -> None:
        nonlocal act
        layers.append(DenseLayer(act.weight, act.bias, relu=relu))
        act = _Affine.identity(act.shape, nonneg=relu)

    for k, node in enumerate(nodes):
        if k in skip:
            current = node.output[0]
            continue
        op = node.op_type
        present = [i for i in node.input if i]
        if all(i in consts for i in present) and op in CONSTANT_OPERATORS:
            consts[node.output[0]] = _eval_constant(node, [consts[i] for i in present])
            continue
        if op == "Shape" and present == [current]:
            consts[node.output[0]] = np.asarray((1, *act.shape), dtype=np.int64)
            continue
        dynamic = [i for i in present if i not in consts]
        if dynamic != [current]:
            raise OnnxImportError(
                f"{_node_name(node)} reads {dynamic or 'only constants'}; the workbench imports chains in which "
                f"each operator reads the previous one's output ({current!r})"
            )
        if final is not None:
            raise _unsupported(nodes[k - 1], "only as the last operator")
        if op not in ("Add", "Sub", "Mul", "Div") and node.input[0] != current:
            raise _unsupported(node, f"the activation must be its first input, not input {list(node.input).index(current)}")
        a = _attrs(node)
        const = [consts[i] for i in present if i in consts]
        if op in ("Identity", "Dropout"):
            pass
        elif op == "Cast":
            if onnx.helper.tensor_dtype_to_np_dtype(a["to"]).kind != "f":
                raise _unsupported(node, "a cast of the activation to a non-float type")
        elif op in FINAL_OPERATORS:
            final = op
        elif op in ("Flatten",):
            if int(a.get("axis", 1)) != 1:
                raise _unsupported(node, "flattening other than from axis 1")
            act = act.reshaped((act.size,))
        elif op == "Reshape":
            act = act.reshaped(_reshape_target(node, act.shape, const[0], bool(a.get("allowzero", 0))))
        elif op in ("Squeeze", "Unsqueeze"):
            axes = const[0] if const else a.get("axes")
            full = (1, *act.shape)
            if op == "Squeeze" and axes is None:  # every axis of size 1 but the batch
                new = (1, *(d for d in act.shape if d != 1))
            else:
                new = _eval_constant(node, [np.empty(full), np.asarray(axes, dtype=np.int64)]).shape
            if len(new) == 0 or new[0] != 1:
                raise _unsupported(node, "removing the batch axis")
            act = act.reshaped(tuple(new[1:]))
        elif op == "Transpose":
            perm = list(a["perm"]) if "perm" in a else list(range(len(act.shape), -1, -1))
            if perm[0] != 0:
                raise _unsupported(node, f"a transpose {perm} that moves the batch axis")
            axes = [p - 1 for p in perm[1:]]
            order = np.arange(act.size).reshape(act.shape).transpose(axes).reshape(-1)
            act = act.permuted(order, tuple(act.shape[p] for p in axes))
        elif op in ("Add", "Sub", "Mul", "Div"):
            c = _broadcastable(const[0], act.shape, node)
            first_is_const = present[0] in consts
            if op == "Add":
                act = act.scaled(np.ones(1), c)
            elif op == "Sub":
                act = act.scaled(-np.ones(1), c) if first_is_const else act.scaled(np.ones(1), -c)
            elif op == "Mul":
                act = act.scaled(c, np.zeros(1))
            else:
                if first_is_const:
                    raise _unsupported(node, "dividing a constant by the activation")
                act = act.scaled(1.0 / c, np.zeros(1))
        elif op in ("Gemm", "MatMul"):
            if len(act.shape) != 1:
                raise _unsupported(node, f"expects one row of features, found shape {act.shape} (flatten first)")
            if op == "MatMul":
                b, alpha, beta, trans_b, bias = const[0], 1.0, 1.0, 0, None
            else:
                if int(a.get("transA", 0)):
                    raise _unsupported(node, "transA = 1")
                b = const[0]
                bias = const[1] if len(const) > 1 else None
                alpha, beta, trans_b = float(a.get("alpha", 1.0)), float(a.get("beta", 1.0)), int(a.get("transB", 0))
            m = np.asarray(b, dtype=np.float64)
            if m.ndim != 2:
                raise _unsupported(node, f"a weight of shape {m.shape}")
            matrix = alpha * (m if trans_b else m.T)
            if matrix.shape[1] != act.size:
                raise _unsupported(node, f"weights {m.shape} do not match {act.size} inputs")
            n_out = matrix.shape[0]
            offset = np.zeros(n_out) if bias is None else beta * np.broadcast_to(
                np.asarray(bias, dtype=np.float64).reshape(-1), (n_out,)
            )
            act = act.then(matrix, offset, (matrix.shape[0],))
        elif op == "Conv":
            matrix, offset, out_shape = _conv(node, act.shape, np.asarray(const[0], dtype=np.float64),
                                              const[1] if len(const) > 1 else None)
            act = act.then(matrix, offset, out_shape)
        elif op == "BatchNormalization":
            if int(a.get("training_mode", 0)):
                raise _unsupported(node, "training mode")
            scale, shift, mean, var = (np.asarray(v, dtype=np.float64) for v in const[:4])
            factor = scale / np.sqrt(var + float(a.get("epsilon", 1e-5)))
            extra = (1,) * (len(act.shape) - 1)
            act = act.scaled(factor.reshape(-1, *extra), (shift - mean * factor).reshape(-1, *extra))
        elif op in ("AveragePool", "GlobalAveragePool"):
            if op == "GlobalAveragePool":
                kernel = act.shape[1:]
                windows, out_shape, full = _windows(node, act.shape, (kernel[0], kernel[1]))
            else:
                windows, out_shape, full = _windows(node, act.shape, tuple(a["kernel_shape"]))
            include_pad = bool(a.get("count_include_pad", 0))
            matrix = np.zeros((len(windows), act.size))
            for r, idx in enumerate(windows):
                matrix[r, idx] = 1.0 / (full if include_pad else len(idx))
            act = act.then(matrix, np.zeros(len(windows)), out_shape)
        elif op == "MaxPool":
            if len(node.output) > 1 and node.output[1]:
                raise _unsupported(node, "the indices output")
            windows, out_shape, _ = _windows(node, act.shape, tuple(a["kernel_shape"]))
            # A ReLU right after the pool commutes with it: apply it first, in the layer
            # that is materialized anyway, and skip it.
            nxt = k + 1
            relu_next = nxt < len(nodes) and nodes[nxt].op_type == "Relu" and nodes[nxt].input[0] == node.output[0]
            if not act.is_identity or relu_next and not act.nonneg:
                materialize(relu=relu_next or act.nonneg)
            if relu_next:
                skip.add(nxt)
            nonneg = act.nonneg
            layers.append(MaxPoolLayer(tuple(tuple(idx) for idx in windows)))
            act = _Affine.identity(out_shape, nonneg=nonneg)
        elif op == "Relu":
            if not (act.is_identity and act.nonneg):  # a ReLU of non-negative values changes nothing
                materialize(relu=True)
        else:
            raise _unsupported(node)
        current = node.output[0]
    if graph.output[0].name != current:
        raise OnnxImportError(f"the graph's output {graph.output[0].name!r} is not the end of its chain of operators")
    if len(act.shape) != 1:
        act = act.reshaped((act.size,))
    layers.append(DenseLayer(act.weight, act.bias, relu=False))
    n_out = act.size
    if task == "regression" or (task == "auto" and n_out == 1 and final != "Sigmoid"):
        if n_out != 1:
            raise OnnxImportError(f"a regression network has one output; this one has {n_out}")
        head = DenseHead.REGRESSION
    elif n_out == 1:
        if final not in ("Sigmoid", None):
            raise OnnxImportError(f"one output after {final}: a binary classifier ends with a logit or a Sigmoid")
        head = DenseHead.SIGN
    else:
        head = DenseHead.ARGMAX
    return ImportedNetwork(DenseNet(tuple(layers)), head, inputs[0].name, shape, batch_fixed, n_out, final)


# -- the estimator ------------------------------------------------------------------------------
class OnnxEstimator:
    """An ONNX network with scikit-learn's estimator interface; onnxruntime computes it.

    `path` names the file (or `model` holds it, loaded or as bytes); `task` is "auto" (one
    output without Sigmoid: regression; one output with it: binary classification; several:
    classification by argmax), "classification" or "regression". `fit` trains nothing: it
    imports the network, checks it against the rows' width and sets `classes_` (the
    labels of y when they are as many as the outputs, else 0..n-1).
    """

    def __init__(self, path: str | Path | None = None, task: str = "auto", model: Any = None) -> None:
        self.path = path
        self.task = task
        self.model = model

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"path": self.path, "task": self.task}

    def set_params(self, **params: Any) -> "OnnxEstimator":
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> "OnnxEstimator":
        if self.model is None and self.path is None:
            raise OnnxImportError("no ONNX model given (set path)")
        self.model_ = load_model(self.model if self.model is not None else self.path)
        self.network_ = import_network(self.model_, self.task)
        width = int(np.prod(self.network_.input_shape))
        X = np.asarray(X)
        if X.reshape(len(X), -1).shape[1] != width:
            raise OnnxImportError(
                f"the network's input {self.network_.input_name!r} has shape {self.network_.input_shape} "
                f"({width} values per row); the data has {X.reshape(len(X), -1).shape[1]}"
            )
        n = self.network_.n_outputs
        labels = None if y is None else np.unique(y)
        if self.network_.head == DenseHead.ARGMAX:
            self.classes_ = labels if labels is not None and len(labels) == n else np.arange(n)
        elif self.network_.head == DenseHead.SIGN:
            self.classes_ = labels if labels is not None and len(labels) == 2 else np.arange(2)
        self.n_features_in_ = width
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self.session_ = onnxruntime.InferenceSession(
            self.model_.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
        self._check_import(X.reshape(len(X), -1)[:CHECK_ROWS])
        return self

    def _check_import(self, X: np.ndarray) -> None:
        """The imported network must compute what onnxruntime computes on these rows (a
        mismatch would be a bug of the importer; better refused than proven wrong)."""
        net = self.network_
        ours = net.net.forward(X)
        if net.final == "Softmax":
            e = np.exp(ours - ours.max(axis=1, keepdims=True))
            ours = e / e.sum(axis=1, keepdims=True)
        elif net.final == "LogSoftmax":
            ours = ours - ours.max(axis=1, keepdims=True)
            ours = ours - np.log(np.exp(ours).sum(axis=1, keepdims=True))
        elif net.final == "Sigmoid":
            ours = 1.0 / (1.0 + np.exp(-ours))
        theirs = self.outputs(X)
        scale = max(float(np.max(np.abs(theirs))), 1.0)
        gap = float(np.max(np.abs(ours - theirs))) if len(X) else 0.0
        if gap > IMPORT_TOLERANCE * scale:
            raise OnnxImportError(
                f"the imported network differs from onnxruntime's by {gap:.3g} on the calibration rows "
                "(an operator's semantics the importer does not reproduce); please report the model"
            )

    def outputs(self, X: np.ndarray) -> np.ndarray:
        """onnxruntime's output for each row (n_rows, n_outputs), float."""
        net = self.network_
        rows = np.asarray(X, dtype=np.float32).reshape(len(X), *net.input_shape)
        if net.batch_fixed:
            out = [self.session_.run(None, {net.input_name: rows[i : i + 1]})[0] for i in range(len(rows))]
            return np.concatenate([np.asarray(o).reshape(1, -1) for o in out]) if out else np.zeros((0, net.n_outputs))
        return np.asarray(self.session_.run(None, {net.input_name: rows})[0]).reshape(len(rows), -1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The float model's prediction (onnxruntime): a class label or a value per row."""
        out = self.outputs(X)
        head = self.network_.head
        if head == DenseHead.ARGMAX:
            return self.classes_[np.argmax(out, axis=1)]
        if head == DenseHead.SIGN:
            # After a Sigmoid, p > 1/2; on a bare logit, z > 0: the same rows.
            threshold = 0.5 if self.network_.final == "Sigmoid" else 0.0
            return self.classes_[(out[:, 0] > threshold).astype(np.int64)]
        return out[:, 0].astype(np.float64)


def task_of(params: dict[str, Any]) -> str:
    """The task of the network named by `[model]` parameters (reads the file when task = "auto")."""
    task = params.get("task", "auto")
    if task != "auto":
        return str(task)
    if not params.get("path"):
        raise OnnxImportError("[model] path: the ONNX file of the network is required")
    network = import_network(load_model(params["path"]), "auto")
    return "regression" if network.head == DenseHead.REGRESSION else "classification"


def lower_onnx(est: OnnxEstimator, calibration: Calibration, spec: QuantizationSpec) -> QuantizedDenseModel:
    """Quantize an imported network like any dense network (workbench/algorithms/linear.py)."""
    if not hasattr(est, "network_"):
        est.fit(calibration.X, calibration.y)
    return lower_dense(est.network_.net, est, calibration, spec, est.network_.head, "onnx")
