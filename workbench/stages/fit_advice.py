"""What would fit: the sentence a refusal ends with when a model exceeds a transition.

A circuit's sizes are a transition's fixed part (about FIXED_TRANSITION_COST constraints,
and the same share of every other limit) plus the model's own part, which grows about in
proportion to the model's main size: the features of a linear model, the widest hidden
layer of a network, the trees (or a single tree's nodes), the stored rows, the clusters.
So the room a transition leaves over its fixed part, divided by the model's own part,
says how much of that size one transition holds, and the inverse how many transitions
the model needs at least. Both are estimates ("about"), stated as such.
"""

from __future__ import annotations

import math
from functools import singledispatch

from workbench.algorithms.forms import CentroidsForm, DenseForm, Form, IntLayer, StoredRowsForm, TreeForm
from workbench.algorithms.linear import layer_widths, splits_by_features
from workbench.leo.contexts import chain_units
from workbench.limits import FIXED_TRANSITION_COST, SRS_DEGREE, CircuitShape, Quantity, SetupLimits, setup_limits


@singledispatch
def main_size(form: Form) -> tuple[str, int] | None:
    """The size of the model its circuit grows with, and its value (None: not known)."""
    return None


@main_size.register
def _(form: DenseForm) -> tuple[str, int] | None:
    if splits_by_features(form):
        return "input features", form.io.n_features
    hidden = [w for layer, w in zip(form.layers[:-1], layer_widths(form)) if isinstance(layer, IntLayer)]
    return ("neurons in the widest hidden layer", max(hidden)) if hidden else None


@main_size.register
def _(form: TreeForm) -> tuple[str, int] | None:
    if len(form.trees) > 1:
        return "trees", len(form.trees)
    return "tree nodes", int(len(form.values[0]))


@main_size.register
def _(form: StoredRowsForm) -> tuple[str, int] | None:
    return "stored rows", len(form.labels)


@main_size.register
def _(form: CentroidsForm) -> tuple[str, int] | None:
    return "clusters", len(form.scores.const)


def _fixed_part(quantity: Quantity) -> float:
    """A transition's fixed part in `quantity`: the fixed constraints' share of the
    degree-16 limits, applied to this quantity's limit."""
    base = setup_limits(SRS_DEGREE)
    return FIXED_TRANSITION_COST * (base.maximum(quantity) or 0) / base.constraints


def what_would_fit(form: Form, shape: CircuitShape, limits: SetupLimits) -> str:
    """A sentence saying how much of the model's main size one transition holds and how
    many transitions the model needs at least, from the size that binds most ("" when no
    size is over its limit or the room cannot be estimated)."""
    worst: tuple[float, Quantity, int, int] | None = None
    for q, value, limit in limits.over(shape):
        fixed = _fixed_part(q)
        if value <= fixed or limit <= fixed:
            continue
        ratio = (value - fixed) / (limit - fixed)  # the model's own part, in transitions' room
        if worst is None or ratio > worst[0]:
            worst = (ratio, q, value, limit)
    if worst is None:
        return ""
    ratio, q, _, _ = worst
    splits = chain_units(form)[0] >= 2
    parts = [f"its own part is about {ratio:.1f} times the room a transition leaves past its fixed cost "
             f"(bound by {q}), so it needs at least {math.ceil(ratio)} transitions of this setup"
             + ("" if splits else " if it could be split (this model cannot)")]
    size = main_size(form)
    if size is not None:
        label, value = size
        parts.append(f"one transition holds about {max(1, int(value / ratio)):,} {label} (this model has {value:,})")
    return "What would fit: " + "; ".join(parts) + "."
