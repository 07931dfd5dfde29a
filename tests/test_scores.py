"""`[zk] scores`: the circuit also outputs the model's score vector, equal to the reference."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from support import train_shipped

from workbench.errors import UserError
from workbench.experiment import load_experiment
from workbench.leo import generate
from workbench.leo.compiler import compile_source
from workbench.leo.contexts import score_variables
from workbench.pipeline import run_experiment
from workbench.reference_prover import ReferenceProver

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"
WITH_SCORES = ["breast_cancer_logistic", "wine_logistic", "iris_mlp", "iris_kmeans", "iris_knn",
               "breast_cancer_xgboost", "iris_adaboost", "wine_random_forest"]
WITHOUT = ["iris_decision_tree", "diabetes_ridge", "diabetes_mlp", "diabetes_xgboost", "diabetes_tree_regressor"]


def _model(name: str):  # type: ignore[no-untyped-def]
    t = train_shipped(name)
    return t.exp, t


@pytest.mark.parametrize("name", WITH_SCORES)
def test_scores_are_a_second_output_consistent_with_the_prediction(name: str) -> None:
    exp, t = _model(name)
    info = t.model.revealed_scores()
    assert info is not None and len(score_variables(t.model.form)) == info.count
    scores = t.model.revealed_scores_int(t.Xq_test)
    assert scores.shape == (len(t.Xq_test), info.count)
    assert scores.min() >= 0 and scores.max() <= info.type.max  # the declared type holds them
    pred = t.int_ref
    if name == "iris_kmeans":
        assert (np.argmin(scores, axis=1) == pred).all()  # nearest centroid
    elif name == "breast_cancer_logistic":
        assert ((scores[:, 0] > 1 << (info.type.bits - 1)) == pred).all()  # sign head
    else:
        assert (np.argmax(scores, axis=1) == pred).all()
    for batch in (1, 2):
        (program,) = generate.render(t.model, exp.program_name, exp.name, "", "private", "public", batch=batch, scores=True)
        aleo = compile_source(program.source).aleo
        outputs = [line.strip() for line in aleo.splitlines() if line.strip().startswith("output ")]
        rows = "" if batch == 1 else f"; {batch}u32]"
        assert len(outputs) == 2 and all(o.endswith(".public;") for o in outputs)
        assert outputs[1].endswith(f"[{info.type.name}; {info.count}u32]{rows}.public;")


@pytest.mark.parametrize("name", WITHOUT)
def test_families_without_a_score_vector_refuse_the_switch(name: str, tmp_path: Path) -> None:
    exp, t = _model(name)
    assert t.model.revealed_scores() is None
    with pytest.raises(ValueError):
        generate.render(t.model, "p", "p", "", "private", "public", scores=True)
    exp = dataclasses.replace(exp, zk=dataclasses.replace(exp.zk, scores=True))
    with pytest.raises(UserError, match=r"\[zk\] scores: .* has no score vector"):
        run_experiment(exp, tmp_path, samples=1, proofs=0, prover=ReferenceProver.factory())
    assert not (tmp_path / exp.name).exists() or not any((tmp_path / exp.name).iterdir())


@pytest.mark.slow
def test_scores_are_proven_with_the_prediction(tmp_path: Path) -> None:
    exp = load_experiment(EXPERIMENTS / "wine_random_forest.toml")
    exp = dataclasses.replace(exp, zk=dataclasses.replace(exp.zk, scores=True))
    result, run_dir = run_experiment(exp, tmp_path, samples=4, proofs=1, batch=2)
    revealed = result.circuit.scores
    assert revealed is not None and revealed.agreement == 1.0 and revealed.disagreements == ()
    assert revealed.what == "class scores" and revealed.type.startswith("[u")
    assert result.agreement == 1.0 and result.proofs[0].verified
    # The proof's public outputs: the two predictions, then their two score vectors.
    execution = json.loads((run_dir / result.proofs[0].path).read_text())
    (transition,) = execution["transitions"]
    assert [o["type"] for o in transition["outputs"]] == ["public", "public"]
    assert transition["outputs"][1]["value"].count("[") == 3  # [[s, s, s], [s, s, s]]
