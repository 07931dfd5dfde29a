"""Multi-layer perceptrons (MLPClassifier, MLPRegressor) as dense ReLU networks.

They share the integer format, reference and circuit of the linear models
(`workbench/algorithms/linear.py`): hidden layers compute z = W a + B in field, then
a = z >= 0 ? z >> f : 0 through one conversion to an unsigned offset integer per neuron;
the output layer gives the regression value or the class scores (argmax, or the sign of
the single logit of a binary classifier). Softmax/logistic output activations are
monotone, so the argmax/sign of the logits is scikit-learn's prediction.
"""

from __future__ import annotations

from typing import Any

from workbench.algorithms.forms import DenseHead
from workbench.algorithms.linear import DenseNet, QuantizedDenseModel, lower_dense
from workbench.errors import UserError
from workbench.quantize import Calibration, QuantizationSpec


def _check_relu(est: Any) -> None:
    if est.activation != "relu":
        raise UserError(
            f"{type(est).__name__}: activation {est.activation!r} is not supported in the circuit; use \"relu\""
        )


def lower_mlp_classifier(est: Any, calibration: Calibration, spec: QuantizationSpec) -> QuantizedDenseModel:
    """Quantize a fitted MLPClassifier (ReLU hidden layers; softmax or binary logistic output)."""
    _check_relu(est)
    binary = est.out_activation_ == "logistic" and est.n_outputs_ == 1
    if est.out_activation_ != "softmax" and not binary:
        raise UserError("MLPClassifier: only single-label classification is supported")
    net = DenseNet.mlp(est.coefs_, est.intercepts_)
    head = DenseHead.SIGN if binary else DenseHead.ARGMAX
    return lower_dense(net, est, calibration, spec, head, "mlp")


def lower_mlp_regressor(est: Any, calibration: Calibration, spec: QuantizationSpec) -> QuantizedDenseModel:
    """Quantize a fitted MLPRegressor (ReLU hidden layers, one identity output)."""
    _check_relu(est)
    if est.n_outputs_ != 1:
        raise UserError("MLPRegressor: only a single regression target is supported")
    net = DenseNet.mlp(est.coefs_, est.intercepts_)
    return lower_dense(net, est, calibration, spec, DenseHead.REGRESSION, "mlp")

