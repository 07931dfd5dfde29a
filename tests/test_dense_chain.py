"""Dense networks (MLPs, imported networks) split across a chain of transitions.

The fast tests plan and render chains with the reference backend and the built-in
compiler; the slow ones execute and prove them with snarkVM, which is what shows the
chain computes bit for bit what the integer reference computes.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from support import EXPERIMENTS, train_experiment, train_shipped

from workbench import stages
from workbench.algorithms.linear import ACTIVATION, FEATURE, PARTIAL, PRE, SCORE, carry_at, layer_starts
from workbench.experiment import load_experiment
from workbench.kinds import Visibility
from workbench.leo import generate
from workbench.leo.contexts import chain_units, program_plans
from workbench.pipeline import run_experiment
from workbench.reference_prover import ReferenceProver
from workbench.snarkvm.errors import CircuitTooLarge
from workbench.stages.plan import estimate_programs
from workbench.stages.records import Plan, PlanRequest, ProgramSpec, Quantized

REFERENCE = ReferenceProver.factory()


def _iris_mlp(hidden: list[int]):  # type: ignore[no-untyped-def]
    exp = load_experiment(EXPERIMENTS / "iris_mlp.toml")
    params = {**exp.model.params, "hidden_layer_sizes": hidden}
    return train_experiment(dataclasses.replace(exp, model=dataclasses.replace(exp.model, params=params)))


@pytest.fixture(scope="module")
def deep():  # type: ignore[no-untyped-def]
    """iris, 4 -> 12 -> 12 -> 3: activations cross the first boundary (12 into 12), the
    second accumulates the 3 output scores (3 is narrower than 12)."""
    return _iris_mlp([12, 12])


def test_the_units_are_every_layers_neurons_and_a_linear_models_are_its_features(deep) -> None:  # type: ignore[no-untyped-def]
    assert chain_units(deep.model.form) == (27, "neurons")
    # A linear model is cut between features, into links by commitments only
    # (tests/test_linked.py): a chain of calls would read every feature in its first program.
    logistic = train_experiment(load_experiment(EXPERIMENTS / "wine_logistic.toml")).model
    assert chain_units(logistic.form) == (13, "features")
    with pytest.raises(ValueError, match="only into links by commitments"):
        program_plans(logistic.form, "w", (1,))


def test_the_carry_of_a_layer_cut_and_of_neuron_cuts(deep) -> None:  # type: ignore[no-untyped-def]
    form = deep.model.form
    assert layer_starts(form) == [0, 12, 24, 27]
    # Inside layer 1: the features layer 1's remaining neurons read, and its finished neurons.
    kinds = {(v.kind, v.layer) for v in carry_at(form, 5)}
    assert kinds == {(FEATURE, 0), (ACTIVATION, 1)}
    assert all(v.type.name == form.io.feature_type.name for v in carry_at(form, 5) if v.kind == FEATURE)
    # At the boundary of layer 2: layer 1's activations only (dead ReLUs, constant 0, left out).
    at_layer = carry_at(form, 12)
    assert {(v.kind, v.layer) for v in at_layer} == {(ACTIVATION, 1)} and len(at_layer) <= 12
    # Inside layer 2 (which feeds the narrower output layer): layer 1's activations its
    # remaining neurons read, and the partial sums of the 3 output scores.
    inside = carry_at(form, 16)
    assert {(v.kind, v.layer) for v in inside} == {(ACTIVATION, 1), (PARTIAL, 3)}
    assert sum(v.kind == PARTIAL for v in inside) == 3
    # Inside or at the output layer: the scores, complete, in the head's offset form.
    for cut in (24, 25):
        assert [(v.kind, v.index) for v in carry_at(form, cut)] == [(SCORE, 0), (SCORE, 1), (SCORE, 2)]
    assert all(v.type.name == f"u{form.head_bits}" for v in carry_at(form, 25))
    # Every value travels as an unsigned integer, never a field.
    assert all(not v.type.signed for c in range(1, 27) for v in carry_at(form, c))


def test_a_wide_layer_before_a_narrow_one_carries_sums_not_activations() -> None:
    form = _iris_mlp([64, 8]).model.form
    # Cutting inside layer 1 (64 wide): the 4 features and 8 partial sums of layer 2, not
    # up to 63 finished activations; at layer 2, its 8 complete pre-activations.
    assert {v.kind for v in carry_at(form, 40)} == {FEATURE, PARTIAL} and len(carry_at(form, 40)) == 4 + 8
    assert {v.kind for v in carry_at(form, 64)} <= {PRE} and len(carry_at(form, 66)) <= 6 + 3


def test_links_are_named_after_their_first_neuron_and_keep_their_source(deep) -> None:  # type: ignore[no-untyped-def]
    def render(cuts: tuple[int, ...]) -> dict[str, str]:
        return {p.name: p.source for p in generate.render(deep.model, "deep", "e", "d", cuts=cuts)}

    two = render((16,))
    four = render((5, 12, 16))
    assert list(four) == ["deep_p16", "deep_p12", "deep_p5", "deep"]  # dependencies first
    assert two["deep_p16"] == four["deep_p16"]  # links added in front change nothing after them
    assert "import deep_p5.aleo;" in four["deep"] and "deep_p12.aleo::main(" in four["deep_p5"]
    # Links take the carry privately, as unsigned integer arrays; only the main program
    # takes the features; every program returns the prediction with the output's visibility.
    for name, source in four.items():
        signature = next(line for line in source.splitlines() if "fn main(" in line)
        assert signature.endswith("-> public u8 {")
        if name != "deep":
            assert "private c_u" in signature and "field" not in signature and "x:" not in signature
    # Every program of the chain compiles and fits far below the budget.
    estimates = estimate_programs(generate.render(deep.model, "deep", "e", "d", cuts=(5, 12, 16)))
    assert len(estimates) == 4 and max(estimates.values()) < 16_000


@pytest.mark.parametrize(("name", "cuts"), [("diabetes_mlp", (1, 15, 16)), ("diabetes_mlp", (7, 8, 9)),
                                           ("digits_onnx_cnn", (1, 65, 80, 89))])
def test_regression_heads_and_max_pools_render_as_chains(name: str, cuts: tuple[int, ...]) -> None:
    # A regression head reads its single output's z (carried complete at the output layer);
    # a max pool's outputs are units like neurons. Each program compiles.
    model = train_shipped(name).model
    programs = generate.render(model, name, "e", "d", cuts=cuts)
    assert len(estimate_programs(programs)) == len(cuts) + 1


@pytest.mark.parametrize("cuts", [(0,), (5, 5), (16, 12), (27,), (3, 40)])
def test_degenerate_cuts_are_refused(deep, cuts: tuple[int, ...]) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="non-empty groups|no unit"):
        program_plans(deep.model.form, "deep", cuts)


def test_a_batch_cannot_be_split(deep) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="one row per execution"):
        generate.render(deep.model, "deep", "e", "d", batch=2, cuts=(5,))


def test_an_mlp_too_large_for_one_transition_is_planned_as_a_chain() -> None:
    exp = load_experiment(EXPERIMENTS / "wine_mlp_split.toml")
    result, _ = run_experiment(exp, None, samples=6, proofs=1, prover=REFERENCE)
    chain = result.circuit.chain
    assert chain is not None and chain.unit == "neurons" and chain.units == 256 + 3 and chain.cuts
    assert result.circuit.transitions == len(result.circuit.functions) == len(chain.cuts) + 1
    assert result.circuit.batch == 1
    assert all((f.estimated or 0) <= 16_210 for f in result.circuit.functions)
    assert result.circuit.programs[-1] == "wine_mlp_split.aleo"
    assert result.agreement == 1.0 and result.proofs[0].verified


def test_a_chain_is_planned_for_a_smaller_budget_with_more_links() -> None:
    exp = load_experiment(EXPERIMENTS / "wine_mlp_split.toml")
    request = PlanRequest(ProgramSpec("wine_mlp_split"), batch=1, rows=1, budget=15_200)
    model = train_experiment(exp).model
    plan = stages.plan(model, request)
    default = stages.plan(model, dataclasses.replace(request, budget=16_210))
    assert len(plan.cuts) > len(default.cuts) >= 1
    assert all(n <= 15_200 for n in plan.estimates.values())


def test_a_network_whose_one_neuron_link_cannot_fit_is_refused_with_what_to_shrink() -> None:
    exp = load_experiment(EXPERIMENTS / "wine_mlp_split.toml")
    with pytest.raises(CircuitTooLarge) as info:
        run_experiment(exp, None, samples=1, proofs=0, chain_budget=13_000, prover=REFERENCE)
    message = str(info.value)
    assert "holding only one neuron is estimated at" in message and "13,000" in message
    assert "fewer hidden units" in message and "13 input features" in message


# -- with snarkVM ---------------------------------------------------------------------------
@pytest.mark.slow
def test_a_chain_across_layer_and_neuron_cuts_agrees_with_the_integer_reference(deep) -> None:  # type: ignore[no-untyped-def]
    from workbench.pipeline import snarkvm_prover
    from workbench.prover import ProverRequest

    # Cuts inside layer 1 (features + activations), at layer 2 (activations) and inside the
    # output layer (scores): four transitions in one execution, one proof. (Partial sums:
    # the next test's chain, cut inside its one wide hidden layer.)
    cuts = (5, 12, 25)
    request = PlanRequest(ProgramSpec("deep_chain", inputs=Visibility.PRIVATE), batch=1, rows=3)
    plan = Plan(request, 1, cuts, 27, "neurons", {})
    compiled = stages.compile_programs(stages.generate_leo(deep.model, plan), "workbench")
    quantized = Quantized(deep.model, deep.Xq_test, deep.int_ref)
    batches = stages.batch_rows(quantized, 1, 3, 1)
    prover = snarkvm_prover(ProverRequest(compiled.sources, compiled.function, False))
    keys = stages.synthesize_keys(prover, compiled, batches)
    assert len(keys.costs) == 4 and all(c.constraints <= 16_210 for c in keys.costs)
    executions = stages.execute(prover, quantized, batches, workers=1)
    assert executions.transitions == 4
    assert np.array_equal(executions.outputs, deep.int_ref[:3])
    proofs = stages.prove(prover, executions, batches)
    checks = stages.verify(prover, proofs)
    assert [c.verified for c in checks.items] == [True]
    transitions = json.loads(proofs.items[0].proof.execution_json)["transitions"]
    assert len(transitions) == 4 and all(i["type"] == "private" for t in transitions for i in t["inputs"])


@pytest.mark.slow
def test_an_mlp_planned_as_a_chain_is_proven_end_to_end(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # iris, 4 -> 180 -> 3: one transition at the offline budget, two at a budget of 14,800.
    exp = load_experiment(EXPERIMENTS / "iris_mlp.toml")
    params = {**exp.model.params, "hidden_layer_sizes": [180]}
    exp = dataclasses.replace(exp, model=dataclasses.replace(exp.model, params=params))
    result, run_dir = run_experiment(exp, tmp_path, samples=3, proofs=1, chain_budget=14_800)
    chain = result.circuit.chain
    assert chain is not None and chain.unit == "neurons" and len(chain.cuts) == 1
    assert result.circuit.transitions == 2 and result.agreement == 1.0 and result.proofs[0].verified
    execution = json.loads((run_dir / result.proofs[0].path).read_text())
    assert [t["program"] for t in execution["transitions"]] == [f"iris_mlp_p{chain.cuts[0]}.aleo", "iris_mlp.aleo"]
