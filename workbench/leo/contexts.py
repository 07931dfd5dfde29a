"""Typed quantized forms -> the variables of the Leo templates in `workbench/leo_templates/`.

The families (workbench/algorithms/) describe their circuits as forms of integers
(workbench/algorithms/forms.py); this module is the one place that knows how each form is
written in Leo: which template renders it, its template variables, the Leo variables that
hold its score vector, and how a tree form is split into a chain of programs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatch
from typing import Any

import numpy as np

from workbench.algorithms.forms import (
    CentroidsForm,
    DenseForm,
    DenseHead,
    Form,
    IntLayer,
    IntMaxPool,
    LinearScores,
    StoredRowsForm,
    TreeForm,
    TreeHead,
)
from workbench.kinds import Topology
from workbench.leo.carries import slot_type
from workbench.algorithms.linear import (
    ACTIVATION,
    FEATURE,
    PARTIAL,
    PRE,
    SCORE,
    Carried,
    accumulates,
    carry_at,
    chain_cuts,
    feature_partial_type,
    is_dead,
    layer_starts,
    layer_widths,
    splits_by_features,
)
from workbench.quantize import narrowest_int


@dataclass(frozen=True)
class ProgramPlan:
    """One Leo program of a model: its template and the template's variables.

    A model that fits one transition has one plan; a model split across transitions has
    several, dependencies first and the main program (whose entry function is executed and
    calls the first link) last.
    """

    name: str  # Leo program name, without .aleo
    template: str  # file stem in workbench/leo_templates/
    context: dict[str, Any]
    imports: tuple[str, ...] = ()  # names of plans this program calls


# -- what can be split ----------------------------------------------------------------------
@singledispatch
def chain_units(form: Form) -> tuple[int, str]:
    """How many pieces a chain of transitions may cut the model between, and what they are
    called (0: the form cannot be split)."""
    return 0, "pieces"


@chain_units.register
def _(form: TreeForm) -> tuple[int, str]:
    # A single tree (LEAF) has nothing to sum across links.
    return (0, "trees") if form.head == TreeHead.LEAF else (len(form.trees), "trees")


@chain_units.register
def _(form: DenseForm) -> tuple[int, str]:
    # One layer (a linear model) splits between its features; a network's layers'
    # outputs, flattened: a cut at a layer's first neuron splits by layers, one inside a
    # layer splits its neurons (workbench/algorithms/linear.py, `carry_at`).
    if splits_by_features(form):
        return form.io.n_features, "features"
    return chain_cuts(form), "neurons"


@chain_units.register
def _(form: StoredRowsForm) -> tuple[int, str]:
    return len(form.labels), "stored rows"


@singledispatch
def split_topologies(form: Form) -> tuple[Topology, ...]:
    """How the programs of this form may be linked when it is split (see `program_plans`)."""
    return (Topology.CALL,)


@split_topologies.register
def _(form: TreeForm) -> tuple[Topology, ...]:
    return (Topology.CALL, Topology.COMMITMENTS)


@split_topologies.register
def _(form: StoredRowsForm) -> tuple[Topology, ...]:
    return (Topology.COMMITMENTS,)


@split_topologies.register
def _(form: DenseForm) -> tuple[Topology, ...]:
    # A linear model's links each read a slice of the features: a chain of calls would
    # pass every feature through its main program, which is what does not fit.
    return (Topology.COMMITMENTS,) if splits_by_features(form) else (Topology.CALL,)


@singledispatch
def first_link_units(form: Form) -> int:
    """The fewest units the first link of a split may hold."""
    return 1


@first_link_units.register
def _(form: StoredRowsForm) -> int:
    return form.k  # the slots handed on must all be filled


# -- the score vector of `[zk] scores` ------------------------------------------------------
@singledispatch
def score_variables(form: Form) -> tuple[str, ...]:
    """The Leo variables of `predict_row` holding the model's score vector, in order."""
    raise TypeError(f"{type(form).__name__} has no score vector")


@score_variables.register
def _(form: TreeForm) -> tuple[str, ...]:
    if form.head != TreeHead.ARGMAX:
        raise TypeError("only a sum of classifier trees has a score vector")
    return tuple(f"u{k}" for k in range(form.n_outputs))


