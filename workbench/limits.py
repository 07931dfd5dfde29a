"""Limits of Aleo, of snarkVM and of the offline setup, defined once for every layer.

`OFFLINE_BUDGET` is a measurement, not a constant of Aleo: the largest constraint count
that proved with the shipped degree-2^16 setup (`workbench/snarkvm/costs.json`, written
by `scripts/measure_costs.py`; see docs/cost-model.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources

# One execution holds at most 32 transitions, the last being the fee (docs/leo-subset.md).
MAX_TRANSITIONS = 31
# snarkVM's cap on the imports of one program.
MAX_IMPORTS = 64
# The largest `[zk] batch`: rows evaluated by one execution (and covered by one proof).
MAX_BATCH = 64
# The degree of the universal setup the workbench ships (powers of beta up to 2^16).
SRS_DEGREE = 16
# The largest setup degree whose files the workbench knows (sizes and SHA-256 in
# workbench/snarkvm/setup_files.py). Aleo's own cap, about 2^21 constraints per function,
# lies beyond it; larger files can be added to that table when someone needs them.
MAX_SETUP_DEGREE = 20
# Used only if costs.json has no measured budget (it should).
_FALLBACK_BUDGET = 16_000
# About this much of every transition is fixed cost (request signature, input and output
# hashing for one small input), whatever the function computes (docs/cost-model.md).
FIXED_TRANSITION_COST = 10_400


def _measured_budget() -> int:
    try:
        # Read through the top package: importing workbench.snarkvm here would load the
        # snarkVM side into processes (the TUI's) that must never load it.
        text = resources.files("workbench").joinpath("snarkvm", "costs.json").read_text()
        return int((json.loads(text).get("offline_budget") or {}).get("largest_ok") or _FALLBACK_BUDGET)
    except (OSError, ValueError):  # a broken install should not break imports
        return _FALLBACK_BUDGET


#: Largest constraint count of one transition measured to prove with the shipped setup.
OFFLINE_BUDGET: int = _measured_budget()


# -- every size a setup bounds -------------------------------------------------------------
class Quantity(StrEnum):
    """The six sizes of a circuit that a verifying key records (in this order)."""

    PUBLIC_INPUTS = "public inputs"
    VARIABLES = "variables"
    CONSTRAINTS = "constraints"
    NONZERO_A = "non-zeros of A"
    NONZERO_B = "non-zeros of B"
    NONZERO_C = "non-zeros of C"


@dataclass(frozen=True)
class CircuitShape:
    """The six sizes of one function's circuit, as its verifying key records them (or as
    the estimator predicts them before key synthesis)."""

    public_inputs: int
    variables: int
    constraints: int
    nonzero_a: int
    nonzero_b: int
    nonzero_c: int

    def get(self, quantity: Quantity) -> int:
        """The size named by `quantity`."""
        return getattr(self, _FIELD[quantity])

    def as_dict(self) -> dict[str, int]:
        """Field name -> value (the form result.json stores)."""
        return {name: getattr(self, name) for name in _FIELD.values()}


_FIELD = {
    Quantity.PUBLIC_INPUTS: "public_inputs",
    Quantity.VARIABLES: "variables",
    Quantity.CONSTRAINTS: "constraints",
    Quantity.NONZERO_A: "nonzero_a",
    Quantity.NONZERO_B: "nonzero_b",
    Quantity.NONZERO_C: "nonzero_c",
}


@dataclass(frozen=True)
class SetupLimits:
    """What one transition may hold with the universal setup of a given degree: the
    largest value of each quantity (None: not bounded on its own)."""

    degree: int
    maxima: tuple[tuple[Quantity, int], ...]

    def maximum(self, quantity: Quantity) -> int | None:
        """The largest value of `quantity` this setup proves, or None if unbounded."""
        return dict(self.maxima).get(quantity)

    @property
    def constraints(self) -> int:
        """The constraint budget per transition (what planning splits against)."""
        n = self.maximum(Quantity.CONSTRAINTS)
        assert n is not None
        return n

    def over(self, shape: CircuitShape) -> list[tuple[Quantity, int, int]]:
        """Every quantity of `shape` beyond its maximum: (quantity, value, maximum)."""
        return [(q, shape.get(q), m) for q, m in self.maxima if shape.get(q) > m]


def setup_limits(degree: int = SRS_DEGREE) -> SetupLimits:
    """The limits of a transition with the degree-2^`degree` setup.

    Provisional rule (to be replaced by the measured one): constraints scale with the
    setup's size from the budget measured at degree 16.
    """
    budget = OFFLINE_BUDGET if degree == SRS_DEGREE else OFFLINE_BUDGET << (degree - SRS_DEGREE)
    return SetupLimits(degree, ((Quantity.CONSTRAINTS, budget),))
