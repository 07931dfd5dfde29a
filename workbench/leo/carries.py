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

from workbench.algorithms.forms import DenseForm, Form, StoredRowsForm, TreeForm
from workbench.algorithms.linear import feature_partial_sums, feature_partial_type, splits_by_features
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


@carry_literal.register
def _(form: DenseForm, row: np.ndarray, start: int) -> str:
    # A linear model split by features: each output's dot product over features [0, start).
    if not splits_by_features(form):
        raise TypeError("only a linear model (one dense layer) is split into links by commitments")
    carry_type, offset = feature_partial_type(form, start)
    return _array([v + offset for v in feature_partial_sums(form, row, start)], carry_type.name)


def reads_a_slice(form: Form) -> bool:
    """Whether each link reads its own slice of the features, as an input of its own
    before the struct (a linear model); otherwise every link reads the whole row inside
    the struct (`x`) and commits to it with each handoff (workbench/leo_templates/_linked.leo.j2)."""
    return isinstance(form, DenseForm) and splits_by_features(form)


def link_features(form: Form, row: list[str], start: int, end: int) -> str:
    """The Aleo literal of the features the link over units [start, end) reads, from the
    row's element literals: a linear model's links read their slice, others the whole row."""
    if reads_a_slice(form):
        row = row[start:end]
    return "[" + ", ".join(row) + "]"


def slot_type(form: StoredRowsForm) -> str:
    """One unsigned type holding the slots' scores (below 2^score_bits) and classes."""
    return narrowest_int(0, max((1 << form.score_bits) - 1, form.n_classes - 1), signed=False).name