@score_variables.register
def _(form: DenseForm) -> tuple[str, ...]:
    if form.head == DenseHead.REGRESSION:
        raise TypeError("a regression's output is already its score")
    return ("s",) if form.head == DenseHead.SIGN else tuple(f"s{k}" for k in range(form.n_outputs))


@score_variables.register
def _(form: CentroidsForm) -> tuple[str, ...]:
    return tuple(f"s{c}" for c in range(len(form.scores.const)))


@score_variables.register
def _(form: StoredRowsForm) -> tuple[str, ...]:
    return tuple(f"n{c}" for c in range(form.n_classes))


# -- programs -------------------------------------------------------------------------------
@singledispatch
def program_plans(
    form: Form, name: str, cuts: tuple[int, ...] = (), topology: Topology = Topology.CALL
) -> list[ProgramPlan]:
    """The Leo programs of a form: one, or (forms that split) a chain cut before each unit
    in `cuts`, linked by calls or by commitments (`topology`)."""
    raise TypeError(f"no Leo rendering for {type(form).__name__}")


@program_plans.register
def _(form: DenseForm, name: str, cuts: tuple[int, ...] = (), topology: Topology = Topology.CALL) -> list[ProgramPlan]:
    """One program, or a forward chain split before each unit (neuron) index in `cuts`.

    Chain: the main program `<name>` takes the features, computes units [0, cuts[0]) and
    calls `<name>_p<cuts[0]>` with the carry (the values the rest of the network reads,
    `carry_at`), which computes [cuts[0], cuts[1]) and calls the link named after cuts[1],
    and so on; the last link computes the rest and the head and returns the prediction,
    which every caller returns. A link is named after its first unit and its source
    depends only on its own units and the cut after it, so it does not change when links
    are added before it (`stages/chain.py` compiles each candidate once).
    """
    if not cuts:
        return [ProgramPlan(name, "linear", dense_context(form))]
    if splits_by_features(form):
        if topology != Topology.COMMITMENTS:
            raise ValueError("a linear model splits only into links by commitments over its features")
        return _linked_linear_plans(form, name, [0, *cuts, form.io.n_features])
    units = chain_cuts(form)
    if units < 2:
        raise ValueError(f"this {form.kind} network cannot be split across transitions (one layer, or a cut "
                         "that carries nothing)")
    bounds = [0, *cuts, units]
    if any(a >= b for a, b in zip(bounds, bounds[1:])):
        raise ValueError(f"cuts {cuts} do not split {units} neurons into non-empty groups")
    names = [name] + [suffixed(name, f"_p{c}") for c in cuts]
    plans = []
    for i in reversed(range(len(names))):  # dependencies first: the last link first
        last = i == len(names) - 1
        nxt = None if last else f"{names[i + 1]}.aleo"
        context = dense_chain_context(form, bounds[i], bounds[i + 1], nxt)
        plans.append(ProgramPlan(names[i], "dense_chain", context, imports=() if last else (names[i + 1],)))
    return plans


@program_plans.register
def _(form: CentroidsForm, name: str, cuts: tuple[int, ...] = (), topology: Topology = Topology.CALL) -> list[ProgramPlan]:
    _no_cuts(form, cuts)
    context = {**_score_context(form.scores), "n_clusters": len(form.scores.const)}
    return [ProgramPlan(name, "kmeans", context)]


@program_plans.register
def _(form: StoredRowsForm, name: str, cuts: tuple[int, ...] = (), topology: Topology = Topology.CALL) -> list[ProgramPlan]:
    """One program, or (`topology` COMMITMENTS) links over ranges of stored rows cut
    before each row index in `cuts` (a call chain would pay for a call and the features
    again in every link: it is not offered)."""
    if not cuts:
        return [ProgramPlan(name, "knn", stored_rows_context(form))]
    if topology != Topology.COMMITMENTS:
        raise ValueError("a k-NN model splits only into links by commitments")
    n = len(form.labels)
    bounds = [0, *cuts, n]
    if any(a >= b for a, b in zip(bounds, bounds[1:])) or cuts[0] < form.k:
        raise ValueError(f"cuts {cuts} do not split {n} stored rows into ranges, the first of at least k = {form.k}")
    element = slot_type(form)
    slots = {"type": f"[{element}; {2 * form.k}]", "element": element, "struct": f"Slots{element.upper()}x{2 * form.k}"}
    names = linked_names(name, bounds)
    plans = []
    for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
        context = stored_rows_context(form, a, b, carried=i > 0)
        context.update(
            first_row=a, last_row=b - 1, n_stored_total=n,
            carry_in=slots if i > 0 else None, carry_out=None if i == len(names) - 1 else slots,
        )
        plans.append(ProgramPlan(names[i], "knn_linked", context))
    return plans


