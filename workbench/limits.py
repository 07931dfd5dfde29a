"""Limits of Aleo, of snarkVM and of the offline setup, defined once for every layer.

`OFFLINE_BUDGET` is a measurement, not a constant of Aleo: the largest constraint count
that proved with the shipped degree-2^16 setup (`workbench/snarkvm/costs.json`, written
by `scripts/measure_costs.py`; see docs/cost-model.md).
"""

from __future__ import annotations

import json
import struct
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
# `[zk] setup` values besides a degree (workbench/experiment.py, workbench/snarkvm/setup_files.py).
SETUP_INSTALLED = "installed"
SETUP_DOWNLOAD = "download"
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
        return getattr(self, field_name(quantity))

    def as_dict(self) -> dict[str, int]:
        """Field name -> value (the form result.json stores)."""
        return {name: getattr(self, name) for name in _FIELD.values()}


# The verifying key format this parser knows: version byte 1 (aleo-sdk 0.8.0 = snarkVM 4.12.0).
VERIFYING_KEY_VERSION = 1
_VK_HEADER = struct.Struct("<B6Q")


class VerifyingKeyFormatError(ValueError):
    """Verifying key bytes that do not start with the circuit sizes this parser knows."""


def shape_from_verifying_key(data: bytes) -> CircuitShape:
    """The six circuit sizes a verifying key's bytes start with.

    snarkVM writes a verifying key (`VerifyingKey.bytes()`) as a version byte, then its
    circuit info as six little-endian u64: public inputs (padded to a power of two),
    variables, constraints, and the non-zero entries of the matrices A, B and C; the
    commitments follow. Reading the header is enough (and needs no snarkVM), so cached
    key files and result files can be inspected anywhere. Refuses an unknown version or
    bytes too short to hold the header, rather than guessing.
    """
    if len(data) < _VK_HEADER.size:
        raise VerifyingKeyFormatError(
            f"a verifying key starts with {_VK_HEADER.size} bytes of circuit sizes; got {len(data)} bytes"
        )
    version, *sizes = _VK_HEADER.unpack_from(data)
    if version != VERIFYING_KEY_VERSION:
        raise VerifyingKeyFormatError(
            f"verifying key version {version} is not known (expected {VERIFYING_KEY_VERSION}); "
            "a newer snarkVM may lay the key out differently"
        )
    return CircuitShape(*sizes)


def field_name(quantity: Quantity) -> str:
    """The `CircuitShape` field (and result.json key) holding `quantity`."""
    return _FIELD[quantity]


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

    def capped(self, quantity: Quantity, value: int) -> "SetupLimits":
        """These limits with `quantity`'s maximum lowered to `value` (if it is lower): a
        planning budget that keeps a margin for the estimator's error."""
        return SetupLimits(self.degree, tuple((q, min(m, value) if q == quantity else m) for q, m in self.maxima))


def domain_size(n: int) -> int:
    """The evaluation domain snarkVM uses for `n` rows or entries: the least power of two >= n."""
    return 1 << max(0, n - 1).bit_length()


def max_degree(shape: CircuitShape) -> int:
    """The highest polynomial degree proving `shape` needs (snarkVM's Varuna, zero-knowledge mode).

    Varuna's `AHPForR1CS::max_degree` is the largest of 2|C| (the constraint domain, plus
    2 * zk_bound - 2 = 0), 2|V| (the variable domain), |V| + 3 (the mask polynomial) and
    |K| - 1 (K: the domain of the largest of the three non-zero counts), each domain the
    least power of two holding its count. See docs/cost-model.md ("Setup limits").
    """
    c = domain_size(shape.constraints)
    v = domain_size(shape.variables)
    k = domain_size(max(shape.nonzero_a, shape.nonzero_b, shape.nonzero_c))
    return max(2 * c, 2 * v, v + 3, k - 1)


def setup_limits(degree: int = SRS_DEGREE) -> SetupLimits:
    """The limits of a transition with the degree-2^`degree` setup.

    A setup file of degree d holds 2^d powers of beta, and committing to a polynomial of
    degree D needs the powers 0..=D, so a circuit fits when `max_degree(shape) <= 2^d - 1`
    (measured: scripts/measure_limits.py, docs/cost-model.md). Each term of `max_degree`
    bounds one size on its own, and the domains are powers of two, so the maxima are the
    largest counts whose domain fits:

    * constraints and variables: 2|domain| <= 2^d - 1, so a domain of 2^(d-2) at most:
      16,384 at degree 16;
    * non-zeros of A, B and C: |domain| - 1 <= 2^d - 1, so 2^d at most: 65,536 at degree 16;
    * public inputs are among the variables and have no bound of their own.

    These are the setup's own maxima. Planning keeps a margin below them for the
    estimator's error: `PlanRequest.budget` (default `OFFLINE_BUDGET`, 16,210) lowers the
    constraint maximum (see `stages/plan.py`).
    """
    if degree < 2:
        raise ValueError(f"a setup of degree 2^{degree} holds no circuit")
    rows = 1 << (degree - 2)  # constraint and variable domains
    nonzeros = 1 << degree
    return SetupLimits(
        degree,
        (
            (Quantity.VARIABLES, rows),
            (Quantity.CONSTRAINTS, rows),
            (Quantity.NONZERO_A, nonzeros),
            (Quantity.NONZERO_B, nonzeros),
            (Quantity.NONZERO_C, nonzeros),
        ),
    )


def planning_budget(degree: int = SRS_DEGREE) -> int:
    """The constraint budget a transition is planned to at `degree`: the measured offline
    budget at 16 (a margin below the setup's own maximum for the estimator's error), the
    same margin above it."""
    if degree == SRS_DEGREE:
        return OFFLINE_BUDGET
    return setup_limits(degree).constraints * OFFLINE_BUDGET // setup_limits(SRS_DEGREE).constraints


def planning_limits(degree: int = SRS_DEGREE, budget: int | None = None) -> SetupLimits:
    """What a planned transition may hold at `degree`: the constraint maximum lowered to
    `budget` (default `planning_budget(degree)`, a margin for the estimator's error). A
    budget below that default (a plan refused at key synthesis is planned again for less)
    lowers every other size by the same fraction: the size that bound may not have been
    the constraints."""
    default = planning_budget(degree)
    budget = default if budget is None else budget
    fraction = min(1.0, budget / default)
    limits = setup_limits(degree)
    scaled = tuple((q, min(m, budget) if q == Quantity.CONSTRAINTS else int(m * fraction)) for q, m in limits.maxima)
    return SetupLimits(degree, scaled)
