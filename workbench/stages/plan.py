"""The plan stage: how many rows one execution evaluates, and whether the model is split.

Everything here works from the compiled programs' constraint estimates (the programs the
experiment's `[zk] compiler` builds, see `stages/estimate.py`, and workbench/snarkvm/costs.py),
before any key is synthesized:

- A model whose single program does not fit the budget (`PlanRequest.budget`: that of the
  setup planned against, `limits.planning_budget(request.degree)`, unless re-planned) is
  split when its form can be (`stages/chain.py`), one row per execution: into a chain of
  calls, or into links by commitments (`[zk] topology`; "auto" takes the one with fewer
  transitions among those the form allows, `contexts.split_topologies`).
- `batch = "auto"` takes the largest batch (at most `max_batch` and the rows executed)
  whose estimated circuit fits the budget.
- Anything else that does not fit is refused with its estimate, the limit, what to shrink and
  the larger setup that would hold it (its files, and how to install them).

The setup bounds every size of a circuit, not only its constraints: variables, and the
non-zero entries of each R1CS matrix (long linear combinations add non-zeros, not
constraints). A program fits when none of its six estimated sizes (`Estimator.shape`) is
over `limits.planning_limits(request.degree, request.budget)`: the setup's limits, the
constraint maximum lowered to the measured budget, and every size lowered by the same
fraction after a refusal. The estimate can
still be a little under the key, so a plan estimated to fit can be refused at key
synthesis; `shrink` then gives the request for a smaller plan, made from the same
quantized model.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from workbench.algorithms.base import QuantizedModel
from workbench.errors import WorkbenchError
from workbench.kinds import Topology
from workbench.leo import generate
from workbench.algorithms.forms import Form
from workbench.leo.contexts import chain_units, first_link_units, split_topologies
from workbench.limits import (
    FIXED_TRANSITION_COST,
    SRS_DEGREE,
    CircuitShape,
    Quantity,
    SetupLimits,
    planning_budget,
    planning_limits,
    setup_limits,
)
from workbench.prover import FunctionKey
from workbench.snarkvm.errors import CircuitTooLarge
from workbench.snarkvm.setup_files import larger_setup_advice
from workbench.stages.build import input_packing
from workbench.stages.chain import choose_cuts, choose_links
from workbench.stages.estimate import Estimator
from workbench.stages.fit_advice import what_would_fit
from workbench.stages.records import Plan, PlanRequest

# A chain refused at key synthesis is planned again for a budget this much smaller, down
# to CHAIN_BUDGET_FLOOR of the offline budget (then the refusal is reported); an auto batch
# refused is planned again with three quarters of it.
CHAIN_BUDGET_STEP = 0.03
CHAIN_BUDGET_FLOOR = 0.85
AUTO_BATCH_SHRINK = 0.75

SHRINK_ADVICE = (
    "shrink the model: fewer trees, nodes or depth, fewer hidden units, fewer stored rows or features, "
    "fewer fractional bits"
)


def model_size(model: QuantizedModel) -> str:
    """The model's sizes, for messages about what does not fit."""
    size = ", ".join(f"{k} {v}" for k, v in model.describe().items() if isinstance(v, (int, str)) and k != "rounding")
    return f"The model: {size}; {model.form.io.n_features} input features."


def estimate_programs(programs: list[generate.LeoProgram], estimator: Estimator | None = None) -> dict[FunctionKey, int]:
    """Every function's estimated constraints (see `estimate_program_shapes`)."""
    return _constraints(estimate_program_shapes(programs, estimator))


def estimate_program_shapes(
    programs: list[generate.LeoProgram], estimator: Estimator | None = None
) -> dict[FunctionKey, CircuitShape]:
    """Every function's six estimated sizes, each program compiled (by `estimator`'s
    toolchain, the built-in compiler by default) after the programs before it."""
    own = estimator is None
    estimator = estimator if estimator is not None else Estimator("workbench")
    try:
        shapes: dict[FunctionKey, CircuitShape] = {}
        for i, p in enumerate(programs):  # dependencies first
            for function, shape in estimator.shape(p, programs[:i]).items():
                shapes[(p.program_id, function)] = shape
        return shapes
    finally:
        if own:
            estimator.close()


def fits(shapes: dict[FunctionKey, CircuitShape], limits: SetupLimits) -> bool:
    """Whether every function's estimated sizes are within `limits`."""
    return all(not limits.over(s) for s in shapes.values())