@program_plans.register
def _(form: TreeForm, name: str, cuts: tuple[int, ...] = (), topology: Topology = Topology.CALL) -> list[ProgramPlan]:
    """One program, or a chain split before each tree index in `cuts`.

    Chain: the main program `<name>` evaluates trees [0, cuts[0]) and calls
    `<name>_p<cuts[0]>`, which evaluates [cuts[0], cuts[1]) and calls the link named after
    cuts[1], and so on (a link is named after its first tree, so its name does not change
    when links are added before it). Each link returns, privately, the partial scores of
    its trees and of every later one; the main program adds the bias and takes the argmax
    (or returns the sum). A link holds one call, so each transition pays for at most one
    call, and each has its own budget (at most 31 transitions in one execution).
    """
    n = len(form.trees)
    if not cuts:
        return [ProgramPlan(name, "tree_ensemble", {**tree_context(form), "next": None})]
    if chain_units(form)[0] < 2:
        _no_cuts(form, cuts)
    bounds = [0, *cuts, n]
    if any(a >= b for a, b in zip(bounds, bounds[1:])):
        raise ValueError(f"cuts {cuts} do not split {n} trees into non-empty groups")
    if topology == Topology.COMMITMENTS:
        return _linked_tree_plans(form, name, bounds)
    names = [name] + [suffixed(name, f"_p{c}") for c in cuts]
    # What link i returns (and its caller reads): the partial scores from cuts[i - 1] on.
    carried = {c: form.suffix_type(c) for c in cuts}
    plans = []
    for i in reversed(range(len(names))):  # dependencies first: the last link first
        last = i == len(names) - 1
        nxt = None
        if not last:
            t, off = carried[bounds[i + 1]]
            nxt = {"program": f"{names[i + 1]}.aleo", "type": t.name, "offset": off}
        context = tree_context(form, list(range(bounds[i], bounds[i + 1])), partial=i > 0)
        context.update(next=nxt, first_tree=bounds[i], last_tree=bounds[i + 1] - 1)
        if i > 0:
            t, off = carried[bounds[i]]
            context.update(acc_type=t.name, acc_offset=off)
        template = "tree_ensemble" if i == 0 else "tree_ensemble_link"
        plans.append(ProgramPlan(names[i], template, context, imports=() if last else (names[i + 1],)))
    return plans


def linked_names(name: str, bounds: list[int]) -> list[str]:
    """Program names of a chain linked by commitments, in link order: each link but the
    last is named after its first and last unit (its source depends on both), the last
    (which outputs the prediction) is the main program `<name>`."""
    return [suffixed(name, f"_c{a}_{b - 1}") for a, b in zip(bounds[:-2], bounds[1:-1])] + [name]


# Leo's limit on a program name (without .aleo).
MAX_PROGRAM_NAME = 31


def suffixed(name: str, suffix: str) -> str:
    """`name` + `suffix`, the name cut short (never the suffix, which makes it unique among
    the model's programs) to stay within Leo's 31 characters."""
    return name[: MAX_PROGRAM_NAME - len(suffix)].rstrip("_") + suffix


def _linked_tree_plans(form: TreeForm, name: str, bounds: list[int]) -> list[ProgramPlan]:
    """Separate programs linked by commitments (tree_ensemble_linked.leo.j2), in tree
    order; each carries on the partial scores of every tree before its end."""
    names = linked_names(name, bounds)

    def carry(end: int) -> dict[str, Any]:
        """The partial scores of trees [0, end): their type, offset and handoff struct."""
        t, off = form.partial_type(0, end)
        return {"type": f"[{t.name}; {form.n_outputs}]", "element": t.name, "offset": off,
                "struct": f"Scores{t.name.upper()}x{form.n_outputs}"}

    plans = []
    for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
        last = i == len(names) - 1
        context = tree_context(form, list(range(a, b)), partial=not last)
        context.update(
            first_tree=a, last_tree=b - 1,
            carry_in=carry(a) if i > 0 else None,
            carry_out=None if last else carry(b),
        )
        plans.append(ProgramPlan(names[i], "tree_ensemble_linked", context))
    return plans


