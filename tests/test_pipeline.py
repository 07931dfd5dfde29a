"""The run's stages and its driver, through the reference backend (no snarkVM, seconds).

These test planning, re-planning after a refusal, batching and decoding, result assembly
and the stage events. Nothing here asserts a ZK number: every test that does runs
snarkVM (the `slow` tests); the reference backend's results are never saved.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from support import EXPERIMENTS, train_shipped

from workbench import stages
from workbench.errors import UserError, WorkbenchError
from workbench.events import STAGES, Event, EventKind, Stage
from workbench.experiment import load_experiment
from workbench.kinds import ProverKind, Visibility
from workbench.leo.diagnostics import Diagnostic, LeoCompileError
from workbench.limits import OFFLINE_BUDGET
from workbench.pipeline import run_experiment
from workbench.prover import ProverRequest
from workbench.reference_prover import ReferenceProver
from workbench.snarkvm.errors import CircuitTooLarge
from workbench.stages.records import PlanRequest, ProgramSpec, Quantized

REFERENCE = ReferenceProver.factory()
N_TREES = 32  # wine_random_forest_40's trees, but estimated at 16,551: over the budget, under 17,000
SPLIT = ("wine_random_forest_40", "wine_mlp_split", "iris_knn_120", "synthetic_knn_300", "synthetic_logistic_wide")
ONE_TRANSITION = sorted(p.stem for p in EXPERIMENTS.glob("*.toml") if p.stem not in SPLIT)


def _run(name: str, **kwargs: object):  # type: ignore[no-untyped-def]
    events: list[Event] = []
    exp = load_experiment(EXPERIMENTS / f"{name}.toml")
    result, run_dir = run_experiment(exp, None, on_event=events.append, prover=REFERENCE, **kwargs)  # type: ignore[arg-type]
    assert run_dir is None
    return result, events


@pytest.mark.parametrize("name", ONE_TRANSITION)
def test_every_shipped_experiment_runs_through_the_stages(name: str) -> None:
    result, events = _run(name, samples=5, proofs=1)
    # Decoding the backend's outputs gives back the integer reference on every row.
    assert result.agreement == 1.0 and result.disagreements == ()
    assert result.metrics.zk == result.metrics.quantized_on_zk_rows
    assert result.prover == ProverKind.REFERENCE and not result.is_zk
    assert result.zk_samples == 5 and len(result.proofs) == 1 and result.proofs[0].verified
    (fn,) = result.circuit.functions
    assert fn.estimated == fn.constraints <= OFFLINE_BUDGET  # the reference backend reports estimates
    assert result.circuit.inputs == Visibility.PRIVATE and result.circuit.programs == (f"{name}.aleo",)
    started = [e.stage for e in events if e.kind == EventKind.STAGE_STARTED]
    assert started == [s for s in STAGES if s != Stage.SAVE]  # nothing to save
    assert set(result.timings.stages) == set(started)


def test_batches_are_padded_and_the_padding_dropped() -> None:
    result, events = _run("iris_adaboost", samples=7, proofs=2, batch=3)
    assert result.circuit.batch == 3 and result.zk_samples == 7 and result.agreement == 1.0
    assert [p.samples for p in result.proofs] == [(0, 1, 2), (3, 4, 5)]
    progress = [(e.done, e.total) for e in events if e.kind == EventKind.STAGE_PROGRESS and e.stage == Stage.EXECUTE]
    assert progress[-1] == (7, 7)


def test_scores_are_decoded_beside_the_prediction() -> None:
    exp = load_experiment(EXPERIMENTS / "wine_random_forest.toml")
    exp = dataclasses.replace(exp, zk=dataclasses.replace(exp.zk, scores=True))
    result, _ = run_experiment(exp, None, samples=6, proofs=0, batch=2, prover=REFERENCE)
    scores = result.circuit.scores
    assert scores is not None and scores.agreement == 1.0 and scores.what == "class scores"
    assert scores.type.startswith("[u") and scores.type.endswith("; 3]")


def test_auto_batch_is_the_largest_estimated_to_fit_and_shrinks_when_refused() -> None:
    result, _ = _run("iris_decision_tree", samples=30, proofs=0, batch="auto")
    fitted = result.circuit.batch
    assert fitted > 1 and result.circuit.functions[0].constraints <= OFFLINE_BUDGET
    # A setup that refuses more than the batch's estimate minus a little: planned again
    # with three quarters of the batch until a plan is accepted; trained once.
    limit = result.circuit.functions[0].constraints - 1
    logs: list[str] = []
    trained: list[Event] = []

    def on_event(e: Event) -> None:
        if e.kind == EventKind.LOG:
            logs.append(e.message)
        if e.kind == EventKind.STAGE_STARTED and e.stage == Stage.TRAIN:
            trained.append(e)

    exp = load_experiment(EXPERIMENTS / "iris_decision_tree.toml")
    smaller, _ = run_experiment(
        exp, None, samples=30, proofs=0, batch="auto", on_event=on_event, prover=ReferenceProver.factory(limit)
    )
    assert len(trained) == 1
    assert any("planning again with at most" in m for m in logs)
    assert smaller.circuit.batch <= fitted * 3 // 4 and smaller.circuit.functions[0].constraints <= limit
    assert smaller.agreement == 1.0


def test_a_fixed_batch_refused_by_the_setup_is_reported_with_the_model() -> None:
    exp = load_experiment(EXPERIMENTS / "iris_decision_tree.toml")
    with pytest.raises(CircuitTooLarge, match=r"reference backend's limit[\s\S]*The model: .*internal_nodes"):
        run_experiment(exp, None, samples=2, proofs=0, batch=2, prover=ReferenceProver.factory(1000))


def test_a_chain_refused_by_the_setup_is_planned_again_for_a_smaller_budget(write_toml) -> None:
    # Plan a forest too large for one transition for more than the setup (here the backend)
    # accepts: the run plans the chain again for 3% less per link until every link is accepted.
    text = (EXPERIMENTS / "wine_random_forest_40.toml").read_text()
    exp = load_experiment(write_toml(text.replace("n_estimators = 40", f"n_estimators = {N_TREES}")))
    logs: list[str] = []
    result, _ = run_experiment(
        exp, None, samples=2, proofs=1, chain_budget=17_000,
        on_event=lambda e: logs.append(e.message) if e.kind == EventKind.LOG else None,
        prover=ReferenceProver.factory(OFFLINE_BUDGET),
    )
    assert any("planning the chain again for" in m for m in logs)
    assert result.circuit.chain is not None and result.circuit.chain.units == N_TREES
    assert result.circuit.transitions == len(result.circuit.functions) == len(result.circuit.chain.cuts) + 1
    assert all(f.constraints <= OFFLINE_BUDGET for f in result.circuit.functions)
    assert result.agreement == 1.0 and result.proofs[0].verified


def test_the_stages_run_one_by_one_from_records() -> None:
    t = train_shipped("wine_logistic")
    quantized = Quantized(t.model, t.Xq_test, t.int_ref)
    spec = ProgramSpec("wine_api", inputs=Visibility.PUBLIC)
    plan = stages.plan(t.model, PlanRequest(spec, batch=2, rows=4))
    sources = stages.generate_leo(t.model, plan)
    compiled = stages.compile_programs(sources, "workbench")
    assert "input r0 as [[u" in compiled.programs[0].aleo and ".public;" in compiled.programs[0].aleo
    batches = stages.batch_rows(quantized, plan.batch, 4, 1)
    prover = ReferenceProver(ProverRequest(compiled.sources, compiled.function, False, t.model))
    keys = stages.synthesize_keys(prover, compiled, batches)
    executions = stages.execute(prover, quantized, batches)
    assert np.array_equal(executions.outputs, t.int_ref[:4])
    proofs = stages.prove(prover, executions, batches)
    checks = stages.verify(prover, proofs)
    assert [c.verified for c in checks.items] == [True] and keys.costs[0].program == "wine_api.aleo"


def test_a_model_too_large_is_refused_at_planning_with_what_to_shrink(write_toml) -> None:
    path = write_toml(
        '[experiment]\nname = "digits_big_tree"\nseed = 1\n[dataset]\nname = "digits"\n'
        '[model]\nalgorithm = "decision_tree_classifier"\n[zk]\nsamples = 1\nproofs = 0\n'
    )
    events: list[Event] = []
    with pytest.raises(CircuitTooLarge, match="is estimated at .* shrink the model") as info:
        run_experiment(load_experiment(path), path.parent / "r", on_event=events.append, prover=REFERENCE)
    assert "64 input features" in str(info.value)
    assert Stage.SYNTHESIZE not in {e.stage for e in events}  # refused before any key
    assert not (path.parent / "r" / "digits_big_tree").exists()  # nothing left behind, not even an empty directory


def test_compile_errors_are_project_errors_with_their_diagnostics_as_data() -> None:
    from workbench.leo.compiler import compile_source

    with pytest.raises(LeoCompileError) as info:
        compile_source("program p.aleo { fn main(x: u8) -> u8 { return y; } }")
    err = info.value
    assert isinstance(err, WorkbenchError) and err.title == "Leo compile error"
    assert err.diagnostics and all(isinstance(d, Diagnostic) for d in err.diagnostics)
    assert err.diagnostics[0].span.start > 0 and "main.leo:1:" in str(err)


def test_an_internal_error_is_one_line_not_a_traceback(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from workbench import cli

    def broken(args: object) -> int:
        raise OverflowError("int too large to convert")

    monkeypatch.setattr(cli, "_cmd_check", broken)
    monkeypatch.delenv("WORKBENCH_DEBUG", raising=False)
    assert cli.main(["check", "x.toml"]) == 1
    err = capsys.readouterr().err
    assert "internal error (OverflowError): int too large to convert" in err and "Traceback" not in err


def test_at_least_one_row_is_executed() -> None:
    exp = load_experiment(EXPERIMENTS / "iris_decision_tree.toml")
    with pytest.raises(UserError, match="at least one test row"):
        run_experiment(exp, None, samples=0, prover=REFERENCE)


def test_records_cross_a_process_boundary() -> None:
    import pickle

    result, events = _run("iris_kmeans", samples=2, proofs=0)
    assert pickle.loads(pickle.dumps(events)) == events
    assert pickle.loads(pickle.dumps(result)) == result


def test_a_run_describes_itself_and_its_tables_compare_like_with_like() -> None:
    from workbench.report import format_summary, render_comparison

    result, _ = _run("iris_decision_tree", samples=5, proofs=3, batch=1)
    d = result.dataset
    assert d.class_names == ("setosa", "versicolor", "virginica") and d.feature_names[0] == "sepal length (cm)"
    assert d.scaler is not None and d.scaler.kind == "standard" and len(d.scaler.offset) == 4
    assert result.circuit.output_labels == d.class_names and result.proofs_requested == 3
    proof = result.proofs[0]
    assert proof.prediction == tuple(result.read_output(proof.output)) and proof.prediction[0] in d.class_names
    text = format_summary(result)
    # Float, quantized and ZK over the same 5 rows; all 30 rows beside them, labelled.
    assert "float, all 30 rows" in text and "quantized, all 30 rows" in text
    assert "float, quantized and ZK over the same 5 test rows" in text
    assert re.search(rf"\n-\s+0\s+{proof.output}\s+{proof.prediction[0]}\s+yes", text), text  # rows, output, its class
    # Fewer proofs than asked: said, and why.
    few, _ = _run("iris_decision_tree", samples=2, proofs=5)
    assert "proofs: 2/2 verified (5 asked; one proof per execution and only 2 execution(s)" in format_summary(few)
    none, _ = _run("iris_decision_tree", samples=2, proofs=0)
    summary = format_summary(none)
    lines = summary.split("\n\nfunction")[1].splitlines()
    cells = dict(zip(re.split(r"\s{2,}", "function" + lines[0]), re.split(r"\s{2,}", lines[2])))
    assert "proofs: none" in summary and cells["prove s"] == cells["verify s"] == cells["proof bytes"] == "-"
    csv = render_comparison([result, none], "csv").splitlines()
    header = csv[0].split(",")
    row = dict(zip(header, csv[1].split(",")))
    assert row["rows"] == "5" and row["zk"] == row["quantized"] and row["attested"] == "; ".join(
        p.prediction[0] for p in result.proofs)


def test_string_classes_of_a_csv_read_as_names_in_the_outputs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = "".join(f"{i % 7},{(i * 3) % 5},{['cat', 'dog', 'bird'][i % 3]}\n" for i in range(30))
    (tmp_path / "pets.csv").write_text("\ufeffa;b;kind\n" + rows.replace(",", ";"))
    (tmp_path / "pets.toml").write_text(
        '[experiment]\nname = "pets"\n[dataset]\nname = "csv"\npath = "pets.csv"\ntarget = "kind"\n'
        '[model]\nalgorithm = "xgb_classifier"\nn_estimators = 3\nmax_depth = 2\n'
    )
    result, _ = run_experiment(load_experiment(tmp_path / "pets.toml"), None, samples=3, proofs=1, prover=REFERENCE)
    assert result.dataset.class_names == ("bird", "cat", "dog") and result.dataset.feature_names == ("a", "b")
    assert result.proofs[0].prediction[0] in ("bird", "cat", "dog") and result.agreement == 1.0
