"""Tree models and boosting: the one TreeIR format, its integer reference, its circuits.

Fast tests check the conversions (float walk = the estimator), the threshold rule for
strict splits, the integer reference, the proven bounds and the rendered Leo (compiled by
the built-in compiler, no snarkVM). Slow tests run snarkVM.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.ensemble import AdaBoostClassifier, RandomForestClassifier
from sklearn.tree import DecisionTreeRegressor
from xgboost import XGBClassifier, XGBRegressor

from workbench.algorithms import catalogue
from workbench.algorithms.ensembles import (
    QuantizedTreeEnsemble,
    TreeEnsembleIR,
    ir_adaboost,
    ir_decision_tree_regressor,
    ir_random_forest,
    ir_xgboost,
)
from workbench.algorithms.forms import TreeHead
from workbench.algorithms.trees import TreeIR, float_leaf_index, leaf_index, quantize_thresholds
from workbench.data import Dataset, load_dataset
from workbench.kinds import Task
from workbench.experiment import DatasetSpec, QuantizationSpec, load_experiment
from workbench.leo import codec, generate
from workbench.leo.compiler import compile_source
from workbench.leo.contexts import chain_units, program_plans
from workbench.limits import setup_limits
from workbench.quantize import FIELD_MODULUS, Calibration, FixedPoint, InputRange, QuantizedInputs
from workbench.snarkvm.costs import OFFLINE_BUDGET, estimate_constraints
from workbench.snarkvm.errors import CircuitTooLarge
from workbench.stages import chain as split

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
SHIPPED = {
    "decision_tree_regressor": "diabetes_tree_regressor.toml",
    "random_forest_classifier": "wine_random_forest.toml",
    "adaboost_classifier": "iris_adaboost.toml",
    "xgb_classifier": "breast_cancer_xgboost.toml",
    "xgb_regressor": "diabetes_xgboost.toml",
}


def _data(name: str) -> Dataset:
    return load_dataset(DatasetSpec(name=name), seed=7, task=Task.REGRESSION if name == "diabetes" else Task.CLASSIFICATION)


def _fit(name: str, dataset: str, **params: Any) -> tuple[Any, Dataset]:
    data = _data(dataset)
    est = catalogue.get(name).make_estimator(params, seed=7).fit(data.X_train, data.y_train)
    return est, data


def _lower(name: str, est: Any, data: Dataset, bits: int | None = None) -> QuantizedTreeEnsemble:
    return catalogue.get(name).lower(est, Calibration(data.X_train, data.y_train), QuantizationSpec(fractional_bits=bits))


# -- the float IR is the estimator ---------------------------------------------------------
def test_random_forest_ir_soft_vote_is_the_forest() -> None:
    est, data = _fit("random_forest_classifier", "wine", n_estimators=6, max_depth=3)
    ir = ir_random_forest(est)
    X = np.vstack([data.X_train, data.X_test])
    # Sum of probabilities = T * mean: the same argmax as predict_proba's.
    np.testing.assert_allclose(ir.float_scores(X) / len(ir.trees), est.predict_proba(X), atol=1e-12)
    assert (est.classes_[np.argmax(ir.float_scores(X), axis=1)] == est.predict(X)).all()


def test_adaboost_ir_weighted_vote_is_the_ensemble() -> None:
    for dataset in ("iris", "breast_cancer"):  # multiclass and binary decision functions
        est, data = _fit("adaboost_classifier", dataset, n_estimators=10)
        ir = ir_adaboost(est)
        X = np.vstack([data.X_train, data.X_test])
        assert (est.classes_[np.argmax(ir.float_scores(X), axis=1)] == est.predict(X)).all()


def test_regression_tree_ir_is_the_tree() -> None:
    est, data = _fit("decision_tree_regressor", "diabetes", max_depth=4)
    ir = ir_decision_tree_regressor(est)
    np.testing.assert_allclose(ir.float_scores(data.X_test)[:, 0], est.predict(data.X_test))


def test_xgboost_ir_reproduces_the_booster() -> None:
    # ir_xgboost itself checks the margins; here the predictions.
    for dataset, params in (("breast_cancer", {}), ("iris", {})):
        est, data = _fit("xgb_classifier", dataset, n_estimators=4, max_depth=2, **params)
        ir = ir_xgboost(est, data.X_train, "classification")
        assert all(t.strict for t in ir.trees)
        X = np.vstack([data.X_train, data.X_test])
        assert (est.classes_[np.argmax(ir.float_scores(X), axis=1)] == est.predict(X)).all()
    est, data = _fit("xgb_regressor", "diabetes", n_estimators=5, max_depth=2)
    ir = ir_xgboost(est, data.X_train, "regression")
    np.testing.assert_allclose(ir.float_scores(data.X_test)[:, 0], est.predict(data.X_test), rtol=1e-5)


# -- strict splits on the grid ---------------------------------------------------------
def _stump(t: float) -> TreeIR:
    return TreeIR(
        left=np.array([1, -1, -1]),
        right=np.array([2, -1, -1]),
        feature=np.array([0, -2, -2]),
        threshold=np.array([t, -2.0, -2.0]),
        value=np.array([0, 1, 2]),
        strict=True,
    )


def _range(fp: FixedPoint) -> QuantizedInputs:
    return QuantizedInputs(fp, InputRange(np.array([-5.0]), np.array([5.0])))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10), st.floats(-4, 4, allow_nan=False, width=32), st.booleans())
def test_strict_grid_rule_keeps_every_decision_on_the_grid(bits: int, t: float, on_grid: bool) -> None:
    fp = FixedPoint(bits)
    if on_grid:  # a threshold exactly on the grid is the delicate case for `<`
        t = float(fp.quantize(t)) / fp.scale
    tree, inputs = _stump(t), _range(fp)
    thr = quantize_thresholds(tree, inputs, strict_rule="grid")
    ks = np.arange(int(inputs.int_low[0]), int(inputs.int_high[0]) + 1)
    assert (leaf_index(tree, thr, ks[:, None]) == np.where(ks / fp.scale < t, 1, 2)).all()


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10), st.floats(-4, 4, allow_nan=False, width=32), st.floats(-4.5, 4.5, allow_nan=False))
def test_strict_data_rule_sends_every_row_at_or_above_the_threshold_right(bits: int, t: float, x: float) -> None:
    fp = FixedPoint(bits)
    tree, inputs = _stump(t), _range(fp)
    thr = quantize_thresholds(tree, inputs)  # default rule: q(x) < q(t)
    for v in (x, t):  # any row, and a row exactly on the threshold
        leaf = leaf_index(tree, thr, inputs(np.array([[v]])))[0]
        if v >= t:
            assert leaf == 2
        elif fp.quantize(v) < fp.quantize(t):  # x < t outside t's rounding cell
            assert leaf == 1
    # On the grid it is exact when t is on the grid.
    tg = float(fp.quantize(t)) / fp.scale
    thr = quantize_thresholds(_stump(tg), inputs)
    ks = np.arange(int(inputs.int_low[0]), int(inputs.int_high[0]) + 1)
    assert (leaf_index(_stump(tg), thr, ks[:, None]) == np.where(ks / fp.scale < tg, 1, 2)).all()


def test_leaf_index_matches_a_row_by_row_walk() -> None:
    est, data = _fit("random_forest_classifier", "wine", n_estimators=4, max_depth=3)
    model = _lower("random_forest_classifier", est, data, bits=3)
    Xq = model.quantize_inputs(data.X_test)
    for t, thr in zip(model.ir_.trees, model.thresholds_):
        fast = leaf_index(t, thr, Xq)
        for r, row in enumerate(Xq):
            n = 0
            while t.left[n] != -1:
                n = t.left[n] if row[t.feature[n]] <= thr[n] else t.right[n]
            assert fast[r] == n


# -- quantized model ---------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_high_precision_quantized_model_matches_float(name: str) -> None:
    exp = load_experiment(EXPERIMENTS / SHIPPED[name])
    est, data = _fit(name, exp.dataset.name, **exp.model.params)
    model = _lower(name, est, data, bits=16)
    pred, ref = model.predict(data.X_test), est.predict(data.X_test)
    if model.task == "classification":
        assert (pred == ref).all()
    else:  # leaf values rounded to 2^-8 per tree
        assert np.max(np.abs(pred - ref)) <= len(model.ir_.trees) * 2**-9 + 1e-9


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_models_auto_bits_and_bounds(name: str) -> None:
    exp = load_experiment(EXPERIMENTS / SHIPPED[name])
    est, data = _fit(name, exp.dataset.name, **exp.model.params)
    model = _lower(name, est, data)
    # Auto bits reproduce the float model on every training row.
    if model.task == "classification":
        assert (model.predict(data.X_train) == est.predict(data.X_train)).all()
    # Random integer inputs anywhere in the declared range stay within the proven bounds,
    # so the shifted cast to the score type never halts.
    rng = np.random.default_rng(0)
    lo, hi = model.inputs_.int_low, model.inputs_.int_high
    Xq = rng.integers(lo, hi + 1, size=(2000, len(lo)))
    Xq[:2] = [lo, hi]
    s = model.scores_int(Xq)
    assert (s >= np.array(model.score_low_)).all() and (s <= np.array(model.score_high_)).all()
    if model.task == "classification":
        assert model.score_type_ is not None
        assert (s + model.offset_ >= 0).all() and (s + model.offset_ <= model.score_type_.max).all()
    else:
        assert max(map(abs, model.score_low_ + model.score_high_)) < FIELD_MODULUS // 2
    # Thresholds fit the feature type.
    for thr in model.thresholds_:
        assert model.feature_type_.holds(int(thr.min()), int(thr.max()))


def test_argmax_ties_go_to_the_lowest_class() -> None:
    tree = TreeIR(
        left=np.array([1, -1, -1]),
        right=np.array([2, -1, -1]),
        feature=np.array([0, -2, -2]),
        threshold=np.array([0.0, -2.0, -2.0]),
        value=np.array([[0.0, 0.0, 0.0], [0.5, 1.0, 1.0], [2.0, 1.0, 2.0]]),
    )
    ir = TreeEnsembleIR((tree,), np.zeros(3), TreeHead.ARGMAX)
    inputs = QuantizedInputs(FixedPoint(2), InputRange(np.array([-1.0]), np.array([1.0])))
    model = QuantizedTreeEnsemble(ir, inputs, value_bits=4, classes=np.array([0, 1, 2]))
    assert model.predict_int(np.array([[-1], [1]])).tolist() == [1, 0]


def test_regression_outputs_decode_negative_field_elements() -> None:
    est, data = _fit("xgb_regressor", "diabetes", n_estimators=2, max_depth=1)
    model = _lower("xgb_regressor", est, data)
    out = [f"{FIELD_MODULUS - 37}field"]
    assert codec.decode_predictions(out, 1, model.output_type_) == [-37]
    assert model.labels(np.array([-37]))[0] == -37 / 2**model.value_bits_


# -- Leo ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_rendered_programs_compile(name: str) -> None:
    exp = load_experiment(EXPERIMENTS / SHIPPED[name])
    est, data = _fit(name, exp.dataset.name, **exp.model.params)
    model = _lower(name, est, data)
    for batch in (1, 2):
        (program,) = generate.render(model, exp.program_name, exp.name, "", "private", "public", batch=batch)
        compiled = compile_source(program.source)
        assert compiled is not None
    out = model.output_type_.name
    assert f"-> public {out}" in program.source.replace("[", "").replace(f"; {batch}]", "")


def _compile_chain(programs: list[generate.LeoProgram]) -> dict[str, str]:
    """Compile a chain (dependencies first) against its imports; Aleo text by program name."""
    compiled: dict[str, Any] = {}
    for p in programs:
        compiled[p.name] = compile_source(p.source, f"{p.name}/src/main.leo", imports=[compiled[i].signature for i in p.imports])
    return {name: c.aleo for name, c in compiled.items()}


@pytest.mark.parametrize(
    "name, dataset, params",
    [
        ("random_forest_classifier", "wine", {"max_depth": 2}),
        ("xgb_regressor", "diabetes", {"max_depth": 2}),
        ("xgb_classifier", "breast_cancer", {"max_depth": 2}),  # binary: one tree per round
        ("adaboost_classifier", "iris", {}),
    ],
)
def test_chain_plan_links_groups_of_trees_each_calling_the_next(name: str, dataset: str, params: dict[str, Any]) -> None:
    est, data = _fit(name, dataset, n_estimators=7, **params)
    model = _lower(name, est, data)
    assert chain_units(model.form) == (7, "trees")
    plans = program_plans(model.form, "forest", (2, 5))
    # Dependencies first: the last link, the middle one, then the main program.
    assert [p.name for p in plans] == ["forest_p5", "forest_p2", "forest"]
    assert [p.imports for p in plans] == [(), ("forest_p5",), ("forest_p2",)]
    assert [p.template for p in plans] == ["tree_ensemble_link", "tree_ensemble_link", "tree_ensemble"]
    assert [[t["index"] for t in p.context["trees"]] for p in plans] == [[5, 6], [2, 3, 4], [0, 1]]
    programs = generate.render(model, "forest", "forest", "", "private", "public", cuts=(2, 5))
    aleo = _compile_chain(programs)
    assert "call forest_p5.aleo/main r0 into" in aleo["forest_p2"]
    assert "call forest_p2.aleo/main r0 into" in aleo["forest"]
    assert " call " not in aleo["forest_p5"]
    # Each link's partial scores are carried in an unsigned type with a proven bound.
    for i, p in zip((5, 2), plans[:2]):
        t, off = model.form.suffix_type(i)
        part = model.scores_int(model.quantize_inputs(data.X_test), list(range(i, 7)), bias=False) + off
        assert p.context["acc_type"] == t.name and part.min() >= 0 and part.max() <= t.max
    if model.task == "classification":  # `[zk] scores` on a chain: the main program outputs them
        scored = generate.render(model, "forest", "forest", "", "private", "public", cuts=(2, 5), scores=True)
        main_aleo = _compile_chain(scored)["forest"]
        assert len([line for line in main_aleo.splitlines() if line.strip().startswith("output ")]) == 2
    with pytest.raises(ValueError):
        program_plans(model.form, "forest", (5, 2))
    with pytest.raises(ValueError):
        generate.render(model, "forest", "forest", "", "private", "public", batch=2, cuts=(2,))


def test_choose_cuts_splits_a_forest_into_links_that_fit_the_budget() -> None:
    # 40 trees of depth 4 on 13 features: over the offline budget as one program.
    est, data = _fit("random_forest_classifier", "wine", n_estimators=40, max_depth=4)
    model = _lower("random_forest_classifier", est, data)

    def render(cuts: tuple[int, ...]) -> list[generate.LeoProgram]:
        return generate.render(model, "forest", "forest", "", "private", "public", cuts=cuts)

    def estimates(cuts: tuple[int, ...]) -> dict[str, int]:
        programs = render(cuts)
        aleo = _compile_chain(programs)
        return {
            p.name: max(estimate_constraints(aleo[p.name], [aleo[i] for i in p.imports]).values()) for p in programs
        }

    (whole,) = estimates(()).values()
    assert whole > OFFLINE_BUDGET
    # A budget above the setup's own maximum (16,384 constraints and variables at degree
    # 16) does not lift it: the forest is split as for that maximum.
    assert whole > setup_limits().constraints
    assert split.choose_cuts(render, 40, budget=whole) == split.choose_cuts(render, 40, budget=setup_limits().constraints)
    # Over the budget as one program: a chain whose every program fits it.
    budget = OFFLINE_BUDGET
    cuts = split.choose_cuts(render, 40, budget=budget)
    assert cuts and list(cuts) == sorted(set(cuts)) and 0 < cuts[0] and cuts[-1] < 40
    assert all(n <= budget for n in estimates(cuts).values())
    # The last link took as many trees as fit: one more would not.
    last, previous = cuts[-1], (cuts[-2] if len(cuts) > 1 else 0)
    if last - 1 > previous:
        assert estimates(cuts[:-1] + (last - 1,))[f"forest_p{last - 1}"] > budget
    # The partial sums of the chain's groups are the model's scores.
    Xq = model.quantize_inputs(data.X_test)
    bounds = [0, *cuts, 40]
    parts = sum(model.scores_int(Xq, list(range(a, b)), bias=False) for a, b in zip(bounds, bounds[1:]))
    assert (np.argmax(parts + model.bias_, axis=1) == model.predict_int(Xq)).all()
    # Too small a budget for even one tree per link: a clear error, not a traceback.
    with pytest.raises(CircuitTooLarge, match="holding only one tree is estimated"):
        split.choose_cuts(render, 40, budget=13000, what="trees")
    with pytest.raises(CircuitTooLarge, match="does not fit in 2 transitions"):
        split.choose_cuts(render, 40, budget=budget, what="trees", max_transitions=2)


def test_every_estimator_is_catalogued() -> None:
    names = catalogue.algorithm_names()
    for name in SHIPPED:
        assert name in names
    assert catalogue.for_estimator(XGBClassifier()).name == "xgb_classifier"
    assert catalogue.for_estimator(XGBRegressor()).name == "xgb_regressor"
    assert catalogue.for_estimator(RandomForestClassifier()).name == "random_forest_classifier"
    assert catalogue.for_estimator(AdaBoostClassifier()).name == "adaboost_classifier"
    assert catalogue.for_estimator(DecisionTreeRegressor()).name == "decision_tree_regressor"


def test_float_walk_of_sklearn_tree_uses_float32_features() -> None:
    est, data = _fit("decision_tree_regressor", "diabetes", max_depth=6)
    tree = ir_decision_tree_regressor(est).trees[0]
    assert (float_leaf_index(tree, data.X_test) == est.apply(data.X_test)).all()


# -- snarkVM -----------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(SHIPPED) - {"adaboost_classifier"}))
def test_end_to_end_a_few_rows(name: str, tmp_path: Path) -> None:
    from workbench.pipeline import run_experiment

    result, _ = run_experiment(load_experiment(EXPERIMENTS / SHIPPED[name]), tmp_path, samples=2, proofs=0, workers=1)
    assert result.agreement == 1.0 and result.disagreements == ()
    assert result.metrics.zk == result.metrics.quantized_on_zk_rows
    assert result.circuit.functions[0].constraints < 16_000


@pytest.mark.slow
def test_shipped_adaboost_full_run_agrees_on_every_test_row(tmp_path: Path) -> None:
    from workbench.pipeline import run_experiment

    result, _ = run_experiment(load_experiment(EXPERIMENTS / SHIPPED["adaboost_classifier"]), tmp_path, proofs=1)
    assert result.zk_samples == result.dataset.n_test
    assert result.agreement == 1.0
    assert result.metrics.zk == result.metrics.quantized
    assert len(result.proofs) == 1 and result.proofs[0].verified


@pytest.mark.slow
def test_batched_adaboost_agrees(tmp_path: Path) -> None:
    # AdaBoost's 10 stumps cost ~250 constraints per row, so 4 rows fit one transition
    # (the 6-tree forest on 13 features does not: 4 x ~800 + the larger input > 2^16).
    from workbench.pipeline import run_experiment

    text = (EXPERIMENTS / SHIPPED["adaboost_classifier"]).read_text()
    text = text.replace('compiler = "auto"', 'compiler = "auto"\nbatch = 4')
    path = tmp_path / "iris_adaboost_batch.toml"
    path.write_text(text)
    result, _ = run_experiment(load_experiment(path), tmp_path, samples=6, proofs=0, workers=1)
    assert result.circuit.batch == 4
    assert result.agreement == 1.0 and result.zk_samples == 6
    assert result.metrics.zk == result.metrics.quantized_on_zk_rows


@given(st.integers(1, 60), st.integers(1, 60), st.integers(-5, 70))
@settings(max_examples=300, deadline=None)
def test_smallest_fitting_finds_the_threshold_from_any_guess(hi: int, threshold: int, guess: int) -> None:
    probes: list[int] = []

    def fits(s: int) -> bool:
        probes.append(s)
        return s >= threshold

    found = split._smallest_fitting(fits, 1, hi, guess)
    assert found == (max(threshold, 1) if threshold <= hi else None)
    assert len(probes) <= 2 * hi.bit_length() + 4  # logarithmic, whatever the guess