def _linked_linear_plans(form: DenseForm, name: str, bounds: list[int]) -> list[ProgramPlan]:
    """Separate programs linked by commitments (linear_linked.leo.j2), each reading the
    features [a, b) of its range; each carries on every output's partial dot product."""
    if any(a >= b for a, b in zip(bounds, bounds[1:])):
        raise ValueError(f"cuts {bounds[1:-1]} do not split {bounds[-1]} features into non-empty ranges")
    names = linked_names(name, bounds)
    layer = form.layers[0]
    assert isinstance(layer, IntLayer)

    def carry(end: int) -> dict[str, Any]:
        t, off = feature_partial_type(form, end)
        return {"type": f"[{t.name}; {form.n_outputs}]", "element": t.name, "offset": off,
                "struct": f"Sums{t.name.upper()}x{form.n_outputs}"}

    plans = []
    for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
        last = i == len(names) - 1
        terms = [[(int(w), j) for j, w in enumerate(layer.weight[k]) if a <= j < b and w != 0]
                 for k in range(form.n_outputs)]
        context: dict[str, Any] = {
            **_head_context(form), "first_feature": a, "last_feature": b - 1, "n_slice": b - a,
            "slice": [(j, j - a) for j in range(a, b)], "terms": terms,
            "carry_in": carry(a) if i > 0 else None, "carry_out": None if last else carry(b),
        }
        if last:
            out = layer_context(form, 1)
            for neuron in out["neurons"]:
                bias = int(neuron["bias"])
                neuron["z"] = f"p_{neuron['i']} {'-' if bias < 0 else '+'} {abs(bias)}field"
            context["layer"] = out
        plans.append(ProgramPlan(names[i], "linear_linked", context))
    return plans


def _no_cuts(form: Form, cuts: tuple[int, ...]) -> None:
    if cuts:
        raise ValueError(f"a {type(form).__name__} cannot be split across transitions")


# -- trees ------------------------------------------------------------------------------------
def _tree_context(form: TreeForm, i: int, shared: dict[tuple[int, int], str]) -> dict[str, Any]:
    """One tree's comparisons and field selections, constant parts folded.

    `shared` maps (feature, threshold) to the name of a comparison already emitted by an
    earlier tree (boosted trees often repeat a split), so it is computed once.
    """
    t, thr, v = form.trees[i], form.thresholds[i], form.values[i]
    selects: list[dict[str, Any]] = []
    comparisons: list[dict[str, Any]] = []

    def cond(n: int) -> str:
        key = (int(t.feature[n]), int(thr[n]))
        if key not in shared:
            shared[key] = f"c{i}_{n}"
            comparisons.append(
                {
                    "name": shared[key],
                    "feature": key[0],
                    "threshold": key[1],
                    # The float split, for the reader: the integer test is always `<=`.
                    "split": f"{'<' if t.strict else '<='} {float(t.threshold[n]):.6g}",
                }
            )
        return shared[key]

    def ref(n: int, k: int) -> str:
        if t.is_leaf(n):
            return f"{int(v[n, k])}field"
        a, b = ref(int(t.left[n]), k), ref(int(t.right[n]), k)
        if a == b:  # both subtrees give the same constant: no selection needed
            return a
        name = f"t{i}_n{n}_k{k}"
        selects.append({"name": name, "cond": cond(n), "left": a, "right": b})
        return name

    outputs = [ref(0, k) for k in range(form.n_outputs)]
    return {"index": i, "comparisons": comparisons, "selects": selects, "outputs": outputs}


def _scores_context(form: TreeForm, trees: list[dict[str, Any]], bias: bool) -> list[dict[str, Any]]:
    """Per output: the field expression of its score (variables + one folded constant)."""
    scores = []
    for k in range(form.n_outputs):
        const = int(form.bias[k]) if bias else 0
        terms = []
        for tc in trees:
            r = tc["outputs"][k]
            if r.endswith("field") and not r.startswith("t"):
                const += int(r.removesuffix("field"))
            else:
                terms.append(r)
        scores.append({"terms": terms, "const": const})
    return scores


