"""KMeans and k-NN: the integer reference (fast) and end-to-end runs in snarkVM (slow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import load_iris, make_blobs
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from workbench.algorithms import catalogue
from workbench.algorithms.neighbors import (
    QuantizedKMeans,
    QuantizedKNeighborsClassifier,
    argmin_first,
    linear_scores,
    majority_vote,
    top_k_insertion,
)
from workbench.errors import UserError
from workbench.experiment import QuantizationSpec, load_experiment
from workbench.leo import codec, generate
from workbench.leo.compiler import compile_source
from workbench.leo.contexts import linear_field_expressions, program_plans
from workbench.quantize import Calibration, FixedPoint, InputRange, QuantizedInputs

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
KMEANS_TOML = EXPERIMENTS / "iris_kmeans.toml"
KNN_TOML = EXPERIMENTS / "iris_knn.toml"


def _iris() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _calibration(X: np.ndarray, y: np.ndarray, n_train: int) -> Calibration:
    return Calibration(X[:n_train], y[:n_train])


def _inputs(X: np.ndarray, f: int) -> QuantizedInputs:
    return QuantizedInputs(FixedPoint(f), InputRange.from_training(X, None))


def _permuted_iris(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    X, y = _iris()
    p = np.random.default_rng(seed).permutation(len(X))
    return X[p], y[p]


# ---------------------------------------------------------------------------------------
# scores


def test_scores_order_rows_as_exact_squared_distances() -> None:
    rng = np.random.default_rng(1)
    inputs = QuantizedInputs(FixedPoint(4), InputRange(np.full(3, -2.0), np.full(3, 3.0)))
    points = rng.uniform(-2, 3, size=(6, 3))
    scores = linear_scores(inputs.fixed.quantize(points), inputs)
    Xq = inputs(rng.uniform(-4, 5, size=(200, 3)))  # clipped into the range
    S = np.array(scores.evaluate(Xq - inputs.int_low), dtype=np.int64)
    P = inputs.fixed.quantize(points)
    D = ((Xq[:, None, :] - P[None, :, :]) ** 2).sum(axis=2)
    # score = exact squared distance - |x|^2 + the common offset, for every row and point
    offset = S - D + (Xq**2).sum(axis=1)[:, None]
    assert np.all(offset == offset[0, 0])


def test_score_range_is_tight_over_the_declared_box() -> None:
    """Every corner of the input box scores within [0, high], and the bounds are reached."""
    inputs = QuantizedInputs(FixedPoint(3), InputRange(np.array([-1.0, -2.0]), np.array([2.0, 1.5])))
    P = inputs.fixed.quantize(np.array([[0.5, -1.0], [1.8, 1.2], [-0.9, 0.0]]))
    scores = linear_scores(P, inputs)
    span = inputs.int_high - inputs.int_low
    corners = np.array([[a, b] for a in (0, span[0]) for b in (0, span[1])])
    S = scores.evaluate(corners)
    assert S.min() == 0 and S.max() == scores.high
    assert scores.score_type.max >= scores.high
    with pytest.raises(ValueError):  # outside the box: where the circuit's cast would halt
        scores.evaluate(np.array([[span[0] + 40, -40]]))


def test_leo_expressions_evaluate_to_the_scores() -> None:
    inputs = QuantizedInputs(FixedPoint(2), InputRange(np.array([-1.0, -1.0]), np.array([1.0, 1.0])))
    P = inputs.fixed.quantize(np.array([[0.5, -0.75], [-1.0, 0.25]]))
    scores = linear_scores(P, inputs)
    u = np.array([[3, 5]])
    for expr, s in zip(linear_field_expressions(scores), scores.evaluate(u)[0]):
        value = eval(expr.replace("field", "").replace("xf0", "3").replace("xf1", "5"))  # noqa: S307 (our own text)
        assert value == s


# ---------------------------------------------------------------------------------------
# selection and vote


def test_argmin_first_breaks_ties_by_lowest_index() -> None:
    S = np.array([[3, 1, 1, 2], [0, 0, 0, 0], [5, 4, 3, 3]], dtype=object)
    assert argmin_first(S).tolist() == [1, 0, 2]
    rng = np.random.default_rng(2)
    R = rng.integers(0, 5, size=(300, 7))
    assert argmin_first(R.astype(object)).tolist() == np.argmin(R, axis=1).tolist()


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_top_k_insertion_is_a_stable_sort_truncated_to_k(k: int) -> None:
    rng = np.random.default_rng(k)
    S = rng.integers(0, 6, size=(200, 9))  # many ties
    labels = rng.integers(0, 3, size=9)
    got = top_k_insertion(S.astype(object), labels, k)
    want = labels[np.argsort(S, axis=1, kind="stable")[:, :k]]
    assert got.tolist() == want.tolist()


def test_majority_vote_ties_go_to_the_smallest_class() -> None:
    votes = np.array([[2, 1, 0], [2, 2, 1], [1, 2, 1], [2, 1, 2, 1][:3], [0, 0, 2]])
    assert majority_vote(votes, 3).tolist() == [0, 2, 1, 2, 0]
    assert majority_vote(np.array([[1, 2, 2, 1]]), 3).tolist() == [1]


# ---------------------------------------------------------------------------------------
# against scikit-learn (fine quantization keeps the order of distances on these rows)


def _distinct_order(D: np.ndarray, k: int, gap: float) -> np.ndarray:
    """Rows whose k nearest and (k+1)-th distances are separated by more than `gap`."""
    s = np.sort(D, axis=1)
    diffs = np.diff(s[:, : k + 1], axis=1)
    return np.all(diffs > gap, axis=1)


@pytest.mark.parametrize("k", [1, 3, 4])
def test_knn_integer_reference_matches_scikit_learn(k: int) -> None:
    X, y = _permuted_iris()
    n_train = 40
    est = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(X[:n_train], y[:n_train])
    model = QuantizedKNeighborsClassifier(est._fit_X, est._y, est.classes_, k, _inputs(X[:n_train], 14))
    X_test = X[n_train:]
    D = ((X_test[:, None, :] - X[None, :n_train, :]) ** 2).sum(axis=2)
    clear = _distinct_order(D, k, 1e-2)
    assert clear.sum() > 50
    assert np.array_equal(model.predict(X_test[clear]), est.predict(X_test[clear]))


def test_knn_vote_ties_agree_with_scikit_learn() -> None:
    """k = 2 often splits the vote 1-1: both pick the smaller class index."""
    X, y = _permuted_iris(3)
    est = KNeighborsClassifier(n_neighbors=2, algorithm="brute").fit(X[:30], y[:30])
    model = QuantizedKNeighborsClassifier(est._fit_X, est._y, est.classes_, 2, _inputs(X[:30], 14))
    X_test = X[30:]
    D = ((X_test[:, None, :] - X[None, :30, :]) ** 2).sum(axis=2)
    clear = _distinct_order(D, 2, 1e-2)
    neigh = model.neighbours(model.quantize_inputs(X_test[clear]))
    assert np.any(neigh[:, 0] != neigh[:, 1])  # the case is exercised
    assert np.array_equal(model.predict(X_test[clear]), est.predict(X_test[clear]))


def test_kmeans_integer_reference_matches_scikit_learn() -> None:
    X, _ = make_blobs(n_samples=300, centers=4, n_features=3, random_state=0)
    X = StandardScaler().fit_transform(X)
    est = KMeans(n_clusters=4, n_init=10, random_state=0).fit(X[:200])
    model = QuantizedKMeans(est.cluster_centers_, _inputs(X[:200], 12))
    D = ((X[200:, None, :] - est.cluster_centers_[None]) ** 2).sum(axis=2)
    clear = _distinct_order(D, 1, 1e-2)
    assert np.array_equal(model.predict(X[200:][clear]), est.predict(X[200:][clear]))


def test_kmeans_lowering_picks_few_bits_and_a_narrow_score_type() -> None:
    X, y = _permuted_iris()
    est = KMeans(n_clusters=3, n_init=10, random_state=0).fit(X[:120])
    model = catalogue.get("kmeans").lower(est, _calibration(X, y, 120), QuantizationSpec())
    assert np.array_equal(model.predict(X[:120]), est.predict(X[:120]))  # auto bits reach 1.0
    assert model.inputs_.fixed.fractional_bits <= 8
    assert model.describe()["score_type"] in ("u16", "u32")


# ---------------------------------------------------------------------------------------
# inputs, lowering checks, templates


def test_inputs_travel_as_unsigned_offset_binary() -> None:
    X, y = _permuted_iris()
    model = QuantizedKMeans(KMeans(n_clusters=3, n_init=3, random_state=0).fit(X).cluster_centers_, _inputs(X[:100], 4))
    U = model.quantize_inputs(X * 3)  # far outside the range: clipped, then offset
    assert np.array_equal(U, model.offset_rows(model.inputs_(X * 3)))
    assert U.min() == 0 and U.max() <= model.feature_type_.max
    assert not model.feature_type_.signed
    literal = codec.encode_rows(U[:1], model.form.io.feature_type)[0]
    assert literal.startswith("[") and "-" not in literal and literal.count(model.feature_type_.name) == 4
    batch = codec.encode_rows(U[:3], model.form.io.feature_type)[0]
    assert batch.startswith("[[") and batch.count("[") == 4


def test_knn_lowering_rejects_what_the_circuit_does_not_compute() -> None:
    X, y = _permuted_iris()
    data = _calibration(X, y, 30)
    lower = catalogue.get("knn_classifier").lower
    with pytest.raises(UserError, match="weights"):
        lower(KNeighborsClassifier(weights="distance").fit(X[:30], y[:30]), data, QuantizationSpec(fractional_bits=3))
    with pytest.raises(UserError, match="metric"):
        lower(KNeighborsClassifier(metric="manhattan").fit(X[:30], y[:30]), data, QuantizationSpec(fractional_bits=3))
    with pytest.raises(UserError, match="metric"):
        lower(KNeighborsClassifier(p=1).fit(X[:30], y[:30]), data, QuantizationSpec(fractional_bits=3))


def test_knn_is_trained_by_brute_force() -> None:
    est = catalogue.get("knn_classifier").make_estimator({"n_neighbors": 3}, seed=0)
    assert est.algorithm == "brute" and est.n_neighbors == 3


@pytest.mark.parametrize("batch", [1, 3])
def test_templates_compile(batch: int) -> None:
    X, y = _permuted_iris()
    models = [
        QuantizedKMeans(KMeans(n_clusters=3, n_init=3, random_state=0).fit(X).cluster_centers_, _inputs(X, 3)),
        QuantizedKNeighborsClassifier(X[:7], y[:7], np.array([0, 1, 2]), 3, _inputs(X, 3)),
        QuantizedKNeighborsClassifier(X[:4], y[:4], np.array([0, 1, 2]), 1, _inputs(X, 3)),
    ]
    for model in models:
        (program,) = generate.render(model, "nb_test", "nb_test", "test", "private", "public", batch=batch)
        aleo = compile_source(program.source).aleo
        assert aleo.startswith("program nb_test.aleo;")
        assert "as field" in aleo
        # KMeans compares integer scores; k-NN reads the comparison bit of a difference.
        assert (" lt " in aleo) if isinstance(model, QuantizedKMeans) else (" shr " in aleo and " lte " in aleo)


def test_knn_plan_is_one_program_over_every_stored_row() -> None:
    X, y = _permuted_iris()
    model = QuantizedKNeighborsClassifier(X[:9], y[:9], np.array([0, 1, 2]), 3, _inputs(X, 3))
    (plan,) = program_plans(model.form, "p")
    assert plan.template == "knn" and plan.context["n_stored"] == 9 and len(plan.context["score_exprs"]) == 9


def test_shipped_experiments_validate() -> None:
    for path, algorithm in ((KMEANS_TOML, "kmeans"), (KNN_TOML, "knn_classifier")):
        exp = load_experiment(path)
        assert exp.model.algorithm == algorithm and exp.dataset.name == "iris"


# ---------------------------------------------------------------------------------------
# snarkVM


@pytest.mark.slow
def test_kmeans_full_run_agrees_on_every_test_row(tmp_path: Path) -> None:
    from workbench.pipeline import run_experiment

    result, _ = run_experiment(load_experiment(KMEANS_TOML), tmp_path, proofs=1)
    assert result.zk_samples == result.dataset.n_test == 30
    assert result.agreement == 1.0 and result.disagreements == ()
    assert result.metrics.zk == result.metrics.quantized
    assert result.proofs[0].verified
    assert result.circuit.functions[0].constraints < 16_000


@pytest.mark.slow
def test_knn_end_to_end(tmp_path: Path) -> None:
    from workbench.pipeline import run_experiment

    result, _ = run_experiment(load_experiment(KNN_TOML), tmp_path, samples=3, proofs=0)
    assert result.agreement == 1.0
    assert result.metrics.zk == result.metrics.quantized_on_zk_rows
    assert result.circuit.functions[0].constraints < 16_000


@pytest.mark.slow
def test_kmeans_batched_run_agrees(tmp_path: Path, write_toml) -> None:
    from workbench.pipeline import run_experiment

    text = KMEANS_TOML.read_text().replace('name = "iris_kmeans"', 'name = "iris_kmeans_b4"')
    text = text.replace("[zk]", "[zk]\nbatch = 4")
    result, _ = run_experiment(load_experiment(write_toml(text)), tmp_path, samples=4, proofs=0)
    assert result.circuit.batch == 4 and result.zk_samples == 4
    assert result.agreement == 1.0
    assert result.metrics.zk == result.metrics.quantized_on_zk_rows
