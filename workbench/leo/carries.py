"""What each link of a model split across executions linked by commitments receives.

The links do not output the values they hand on (a private output costs about 1,300
constraints): the prover computes them from the row as the integer reference does, in the
encoding the link templates declare (workbench/leo/contexts.py, `_linked_*_plans`), and
the next link's public commitment to what it received must equal the commitment the link
before made to what it computed, or the chain does not verify. So a wrong value here is
caught, never proven.
"""

from __future__ import annotations

from functools import singledispatch

import numpy as np

from workbench.algorithms.forms import Form, StoredRowsForm, TreeForm
from workbench.algorithms.neighbors import top_k_slots
from workbench.algorithms.trees import leaf_index
from workbench.quantize import narrowest_int


def _array(values: list[int], type_name: str) -> str:
    return "[" + ", ".join(f"{int(v)}{type_name}" for v in values) + "]"


@singledispatch
def carry_literal(form: Form, row: np.ndarray, start: int) -> str:
    """The Aleo literal of what the link starting at unit `start` receives for one row of
    circuit inputs (the integers the entry function takes)."""
    raise TypeError(f"a {type(form).__name__} is not split into links by commitments")


@carry_literal.register
def _(form: TreeForm, row: np.ndarray, start: int) -> str:
    # The partial class scores of trees [0, start), shifted into their carry type.
    total = [0] * form.n_outputs
    for t in range(start):
        leaf = form.values[t][int(leaf_index(form.trees[t], form.thresholds[t], np.asarray([row]))[0])]
        total = [a + int(b) for a, b in zip(total, leaf)]
    carry_type, offset = form.partial_type(0, start)
    return _array([v + offset for v in total], carry_type.name)


@carry_literal.register
def _(form: StoredRowsForm, row: np.ndarray, start: int) -> str:
    # The k slots after stored rows [0, start): their scores, then their classes.
    scores = form.scores.evaluate(np.asarray([row]))[0][:start]
    vals, labs = top_k_slots(scores, form.labels[:start], form.k)
    element = slot_type(form)
    return _array([*vals, *labs], element)


def slot_type(form: StoredRowsForm) -> str:
    """One unsigned type holding the slots' scores (below 2^score_bits) and classes."""
    return narrowest_int(0, max((1 << form.score_bits) - 1, form.n_classes - 1), signed=False).name