def _leaf_nodes(form: TreeForm) -> tuple[list[dict[str, Any]], str]:
    """A single classifier tree (LEAF): each internal node selects between its children's
    class indices in the output type, children before parents (descending ids); and the
    root's value."""
    t, thr = form.trees[0], form.thresholds[0]
    out = form.io.output_type.name

    def ref(n: int) -> str:
        return f"{int(form.values[0][n, 0])}{out}" if t.is_leaf(n) else f"n{n}"

    nodes = [
        {
            "id": n,
            "feature": int(t.feature[n]),
            "threshold": int(thr[n]),
            "threshold_float": f"{t.threshold[n]:.6g}",
            "left": ref(int(t.left[n])),
            "right": ref(int(t.right[n])),
        }
        for n in sorted(t.internal_nodes, reverse=True)
    ]
    return nodes, ref(0)


def tree_context(form: TreeForm, trees: list[int] | None = None, partial: bool = False) -> dict[str, Any]:
    """Template variables for the given trees (default: all), complete or as a link's share."""
    if form.head == TreeHead.LEAF:
        nodes, root = _leaf_nodes(form)
        return {
            "head": str(form.head), "nodes": nodes, "root": root, "n_classes": form.n_classes,
            "n_trees": 1, "trees": [], "scores": [], "n_outputs": 1, "score_type": "", "offset": 0,
            "value_bits": 0, "strict": form.trees[0].strict,
        }
    idx = list(range(len(form.trees))) if trees is None else trees
    shared: dict[tuple[int, int], str] = {}
    tree_ctx = [_tree_context(form, i, shared) for i in idx]
    return {
        "head": str(form.head),
        "trees": tree_ctx,
        "scores": _scores_context(form, tree_ctx, bias=not partial),
        "n_outputs": form.n_outputs,
        "score_type": form.score_type.name if form.score_type else "field",
        "offset": form.offset,
        "value_bits": form.value_bits,
        "n_trees": len(form.trees),
        "strict": any(t.strict for t in form.trees),
    }


# -- dense layers -----------------------------------------------------------------------------
def _max_pool_context(layer: IntMaxPool, n: int) -> dict[str, Any]:
    """A max pool: for each output, its inputs and the comparison's width (see IntMaxPool)."""
    outputs = []
    for i, (group, bits) in enumerate(zip(layer.groups, layer.bits)):
        b = int(bits)
        outputs.append(
            {
                "i": i,
                "inputs": list(group),
                "bits": b,
                "room": (1 << b) - 1,  # a - m + room >= 2^b exactly when a > m
                "diff_type": narrowest_int(0, (1 << (b + 1)) - 2, signed=False).name,
            }
        )
    return {"kind": "maxpool", "n": n, "n_in": 1 + max(max(g) for g in layer.groups), "outputs": outputs}


def layer_context(form: DenseForm, n: int) -> dict[str, Any]:
    """Template variables of layer n (1-based): its neurons' weights, bias and offset form,
    or a max pool's groups."""
    f = form.io.fractional_bits
    layer = form.layers[n - 1]
    if isinstance(layer, IntMaxPool):
        return _max_pool_context(layer, n)
    neurons = []
    for i in range(layer.weight.shape[0]):
        bits = int(layer.bits[i])
        neurons.append(
            {
                "i": i,
                # Zero weights are left out: the product would be a free 0 anyway.
                "terms": [(int(w), j) for j, w in enumerate(layer.weight[i]) if w != 0],
                "bias": int(layer.bias[i]),
                "bits": bits,
                "half": (1 << (bits - 1)) if bits else 0,
                "post": (1 << (bits - 1 - f)) if bits else 0,
                "dead": layer.relu and bits == 0,
                "z_low": int(layer.z_low[i]),
                "z_high": int(layer.z_high[i]),
            }
        )
    return {
        "kind": "dense",
        "n": n,
        "relu": layer.relu,
        "requantize": layer.requantize,
        "n_in": int(layer.weight.shape[1]),
        "neurons": neurons,
    }


