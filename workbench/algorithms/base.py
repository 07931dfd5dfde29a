"""What every algorithm family provides: a quantized model with an exact integer reference."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.quantize import IntType, QuantizedInputs

_LITERALS = re.compile(r"(-?\d+)(?:[iu](?:8|16|32|64|128)|field)\b")


def parse_int_literals(text: str) -> list[int]:
    """Every integer literal in an Aleo value, in order: `[1u8, 2u8]` -> [1, 2]."""
    return [int(m.group(1)) for m in _LITERALS.finditer(text)]


def array_literal(values: np.ndarray, t: IntType) -> str:
    """An Aleo array literal such as `[3i8, -1i8]` (nested for 2-D arrays)."""
    values = np.asarray(values)
    if values.ndim > 1:
        return "[" + ", ".join(array_literal(v, t) for v in values) + "]"
    return "[" + ", ".join(f"{int(v)}{t.name}" for v in values) + "]"


@dataclass(frozen=True)
class ProgramPlan:
    """One Leo program of a model: its template and the template's variables.

    A model that fits one transition has one plan; a model split across transitions has
    several, dependencies first and the main program (whose entry function is executed and
    calls the first link) last.
    """

    name: str  # Leo program name, without .aleo
    template: str  # file stem in leo_templates/
    context: dict[str, Any]
    imports: tuple[str, ...] = ()  # names of plans this program calls


@dataclass(frozen=True)
class RevealedScores:
    """The per-row score vector a circuit can output next to its prediction (`[zk] scores`).

    `variables` name the Leo variables of `predict_row` holding the scores, in order;
    `encoding` says how those integers relate to the model (for result.json and docs).
    """

    what: str  # e.g. "class scores", "votes per class"
    type: IntType
    variables: tuple[str, ...]
    encoding: str

    @property
    def leo_type(self) -> str:
        return f"[{self.type.name}; {len(self.variables)}]"


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

    def aleo_inputs(self, rows: np.ndarray) -> list[str]:
        """The Aleo inputs of one execution: quantized rows, shape (batch, n_features).

        One row is passed as a flat array `[T; F]`, several as `[[T; F]; batch]`.
        """
        rows = np.asarray(rows)
        return [array_literal(rows[0] if len(rows) == 1 else rows, self.feature_type_)]

    def decode_outputs(self, outputs: list[str], batch: int) -> list[int]:
        """The circuit's output integers (one per row of the batch) from snarkVM's outputs."""
        values = parse_int_literals(outputs[0])
        if len(values) != batch:
            raise ValueError(f"expected {batch} output values, snarkVM returned {outputs[0]!r}")
        return values

    chain_unit = "pieces"  # what `chain_units` counts, for messages ("trees")

    def revealed_scores(self) -> RevealedScores | None:
        """The scores the circuit can output with the prediction; None if the family has none."""
        return None

    def revealed_scores_int(self, Xq: np.ndarray) -> np.ndarray:
        """The integer reference of those scores, shape (n_rows, n_scores)."""
        raise NotImplementedError(f"{type(self).__name__} has no scores to reveal")

    def decode_scores(self, outputs: list[str], batch: int) -> np.ndarray:
        """The revealed scores (second output) of one execution, shape (batch, n_scores)."""
        values = parse_int_literals(outputs[1])
        info = self.revealed_scores()
        assert info is not None
        n = len(info.variables)
        if len(values) != batch * n:
            raise ValueError(f"expected {batch} x {n} scores, snarkVM returned {outputs[1]!r}")
        return np.asarray(values, dtype=np.int64).reshape(batch, n)

    def chain_units(self) -> int:
        """Pieces a chain of transitions may cut the model between (0: cannot be split)."""
        return 0

    def plan(self, name: str, cuts: tuple[int, ...] = ()) -> list[ProgramPlan]:
        """The Leo programs of this model: one, or a chain cut before each unit in `cuts`
        (families whose `chain_units` is non-zero)."""
        if cuts:
            raise ValueError(f"{type(self).__name__} cannot be split across transitions")
        return [ProgramPlan(name=name, template=self.template, context=self.leo_context())]

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
