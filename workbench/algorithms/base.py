"""What every algorithm family provides: a quantized model with an exact integer reference."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.quantize import IntType, QuantizedInputs

_LITERAL = re.compile(r"^(-?\d+)(?:[iu](?:8|16|32|64|128)|field)$")


def parse_int_literal(text: str) -> int:
    """The integer value of an Aleo literal such as `2u8` or `-17i16` (visibility stripped)."""
    text = text.strip()
    for suffix in (".public", ".private"):
        text = text.removesuffix(suffix)
    m = _LITERAL.match(text)
    if not m:
        raise ValueError(f"not an integer literal: {text!r}")
    return int(m.group(1))


def array_literal(values: np.ndarray, t: IntType) -> str:
    """An Aleo array literal such as `[3i8, -1i8]`."""
    return "[" + ", ".join(f"{int(v)}{t.name}" for v in values) + "]"


class QuantizedModel(ABC):
    """A trained model in fixed point, with the integer reference of its circuit.

    Follows scikit-learn's conventions: `predict(X)` takes scaled float features and
    returns labels, so float, quantized and ZK accuracy come from the same kind of call.
    `predict_int` is the exact integer computation the Leo program performs.
    """

    template: str  # file stem in leo_templates/
    task: str  # classification | regression | clustering
    inputs_: QuantizedInputs
    feature_type_: IntType
    output_type_: IntType

    def quantize_inputs(self, X: np.ndarray) -> np.ndarray:
        """The integers the circuit receives for feature rows X (clipped, then rounded)."""
        return self.inputs_(X)

    @abstractmethod
    def predict_int(self, Xq: np.ndarray) -> np.ndarray:
        """The circuit's output integers for quantized rows, computed with numpy."""

    @abstractmethod
    def labels(self, outputs: np.ndarray) -> np.ndarray:
        """Map circuit output integers to the estimator's labels or values."""

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Quantized-model prediction for scaled float features."""
        return self.labels(self.predict_int(self.quantize_inputs(X)))

    def aleo_inputs(self, xq: np.ndarray) -> list[str]:
        """The Aleo input values of one quantized row (one packed array)."""
        return [array_literal(xq, self.feature_type_)]

    def decode_outputs(self, outputs: list[str]) -> int:
        """The circuit output integer from snarkVM's output strings."""
        return parse_int_literal(outputs[0])

    @abstractmethod
    def leo_context(self) -> dict[str, Any]:
        """Template variables specific to this family."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """A JSON-able summary of the quantization (types, bits, ranges) for result.json."""


@dataclass(frozen=True)
class Algorithm:
    """A registered algorithm: the estimator it trains and how to quantize it."""

    name: str  # the TOML `[model] algorithm` value
    estimator: type
    task: str
    lower: Any  # Callable[[fitted estimator, Dataset, QuantizationSpec], QuantizedModel]

    def hyperparameters(self) -> set[str]:
        """The estimator's constructor parameters (the keys allowed in `[model]`)."""
        return set(self.estimator().get_params())

    def make_estimator(self, params: dict[str, Any], seed: int) -> Any:
        """A fresh estimator; `random_state` defaults to the experiment's seed."""
        params = dict(params)
        if "random_state" in self.hyperparameters():
            params.setdefault("random_state", seed)
        return self.estimator(**params)