def dense_context(form: DenseForm) -> dict[str, Any]:
    """Template variables of `linear.leo.j2`: every layer and the head."""
    layers = [layer_context(form, n) for n in range(1, len(form.layers) + 1)]
    return {**_head_context(form), "layers": layers}


def _head_context(form: DenseForm) -> dict[str, Any]:
    """The network's template variables other than its layers: the head and the encoding."""
    f = form.io.fractional_bits
    return {
        "kind": form.kind,
        "last": len(form.layers),
        "head": str(form.head),
        "head_bits": form.head_bits,
        "head_half": 1 << (form.head_bits - 1),
        "input_offset": form.input_offset,
        "output_offset": form.output_offset,
        "n_outputs": form.n_outputs,
        "n_classes": form.n_classes,
        "output_fractional_bits": 2 * f,
        "argmax": _argmax_context(form),
        # The sign head may test z >= 1 as bit H-1 of z - 1 + 2^(H-1) when that never goes
        # below 0 over the proven range of z (else it compares the offset score).
        "sign_by_bit": str(form.head) == "sign" and not isinstance(form.layers[-1], IntMaxPool)
        and int(form.layers[-1].z_low[0]) - 1 + (1 << (form.head_bits - 1)) >= 0,
    }


def _argmax_context(form: DenseForm) -> dict[str, Any] | None:
    """The argmax head's comparison width: c = bit b of z_k - best + 2^b - 1 is z_k > best
    when every difference of two scores lies in (-2^b, 2^b) (the proven bounds of the
    output layer), so one cast per comparison, into the narrowest unsigned type holding
    2^(b+1) - 2, is the range check (as a max pool, `_max_pool_context`)."""
    last = form.layers[-1]
    if str(form.head) != "argmax" or isinstance(last, IntMaxPool):
        return None
    span = int(max(last.z_high)) - int(min(last.z_low))
    b = max(1, span.bit_length())
    return {"bits": b, "room": (1 << b) - 1, "diff_type": narrowest_int(0, (1 << (b + 1)) - 2, signed=False).name}


# Every private input of a transition costs about 1,250 constraints of its own and each
# element about one per bit plus 3 (docs/cost-model.md): the carry's narrower values are
# widened into the next wider array while that adds fewer bits than an input costs.
MERGE_BITS = 400


def _carry_arrays(values: tuple[Carried, ...]) -> tuple[list[dict[str, Any]], dict[tuple[str, int, int], str],
                                                         dict[tuple[str, int, int], str]]:
    """The carry's arrays (narrowest type first), where each value sits, and the type it
    travels as (its own, or a wider one it was merged into)."""
    groups = [[t, [v for v in values if v.type == t]] for t in sorted({v.type for v in values}, key=lambda t: t.bits)]
    merged: list[list[Any]] = []
    for group in groups:
        if merged and len(merged[-1][1]) * (group[0].bits - merged[-1][0].bits) < MERGE_BITS:
            merged[-1] = [group[0], merged[-1][1] + group[1]]
        else:
            merged.append(group)
    arrays: list[dict[str, Any]] = []
    where: dict[tuple[str, int, int], str] = {}
    types: dict[tuple[str, int, int], str] = {}
    for t, members in merged:
        name = f"c_{t.name}"
        arrays.append({"name": name, "type": t.name, "length": len(members), "members": members})
        where.update({v.key: f"{name}[{k}u32]" for k, v in enumerate(members)})
        types.update({v.key: t.name for v in members})
    return arrays, where, types


def _shifted(element: str, low: int) -> str:
    """The field value of a carried integer: element + low."""
    sign = "-" if low < 0 else "+"
    return f"({element} as field)" + (f" {sign} {abs(low)}field" if low else "")


