"""The planner checks every size the setup bounds, not only constraints (no snarkVM)."""

from __future__ import annotations

import importlib
from dataclasses import replace

import pytest
from support import EXPERIMENTS


from workbench.experiment import load_experiment
from workbench.limits import OFFLINE_BUDGET, CircuitShape, Quantity, setup_limits
from workbench.pipeline import StageClock, prepare
from workbench.snarkvm.errors import CircuitTooLarge
from workbench.stages.estimate import Estimator

# The module (`workbench.stages.plan` the attribute is the stage function of that name).
planner = importlib.import_module("workbench.stages.plan")
KEY = ("main.aleo", "main")
IRIS_KEY = CircuitShape(16, 11_759, 11_752, 27_150, 37_298, 15_779)


@pytest.fixture(scope="module")
def iris():  # type: ignore[no-untyped-def]
    exp = load_experiment(EXPERIMENTS / "iris_decision_tree.toml")
    _, _, quantized, request = prepare(exp, exp.zk, StageClock(lambda e: None))
    return quantized.model, request


def test_planning_limits_lower_every_size_only_when_replanned_for_less() -> None:
    # After a refusal at key synthesis the budget drops below the measured one, and every
    # size drops with it: the size that bound may not have been the constraints.
    lower = planner.planning_limits(16, OFFLINE_BUDGET * 9 // 10)
    assert lower.maximum(Quantity.NONZERO_B) == int(65_536 * (OFFLINE_BUDGET * 9 // 10) / OFFLINE_BUDGET)
    assert lower.maximum(Quantity.VARIABLES) < 16_384 * 0.91
    lim = planner.planning_limits(16, OFFLINE_BUDGET)
    assert lim.constraints == OFFLINE_BUDGET and lim.maximum(Quantity.VARIABLES) == 16_384
    assert lim.maximum(Quantity.NONZERO_B) == 65_536
    # A budget above the setup's own maximum does not raise it.
    assert planner.planning_limits(16, 99_999).constraints == setup_limits(16).constraints == 16_384
    assert planner.planning_limits(17, 20_000).constraints == 20_000
    assert planner.fits({KEY: IRIS_KEY}, lim)


def test_a_refusal_names_the_binding_size_its_estimate_the_limit_and_the_degree(iris) -> None:  # type: ignore[no-untyped-def]
    model, _ = iris
    wide = replace(IRIS_KEY, nonzero_b=70_112)
    with pytest.raises(CircuitTooLarge) as info:
        planner.check_fits({KEY: wide}, model, 1, planner.planning_limits())
    text = str(info.value)
    assert text.startswith(
        "main.aleo/main is estimated at 70,112 non-zeros of B; the offline setup (degree 2^16) allows at most "
        "65,536 per transition. To fit, shrink the model"
    )
    assert "4 input features" in text
    # The same circuit fits a degree-17 setup.
    planner.check_fits({KEY: wide}, model, 1, planner.planning_limits(17))
    # Over two limits: the one furthest over is named (variables 10% over, constraints 1%).
    both = replace(IRIS_KEY, variables=18_022, constraints=16_372)
    with pytest.raises(CircuitTooLarge, match="estimated at 18,022 variables"):
        planner.check_fits({KEY: both}, model, 2, planner.planning_limits())
    # Constraints over the planning budget (below the setup's 16,384): the margin is said.
    with pytest.raises(CircuitTooLarge, match=r"16,300 constraints; .* at most about 16,210 per transition "
                                              r"\(planned with a margin below its 16,384\).*lower \[zk\] batch"):
        planner.check_fits({KEY: replace(IRIS_KEY, constraints=16_300)}, model, 3, planner.planning_limits())


def test_auto_batch_stops_at_the_first_size_over_its_limit(iris) -> None:  # type: ignore[no-untyped-def]
    model, request = iris
    request = replace(request, batch="auto", rows=16)
    render = planner._renderer(model, request)
    with Estimator("workbench") as estimator:
        limits = planner.planning_limits()
        full = planner._auto_batch(render, 16, limits, estimator)
        one = planner.estimate_program_shapes(render(1), estimator)
        two = planner.estimate_program_shapes(render(2), estimator)
        (b1,), (b2,) = [s.nonzero_b for s in one.values()], [s.nonzero_b for s in two.values()]
        assert full > 1 and b2 > b1
        # A limit on B's non-zeros between batch 1 and batch 2 holds the batch at 1,
        # though the constraint budget would allow more.
        assert planner._auto_batch(render, 16, limits.capped(Quantity.NONZERO_B, b1), estimator) == 1
        # Every size of the chosen batch is within the limits, and one more row is not.
        assert planner.fits(planner.estimate_program_shapes(render(full), estimator), limits)
        if full < 16:
            assert not planner.fits(planner.estimate_program_shapes(render(full + 1), estimator), limits)


def test_a_refusal_says_how_much_of_the_model_one_transition_holds(write_toml) -> None:  # type: ignore[no-untyped-def]
    import re

    from workbench.pipeline import check_experiment

    text = '[experiment]\nname = "km"\n[dataset]\nname = "digits"\n[model]\nalgorithm = "kmeans"\nn_clusters = 60\n'
    with pytest.raises(CircuitTooLarge) as refused:
        check_experiment(load_experiment(write_toml(text)))
    message = str(refused.value)
    found = re.search(r"needs at least (\d+) transitions of this setup if it could be split \(this model cannot\); "
                      r"one transition holds about (\d+) clusters \(this model has 60\)", message)
    assert found, message
    transitions, clusters = int(found[1]), int(found[2])
    assert 2 <= transitions <= 60 // clusters + 1
    # The advice is an estimate on the safe side: that many clusters do fit one transition.
    _, plan = check_experiment(load_experiment(write_toml(text.replace("= 60", f"= {clusters}"))))
    assert plan.cuts == () and plan.batch >= 1
