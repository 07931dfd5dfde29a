"""What every algorithm family provides: a quantized model, its typed form and its integer reference."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from workbench.algorithms.forms import Form, InputCodec, LabelCodec, ScoresInfo
from workbench.kinds import Task
from workbench.quantize import FieldType, IntType, QuantizedInputs


def _classes(classes: np.ndarray | None) -> tuple | None:
    """Labels as plain Python values (a saved model's JSON holds them)."""
    return None if classes is None else tuple(np.asarray(classes).tolist())


class QuantizedModel(ABC):
    """A trained model in fixed point, with the integer reference of its circuit.

    Follows scikit-learn's conventions: `predict(X)` takes scaled float features and
    returns labels, so float, quantized and ZK accuracy come from the same kind of call.
    `predict_int` is the exact integer computation the circuit performs; `form` describes
    that circuit as typed integers (the Leo layer renders it, nothing here knows Leo).
    """

    task: Task
    inputs_: QuantizedInputs
    feature_type_: IntType
    output_type_: IntType | FieldType

    @property
    @abstractmethod
    def form(self) -> Form:
        """The typed quantized form of the circuit (see workbench/algorithms/forms.py)."""

    def input_offsets(self) -> np.ndarray:
        """What each feature's fixed-point integer is shifted by before the circuit gets it."""
        return np.zeros(len(self.inputs_.int_low), dtype=np.int64)

    @property
    def input_codec(self) -> InputCodec:
        """Features -> circuit inputs, as a record a saved model carries (no model needed)."""
        return InputCodec(
            self.inputs_.fixed.fractional_bits,
            tuple(float(v) for v in self.inputs_.range.low),
            tuple(float(v) for v in self.inputs_.range.high),
            tuple(int(v) for v in self.input_offsets()),
        )

    @property
    @abstractmethod
    def label_codec(self) -> LabelCodec:
        """Circuit outputs -> the estimator's labels or values."""

    def quantize_inputs(self, X: np.ndarray) -> np.ndarray:
        """The integers the circuit receives for feature rows X (clipped, rounded, shifted)."""
        return self.inputs_(X) + self.input_offsets()

    @abstractmethod
    def predict_int(self, Xq: np.ndarray) -> np.ndarray:
        """The circuit's output integers for quantized rows, computed with numpy."""

    def labels(self, outputs: np.ndarray) -> np.ndarray:
        """Map circuit output integers to the estimator's labels or values."""
        return self.label_codec.decode(outputs)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Quantized-model prediction for scaled float features."""
        return self.labels(self.predict_int(self.quantize_inputs(X)))

    def revealed_scores(self) -> ScoresInfo | None:
        """The scores the circuit can output with the prediction; None if the family has none."""
        return None

    def revealed_scores_int(self, Xq: np.ndarray) -> np.ndarray:
        """The integer reference of those scores, shape (n_rows, count)."""
        raise TypeError(f"{type(self).__name__} has no scores to output")

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """A JSON-able summary of the quantization (types, bits, ranges) for result.json."""
