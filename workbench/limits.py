"""Limits of Aleo, of snarkVM and of the offline setup, defined once for every layer.

`OFFLINE_BUDGET` is a measurement, not a constant of Aleo: the largest constraint count
that proved with the shipped degree-2^16 setup (`workbench/snarkvm/costs.json`, written
by `scripts/measure_costs.py`; see docs/cost-model.md).
"""

from __future__ import annotations

import json
from importlib import resources

# One execution holds at most 32 transitions, the last being the fee (docs/leo-subset.md).
MAX_TRANSITIONS = 31
# snarkVM's cap on the imports of one program.
MAX_IMPORTS = 64
# The largest `[zk] batch`: rows evaluated by one execution (and covered by one proof).
MAX_BATCH = 64
# The degree of the universal setup the workbench ships (powers of beta up to 2^16).
SRS_DEGREE = 16
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
