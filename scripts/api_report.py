"""Every family through the plugin API, measured: float / quantized / ZK accuracy, constraints,
transitions and proving time, as a Markdown table.

    .venv/bin/python scripts/api_report.py [N_ROWS]      (default: 30 test rows per model)

Each model is fitted on the training split of a scikit-learn dataset (standard scaling),
compiled with `zk.compile` (or `zk.compile_onnx` for the shipped digits networks), then:
`predict_quantized` on the test rows, `predict` (snarkVM) on the first N_ROWS of them, and
one `prove` of the first row, timed. The float, quantized and ZK columns are over the same
N_ROWS rows (the ones snarkVM executed); the float model on every test row is beside them.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
from sklearn.cluster import KMeans
from sklearn.ensemble import AdaBoostClassifier, RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from xgboost import XGBClassifier, XGBRegressor

from workbench import zk
from workbench.data import load_dataset
from workbench.kinds import Task
from workbench.experiment import DatasetSpec

MODELS = Path(__file__).resolve().parent.parent / "experiments" / "models"

CASES: list[tuple[str, str, Callable[[], Any]]] = [
    ("linear_regression", "diabetes", LinearRegression),
    ("ridge", "diabetes", Ridge),
    ("logistic_regression (Pipeline)", "breast_cancer", lambda: make_pipeline(StandardScaler(), LogisticRegression())),
    ("mlp_classifier", "iris", lambda: MLPClassifier(hidden_layer_sizes=(16,), max_iter=1000, random_state=7)),
    ("mlp_regressor", "diabetes", lambda: MLPRegressor(hidden_layer_sizes=(8,), max_iter=2000, random_state=7)),
    ("decision_tree_classifier", "iris", lambda: DecisionTreeClassifier(max_depth=4, random_state=7)),
    ("decision_tree_regressor", "diabetes", lambda: DecisionTreeRegressor(max_depth=4, random_state=7)),
    ("random_forest_classifier", "wine", lambda: RandomForestClassifier(6, max_depth=3, random_state=7)),
    ("adaboost_classifier", "iris", lambda: AdaBoostClassifier(n_estimators=10, random_state=7)),
    ("xgb_classifier", "breast_cancer", lambda: XGBClassifier(n_estimators=10, max_depth=3)),
    ("xgb_regressor", "diabetes", lambda: XGBRegressor(n_estimators=10, max_depth=3)),
    ("kmeans", "iris", lambda: KMeans(3, n_init=10, random_state=7)),
    ("knn_classifier (60 stored rows)", "iris", lambda: KNeighborsClassifier(3, algorithm="brute")),
]
# k-NN stores its training rows in the circuit: about 75 iris rows fit one transition.
STORED_ROWS = {"knn_classifier (60 stored rows)": 60}


def _metric(task: str, y: np.ndarray, pred: np.ndarray) -> float:
    if task == "regression":
        return float(np.mean(np.abs(np.asarray(pred, dtype=float) - y)))  # MAE
    return float(np.mean(pred == y))


def _row(label: str, model: Any, float_pred: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, n: int) -> list[str]:
    task = model.card.task
    truth = float_pred if task == "clustering" else y_test
    quantized = model.predict_quantized(X_test)
    zk_pred = model.predict(X_test[:n])
    assert np.array_equal(zk_pred, quantized[:n]), f"{label}: snarkVM differs from the integer reference"
    t0 = time.perf_counter()
    proof = model.prove(X_test[:1])
    prove_s = time.perf_counter() - t0
    assert model.verify(proof)
    constraints = model.constraints()
    metric = "MAE" if task == "regression" else "agreement" if task == "clustering" else "accuracy"
    return [
        label, metric, f"{_metric(task, truth[:n], float_pred[:n]):.4f}", f"{_metric(task, truth[:n], quantized[:n]):.4f}",
        f"{_metric(task, truth[:n], zk_pred):.4f}", f"{_metric(task, truth, float_pred):.4f}",
        str(max(constraints.values())), str(model.transitions), f"{prove_s:.2f}",
    ]


def main(n: int) -> None:
    rows = []
    for label, dataset, make in CASES:
        data = load_dataset(DatasetSpec(name=dataset, scaling="standard" if "Pipeline" not in label else "none"), 7,
                            Task.REGRESSION if dataset == "diabetes" else Task.CLASSIFICATION)
        keep = STORED_ROWS.get(label, len(data.X_train))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = make().fit(data.X_train[:keep], data.y_train[:keep])
        with zk.compile(est, data.X_train[:keep], name=label.split()[0][:20] + "_api") as model:
            rows.append(_row(label, model, est.predict(data.X_test), data.X_test, data.y_test, n))
        print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
    digits = load_dataset(DatasetSpec(name="digits", scaling="minmax"), 7, Task.CLASSIFICATION)
    for net, bits in (("digits_mlp", None), ("digits_cnn", 4)):
        with zk.compile_onnx(MODELS / f"{net}.onnx", digits.X_train, digits.y_train, name=f"{net}_api",
                             fractional_bits=bits) as model:
            from workbench.algorithms.onnx_net import OnnxEstimator

            float_pred = OnnxEstimator(MODELS / f"{net}.onnx").fit(digits.X_train, digits.y_train).predict(digits.X_test)
            rows.append(_row(f"onnx {net}", model, float_pred, digits.X_test, digits.y_test, n))
        print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
    head = ["model", "metric", "float", "quantized", "ZK (snarkVM)", "float, all test rows", "constraints",
            "transitions", "prove s"]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