def check_fits(
    shapes: dict[FunctionKey, CircuitShape], model: QuantizedModel, batch: int, limits: SetupLimits,
    downloads: bool = False,
) -> None:
    """Refuse, before key synthesis, a circuit any of whose estimated sizes exceeds its limit;
    the message names the binding size (the one furthest over), its estimate and the limit,
    and (constraints) the larger setup that would hold it and its files (`downloads`: whether
    snarkVM may fetch them)."""
    over = [(v / m, key, q, v, m) for key, s in shapes.items() for q, v, m in limits.over(s)]
    if not over:
        return
    _, (program, function), quantity, n, limit = max(over, key=lambda o: (o[0], o[3]))
    where = f"the {'offline ' if limits.degree == SRS_DEGREE else ''}setup (degree 2^{limits.degree})"
    advice = "lower [zk] batch, or " if batch > 1 else ""
    if quantity == Quantity.CONSTRAINTS:
        rule = setup_limits(limits.degree).constraints
        bound = (
            f"{where} proves at most about {limit:,} per transition (planned with a margin below its {rule:,}), "
            f"of which about {FIXED_TRANSITION_COST:,} are the fixed cost of any transition"
        )
    else:
        bound = f"{where} allows at most {limit:,} per transition"
    larger = larger_setup_advice(shapes[(program, function)], limits.degree, downloads)
    room = what_would_fit(model.form, shapes[(program, function)], limits) if batch == 1 else ""
    raise CircuitTooLarge(
        f"{program}/{function} is estimated at {n:,} {quantity}; {bound}. To fit, {advice}{SHRINK_ADVICE}."
        f"{' ' + room if room else ''}{' ' + larger if larger else ''}\n{model_size(model)}"
    )


def _renderer(model: QuantizedModel, request: PlanRequest) -> Callable[..., list[generate.LeoProgram]]:
    spec = request.program

    def render(batch: int, cuts: tuple[int, ...] = (), topology: Topology = Topology.CALL) -> list[generate.LeoProgram]:
        return generate.render(
            model, spec.name, spec.experiment, spec.description, spec.inputs, spec.output,
            batch=batch, cuts=cuts, scores=spec.scores, topology=topology,
            packing=input_packing(model, batch, cuts, spec.inputs, spec.tree_inputs), tree_inputs=spec.tree_inputs,
        )

    return render


def _auto_batch(render: Callable[[int], list[generate.LeoProgram]], cap: int, limits: SetupLimits,
                estimator: Estimator) -> int:
    """The largest batch in 1..cap whose estimated circuit fits every limit."""

    def fits_at(k: int) -> bool:
        try:
            return fits(estimate_program_shapes(render(k), estimator), limits)
        except WorkbenchError:  # LeoCompileError, or `leo build` failing
            if k == 1:
                raise
            # Batch k repeats batch 1's code, which compiled: what fails is a size limit
            # (instructions per function), so k does not fit.
            return False

    cap = max(1, cap)
    if not fits_at(1):
        return 1  # check_fits reports the model as too large with its estimate
    # The estimate grows with the batch. Gallop up from 1 (small programs first: a model
    # near the budget is settled by compiling batch 2), then bisect the last step.
    lo, step = 1, 2
    while step <= cap and fits_at(step):
        lo, step = step, step * 2
    hi = min(step, cap + 1) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if fits_at(mid) else (lo, mid - 1)
    return lo


def plan(model: QuantizedModel, request: PlanRequest) -> Plan:
    """Decide the batch and the chain cuts for a quantized model (see the module docstring).

    Every candidate is compiled with `request.compiler` (the experiment's `[zk] compiler`),
    so the plan is made from the programs the compile stage will build. Raises
    CircuitTooLarge, with the estimate and what to shrink, when nothing fits.
    """
    with Estimator(request.compiler) as estimator:
        return _plan(model, request, estimator)


def _plan(model: QuantizedModel, request: PlanRequest, estimator: Estimator) -> Plan:
    render = _renderer(model, request)
    limits = planning_limits(request.degree, request.budget)
    units, unit = chain_units(model.form)
    # Threshold bits are one program's input: such a model is not split.
    if units >= 2 and request.program.tree_inputs != "thresholds":
        split = _split(model.form, render, units, unit, request, limits, estimator)
        if isinstance(split, CircuitTooLarge):
            # A larger setup may hold the whole model in one transition: say which, and its files.
            whole = max(estimate_program_shapes(render(1), estimator).values(), key=lambda sh: sh.constraints)
            single = whole.constraints
            larger = larger_setup_advice(whole, request.degree, request.downloads)
            room = what_would_fit(model.form, whole, limits)
            raise CircuitTooLarge(
                f"{split}; in one transition the model is estimated at {single:,} constraints, and the "
                f"degree-2^{request.degree} setup planned against proves at most about {request.budget:,}. "
                f"To fit, {SHRINK_ADVICE}.{' ' + room if room else ''}{' ' + larger if larger else ''}"
                f"\n{model_size(model)}"
            ) from None
        cuts, topology = split
        if cuts:
            shapes = estimate_program_shapes(render(1, cuts, topology), estimator)
            check_fits(shapes, model, 1, limits, request.downloads)
            return Plan(request, 1, cuts, units, unit, _constraints(shapes), topology)
    if isinstance(request.batch, int):
        batch = request.batch
    else:
        batch = _auto_batch(lambda k: render(k), min(request.rows, request.max_batch), limits, estimator)
    shapes = estimate_program_shapes(render(batch), estimator)
    try:
        check_fits(shapes, model, batch, limits, request.downloads)
    except CircuitTooLarge as exc:
        if units >= 2 and request.program.tree_inputs == "thresholds":
            raise CircuitTooLarge(
                f"{exc}\nThreshold bits are one program's input, so this model is not split; with "
                f'[zk] tree_inputs = "features" it can be split across transitions.'
            ) from None
        raise
    return Plan(request, batch, (), units, unit, _constraints(shapes))


