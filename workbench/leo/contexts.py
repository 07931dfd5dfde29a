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

from workbench.algorithms.forms import (
    CentroidsForm,
    DenseForm,
    DenseHead,
    Form,
    IntMaxPool,
    LinearScores,
    StoredRowsForm,
    TreeForm,
    TreeHead,
)
from workbench.kinds import Topology
from workbench.leo.carries import slot_type
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
    _no_cuts(form, cuts)
    return [ProgramPlan(name, "linear", dense_context(form))]


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
    names = [name] + [f"{name}_p{c}" for c in cuts]
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
    return [f"{name}_c{a}_{b - 1}" for a, b in zip(bounds[:-2], bounds[1:-1])] + [name]


def _linked_tree_plans(form: TreeForm, name: str, bounds: list[int]) -> list[ProgramPlan]:
    """Separate programs linked by commitments (tree_ensemble_linked.leo.j2), in tree
    order; each carries on the partial scores of every tree before its end."""
    names = linked_names(name, bounds)
    plans = []
    for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
        last = i == len(names) - 1
        context = tree_context(form, list(range(a, b)), partial=not last)

        def carry(end: int) -> dict[str, Any]:
            t, off = form.partial_type(0, end)
            return {"type": f"[{t.name}; {form.n_outputs}]", "element": t.name, "offset": off,
                    "struct": f"Scores{t.name.upper()}x{form.n_outputs}"}

        context.update(
            first_tree=a, last_tree=b - 1,
            carry_in=carry(a) if i > 0 else None,
            carry_out=None if last else carry(b),
        )
        plans.append(ProgramPlan(names[i], "tree_ensemble_linked", context))
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
    f = form.io.fractional_bits
    layers = [layer_context(form, n) for n in range(1, len(form.layers) + 1)]
    return {
        "kind": form.kind,
        "layers": layers,
        "last": len(layers),
        "head": str(form.head),
        "head_bits": form.head_bits,
        "head_half": 1 << (form.head_bits - 1),
        "input_offset": form.input_offset,
        "output_offset": form.output_offset,
        "n_outputs": form.n_outputs,
        "n_classes": form.n_classes,
        "output_fractional_bits": 2 * f,
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