def dense_chain_context(form: DenseForm, start: int, end: int, next_program: str | None) -> dict[str, Any]:
    """Template variables of `dense_chain.leo.j2`: the program of a chain computing units
    [start, end) and, unless it is the last, calling `next_program` with the carry at `end`.

    It receives the carry at `start` (the main program, start 0, the features), defines
    the received values its units read, computes its units with the macros of
    `linear.leo.j2` (shared in `_dense.leo.j2`: the same arithmetic; a neuron whose
    pre-activation was accumulated gets it as `z`), adds its terms to the partial sums
    of the next layer where the chain accumulates, and sends the carry at `end`: values
    received are passed on as they came, values made here are cast once to their type.
    """
    last = len(form.layers)
    widths = layer_widths(form)
    starts = layer_starts(form)
    received = carry_at(form, start) if start else ()
    arrays_in, where_in, types_in = _carry_arrays(received)
    by_key = {v.key: v for v in received}
    argmax = form.head == DenseHead.ARGMAX
    definitions: list[dict[str, Any]] = []
    defined: set[tuple[str, int, int]] = set()
    carried_scores: list[int] = []

    def use(kind: str, n: int, j: int) -> None:
        """Define a received value (or a dead neuron's 0) that this program reads."""
        key = (kind, n, j)
        if key in defined or (kind == FEATURE and not start):
            return  # the main program defines every feature from its input
        defined.add(key)
        if key in where_in:
            v = by_key[key]
            if kind == SCORE and argmax:  # the argmax compares the offset forms themselves
                value = where_in[key] if types_in[key] == v.type.name else f"{where_in[key]} as {v.type.name}"
                definitions.append({"var": f"s{j}", "type": v.type.name, "value": value})
            else:  # (a sign or regression head reads its single output's z)
                var = f"z{n}_{j}" if kind == SCORE else f"a{n}_{j}"
                definitions.append({"var": var, "type": "field", "value": _shifted(where_in[key], v.low)})
        elif kind == ACTIVATION and is_dead(form.layers[n - 1], j):
            definitions.append({"var": f"a{n}_{j}", "type": "field", "value": "0field"})
        else:  # carry_at leaves out only what no later unit reads
            raise AssertionError(f"units {start}.. read {kind} {j} of layer {n}, which the carry at {start} lacks")

    steps: list[dict[str, Any]] = []
    computed: set[tuple[int, int]] = set()
    for n in range(1, last + 1):
        lo, hi = max(start - starts[n - 1], 0), min(end - starts[n - 1], widths[n - 1])
        if lo >= hi:
            continue
        layer = form.layers[n - 1]
        ctx = layer_context(form, n)
        key = "outputs" if ctx["kind"] == "maxpool" else "neurons"
        items = ctx[key][lo:hi]
        if n >= 2 and accumulates(form, n - 1):
            # Pre-activations arrive complete: from the carry, or summed in this program.
            kept = []
            for nd in items:
                j = nd["i"]
                if nd["dead"]:
                    kept.append(nd)
                elif n == last and (SCORE, n, j) in where_in:
                    use(SCORE, n, j)  # complete: in the head's offset form
                    carried_scores.append(j)
                elif (PRE, n, j) in where_in:
                    kept.append({**nd, "z": _shifted(where_in[PRE, n, j], by_key[PRE, n, j].low)})
                else:
                    kept.append({**nd, "z": f"p{n}_{j}"})
            items = kept
        else:
            prev = ACTIVATION if n > 1 else FEATURE
            for i in range(lo, hi):
                reads = list(layer.groups[i]) if isinstance(layer, IntMaxPool) else (
                    [] if is_dead(layer, i) else [int(j) for j in np.flatnonzero(layer.weight[i])])
                for j in reads:
                    if (n - 1, j) not in computed:
                        use(prev, n - 1, j)
        ctx[key] = items
        ctx.update(first=lo, stop=hi, width=widths[n - 1])
        if items:  # (none when every score of these outputs arrived in the carry)
            steps.append({"layer": ctx})
        computed.update((n, i) for i in range(lo, hi))
        if n < last and accumulates(form, n):
            # This program's terms of layer n + 1's pre-activations, onto the partial sums.
            nxt = form.layers[n]
            sums = []
            for k in range(len(nxt.bias)):
                if is_dead(nxt, k):
                    continue
                if lo:
                    v = by_key[PARTIAL, n + 1, k]
                    text = _shifted(where_in[PARTIAL, n + 1, k], v.low)
                else:
                    text = f"{int(nxt.bias[k])}field"
                for j in range(lo, hi):
                    w = int(nxt.weight[k, j])
                    if w and not is_dead(layer, j):
                        text += f" + {w}field * a{n}_{j}"
                sums.append({"var": f"p{n + 1}_{k}", "value": text})
            steps.append({"sums": sums, "n": n + 1, "complete": hi == widths[n - 1]})
    is_last = next_program is None
    if is_last:  # the head reads every score: the finished ones arrive in the carry
        for k in range(form.n_outputs):
            if (SCORE, last, k) in where_in:
                use(SCORE, last, k)
                carried_scores.append(k)
            elif (last, k) not in computed:
                raise AssertionError("the last program of a chain must finish the output layer")
    out = None
    if not is_last:
        sent = carry_at(form, end)
        arrays_out, where_out, types_out = _carry_arrays(sent)
        casts: list[dict[str, Any]] = []
        elements: dict[str, list[str]] = {a["name"]: [] for a in arrays_out}
        for v in (v for a in arrays_out for v in a["members"]):  # in the order of the arrays' elements
            name = where_out[v.key].partition("[")[0]
            if v.key in where_in and v.kind != PARTIAL:
                element = where_in[v.key]  # passed on as received (in another array type if merged otherwise)
                elements[name].append(element if types_in[v.key] == types_out[v.key]
                                      else f"{element} as {types_out[v.key]}")
                continue
            if v.kind == FEATURE:
                element = f"x[{v.index}u32]"
                elements[name].append(element if v.type.name == types_out[v.key] else f"{element} as {types_out[v.key]}")
                continue
            if v.kind == ACTIVATION:
                src = f"a{v.layer}_{v.index}"
            elif v.kind == SCORE:
                src = f"z{v.layer}_{v.index}" if (v.layer, v.index) in computed else f"p{v.layer}_{v.index}"
            else:  # PRE, PARTIAL: the sums made in this program
                src = f"p{v.layer}_{v.index}"
            var = f"o{v.kind}{v.layer}_{v.index}"
            casts.append({"var": var, "type": types_out[v.key], "value": src + (
                f" + {-v.low}field" if v.low < 0 else f" - {v.low}field" if v.low else "")})
            elements[name].append(var)
        for a in arrays_out:
            a["elements"] = elements[a["name"]]
        out = {"program": next_program, "arrays": arrays_out, "casts": casts}
    return {
        **_head_context(form),
        "steps": steps,
        "first_unit": start,
        "end_unit": end,
        "units": starts[-1],
        "carry_in": arrays_in,
        "definitions": definitions,
        "carried_scores": sorted(set(carried_scores)) if argmax else [],
        "next": out,
    }