def _constraints(shapes: dict[FunctionKey, CircuitShape]) -> dict[FunctionKey, int]:
    return {key: shape.constraints for key, shape in shapes.items()}


def _split(
    form: Form, render: Callable[..., list[generate.LeoProgram]], units: int, unit: str, request: PlanRequest,
    limits: SetupLimits, estimator: Estimator,
) -> tuple[tuple[int, ...], Topology] | CircuitTooLarge:
    """Where to cut the model and how to link the pieces: ((), CALL) when one program fits.

    With `[zk] topology = "auto"` both topologies are planned and the one with fewer
    transitions wins (each transition costs about the same to prove, docs/algorithms.md),
    a tie going to calls (one execution, one proof, atomic). Links by commitments have no
    31-transition cap and no call cost, so they also take what a chain of calls cannot
    hold. A chain that outputs the score vector must be one of calls. Returns the
    refusal of the last topology tried when none fits.
    """
    possible = split_topologies(form)
    allowed = list(possible) if request.topology == "auto" else [Topology(request.topology)]
    if request.program.scores and Topology.COMMITMENTS in allowed:
        allowed.remove(Topology.COMMITMENTS)
    if not allowed or any(t not in possible for t in allowed):
        if fits(estimate_program_shapes(render(1), estimator), limits):
            return (), Topology.CALL  # nothing to split
        ways = ' or '.join('links by commitments' if t == Topology.COMMITMENTS else 'a chain of calls' for t in possible)
        asked = (f'[zk] topology = "{request.topology}" was asked, but ' if request.topology != "auto" else "")
        fix = (f'; set [zk] topology = "auto" (or "{possible[0]}")' if request.topology != "auto" and not
               request.program.scores else "")
        return CircuitTooLarge(
            f"the model does not fit one transition; {asked}a model split by {unit} splits only into {ways}"
            + (" (which output no score vector: remove [zk] scores)" if request.program.scores else "") + fix
        )
    found: list[tuple[tuple[int, ...], Topology]] = []
    refusal: CircuitTooLarge | None = None
    for topology in allowed:
        try:
            if topology == Topology.CALL:
                cuts = choose_cuts(lambda c: render(1, c), units, request.budget, unit, estimator=estimator,
                                   degree=request.degree)
            else:
                cuts = choose_links(lambda c: render(1, c, Topology.COMMITMENTS), units, request.budget, unit, estimator,
                                    first_link_units(form), request.degree)
        except CircuitTooLarge as exc:
            refusal = exc
            continue
        if not cuts:
            return (), Topology.CALL
        found.append((cuts, topology))
    if not found:
        assert refusal is not None  # every allowed topology was tried and refused
        return refusal
    return min(found, key=lambda f: (len(f[0]), f[1] != Topology.CALL))


def shrink(plan: Plan, refusal: CircuitTooLarge, model: QuantizedModel) -> PlanRequest:
    """The request for a smaller plan after the setup refused `plan` at key synthesis.

    An auto batch is planned again with AUTO_BATCH_SHRINK of it; a model that can be split
    (a chain, or one program of a splittable form) for CHAIN_BUDGET_STEP less per
    transition, down to CHAIN_BUDGET_FLOOR of the offline budget, so that a program the
    setup refuses becomes a chain. Raises the refusal, with the model's sizes, when nothing
    smaller is left to try.
    """
    request = plan.request
    if request.batch == "auto" and plan.batch > 1:
        return replace(request, max_batch=max(1, int(plan.batch * AUTO_BATCH_SHRINK)))
    if plan.units >= 2 and plan.batch == 1:
        # Step down from what the plan was held to: a budget above the setup's own
        # constraint maximum was planned at that maximum.
        budget = int(min(request.budget, planning_budget(request.degree)) * (1 - CHAIN_BUDGET_STEP))
        if budget >= planning_budget(request.degree) * CHAIN_BUDGET_FLOOR:
            return replace(request, budget=budget)
    raise CircuitTooLarge(f"{refusal}\n{model_size(model)}") from None