# -- distances --------------------------------------------------------------------------------
def linear_field_expressions(scores: LinearScores, var: str = "xf") -> list[str]:
    """One field expression per point, e.g. `12field - 4field * xf0 + 2field * xf1`."""
    out = []
    for c, a in zip(scores.const, scores.coef):
        text = f"{c}field"
        for j, aj in enumerate(a):
            if aj > 0:
                text += f" + {aj}field * {var}{j}"
            elif aj < 0:
                text += f" - {-aj}field * {var}{j}"
        out.append(text)
    return out


def _score_context(scores: LinearScores) -> dict[str, Any]:
    return {
        "score_type": scores.score_type.name,
        "score_high": scores.high,
        "score_exprs": linear_field_expressions(scores),
    }


def stored_rows_context(
    form: StoredRowsForm, start: int = 0, stop: int | None = None, carried: bool = False
) -> dict[str, Any]:
    """Template variables of `knn.leo.j2` for stored rows [start, stop) (default: all).

    `carried`: the k slots after the rows before `start` are received (a link of a split
    model), so rows are numbered from 1 (0 is what was received) and every slot is active.
    """
    stop = len(form.labels) if stop is None else stop
    ctx = _score_context(form.scores)
    exprs = ctx["score_exprs"][start:stop]
    ctx["score_exprs"] = exprs
    first = 1 if carried else 0
    rows = [
        {
            "i": i, "r": i - start + first, "label": form.labels[i], "score": exprs[i - start],
            "active": form.k if carried else min(i - start, form.k),
        }
        for i in range(start, stop)
    ]
    return {
        **ctx,
        "rows": rows,
        "last": stop - start - 1 + first,
        "k": form.k,
        "n_stored": stop - start,
        "n_classes": form.n_classes,
        "count_type": form.count_type.name,
        "score_bits": form.score_bits,
        "diff_type": form.diff_type.name,
        "spans": list(form.spans),
    }
