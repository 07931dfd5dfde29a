"""The plugin API (`zk.compile`, `zk.compile_onnx`, proofs that travel, `zk.load`, `zk.verify`).

Fast tests compile every family and check what needs no snarkVM (the integer reference, the
programs, the errors). Tests marked slow execute and prove in snarkVM: `predict` equals
`predict_quantized` for every family, and proofs on the scikit-learn and the ONNX paths are
verified in a fresh process, from the saved files alone, and fail once altered.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.decomposition import PCA
from sklearn.ensemble import AdaBoostClassifier, RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from xgboost import XGBClassifier, XGBRegressor

from workbench import zk
from workbench.algorithms.catalogue import MissingAlgorithm
from workbench.api import ApiError, check_proof

REPO = Path(__file__).resolve().parent.parent
MODELS = REPO / "experiments" / "models"


def _iris() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _diabetes() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _fit(est: Any, data: tuple[np.ndarray, np.ndarray]) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray]:
    """The estimator fitted on every other row; the training rows, the test rows and labels."""
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings
        return est.fit(X[::2], y[::2]), X[::2], X[1::2], y[1::2]


# Every supported estimator, small enough for one transition.
FAMILIES = {
    "linear_regression": lambda: _fit(LinearRegression(), _diabetes()),
    "ridge": lambda: _fit(Ridge(alpha=1.0), _diabetes()),
    "logistic_regression": lambda: _fit(LogisticRegression(max_iter=500), _iris()),
    "mlp_classifier": lambda: _fit(MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0), _iris()),
    "mlp_regressor": lambda: _fit(MLPRegressor(hidden_layer_sizes=(6,), max_iter=300, random_state=0), _diabetes()),
    "decision_tree_classifier": lambda: _fit(DecisionTreeClassifier(max_depth=3, random_state=0), _iris()),
    "decision_tree_regressor": lambda: _fit(DecisionTreeRegressor(max_depth=3, random_state=0), _diabetes()),
    "random_forest_classifier": lambda: _fit(RandomForestClassifier(4, max_depth=3, random_state=0), _iris()),
    "adaboost_classifier": lambda: _fit(AdaBoostClassifier(n_estimators=5, random_state=0), _iris()),
    "xgb_classifier": lambda: _fit(XGBClassifier(n_estimators=4, max_depth=2), _iris()),
    "xgb_regressor": lambda: _fit(XGBRegressor(n_estimators=4, max_depth=2), _diabetes()),
    "kmeans": lambda: _fit(KMeans(3, n_init=3, random_state=0), _iris()),
    "knn_classifier": lambda: _fit(KNeighborsClassifier(3, algorithm="brute"), (_iris()[0][::4], _iris()[1][::4])),
}


def _compile(family: str) -> tuple[Any, Any, np.ndarray, np.ndarray]:
    est, X_train, X_test, y_test = FAMILIES[family]()
    return est, zk.compile(est, X_train, name=f"api_{family}"[:26]), X_test, y_test


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_compiles_with_its_program_plan_and_integer_reference(family: str) -> None:
    est, model, X_test, _ = _compile(family)
    assert model.card.algorithm == family and model.card.estimator == type(est).__name__
    assert "program " in model.leo_source and model.aleo.startswith(f"program api_{family}"[:34])
    assert model.transitions == 1 and model.batch == 1 and all(n < 16_300 for n in model.estimates.values())
    quantized = model.predict_quantized(X_test)
    reference = est.predict(X_test)
    if model.card.task == "regression":
        assert np.corrcoef(quantized, reference)[0, 1] > 0.99
    else:  # the quantized model is the estimator, up to fixed point
        assert np.mean(quantized == reference) > 0.9


def test_a_pipeline_of_scalers_is_applied_before_quantization() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(MinMaxScaler(), StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    model = zk.compile(pipe, X, name="pipe_test")
    assert model.card.preprocess is not None
    np.testing.assert_allclose(model.card.preprocess.apply(X), pipe[:-1].transform(X), rtol=1e-9, atol=1e-9)
    assert np.mean(model.predict_quantized(X) == pipe.predict(X)) > 0.98
    with pytest.raises(ApiError, match="a Pipeline step PCA is not supported; .*StandardScaler or MinMaxScaler"):
        zk.compile(make_pipeline(PCA(3), LogisticRegression()).fit(X, y), X)


def test_unsupported_unfitted_and_bad_options_are_clear_errors() -> None:
    X, y = _iris()
    with pytest.raises(MissingAlgorithm, match="no lowering for SVC; supported: .*DecisionTreeClassifier.*XGBClassifier"):
        zk.compile(SVC().fit(X, y), X)
    with pytest.raises(ApiError, match="LogisticRegression is not fitted"):
        zk.compile(LogisticRegression(), X)
    est = LogisticRegression().fit(X, y)
    for options, message in (
        ({"fractional_bits": 40}, "fractional_bits must be"),
        ({"input_range": (2.0, 1.0)}, "input_range must be"),
        ({"batch": 0}, "batch must be"),
        ({"inputs": "secret"}, "inputs and output are"),
        ({"name": "Bad Name"}, "a Leo program name"),
        ({"scores": True, "name": "ok"}, None),
    ):
        if message is None:
            assert zk.compile(est, X, **options).card.scores == 3
            continue
        with pytest.raises(ApiError, match=message):
            zk.compile(est, X, **options)
    with pytest.raises(ApiError, match="no score vector"):
        zk.compile(DecisionTreeClassifier().fit(X, y), X, scores=True)
    model = zk.compile(est, X, name="shape_check")
    with pytest.raises(ApiError, match="takes rows of 4 features; got 3"):
        model.predict_quantized(X[:, :3])


def test_onnx_networks_compile_and_an_operator_outside_the_list_is_named() -> None:
    from workbench.data import load_dataset
    from workbench.kinds import Task
    from workbench.experiment import DatasetSpec

    data = load_dataset(DatasetSpec(name="digits", test_size=0.2, scaling="minmax"), 7, Task.CLASSIFICATION)
    model = zk.compile(MODELS / "digits_mlp.onnx", data.X_train, data.y_train, name="digits_api")
    assert model.card.algorithm == "onnx" and model.card.labels.classes == tuple(range(10))
    assert np.mean(model.predict_quantized(data.X_test) == data.y_test) > 0.95
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w"], ["h"], transB=1), helper.make_node("Elu", ["h"], ["y"], name="e")],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2])],
        [numpy_helper.from_array(np.ones((2, 4), dtype=np.float32), "w")],
    )
    with pytest.raises(Exception, match="unsupported ONNX operator Elu at node 'e'"):
        zk.compile_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), data.X_train[:, :4])
    assert isinstance(onnx.ModelProto(), onnx.ModelProto)


def test_a_pytorch_module_is_exported_through_onnx() -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    X, _ = _iris()
    model = zk.compile(net, X.astype(np.float32), name="torch_iris")
    with torch.no_grad():
        reference = net(torch.tensor(X, dtype=torch.float32)).argmax(1).numpy()
    assert model.card.algorithm == "onnx" and np.mean(model.predict_quantized(X) == reference) > 0.97


def test_a_proof_round_trips_through_json_and_its_claims_are_bound() -> None:
    X, y = _iris()
    model = zk.compile(LogisticRegression().fit(X, y), X, name="claims")
    execution = json.dumps({"transitions": [{"program": "claims.aleo", "outputs": [{"type": "public", "value": "2u8"}]}]})
    proof = zk.ZkProof("claims.aleo", "main", execution, ("2u8",), (2,), 1)
    assert zk.ZkProof.from_json(proof.to_json()) == proof
    accept = lambda execution: True  # noqa: E731 - the snarkVM check itself is tested in the slow tests
    assert check_proof(proof, model.card, accept)
    for changed in (
        {"outputs": ("1u8",), "predictions": (1,)},  # a claim the execution does not attest
        {"predictions": (1,)},  # a label its output does not decode to
        {"program": "other.aleo"},
        {"rows": 2},
        {"execution": "not json"},
    ):
        assert not check_proof(dataclasses.replace(proof, **changed), model.card, accept)
    assert not check_proof(proof, model.card, lambda execution: False)
    with pytest.raises(ApiError, match="not a workbench proof"):
        zk.ZkProof.from_json('{"outputs": []}')


# -- snarkVM -------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_predicts_in_snarkvm_what_the_integer_reference_predicts(family: str) -> None:
    _, model, X_test, _ = _compile(family)
    with model:
        rows = X_test[:3]
        np.testing.assert_array_equal(model.predict(rows, workers=1), model.predict_quantized(rows))


def _fresh_verify(proof: Path, model_dir: Path) -> subprocess.CompletedProcess[str]:
    code = "from workbench import zk; import sys; print(zk.verify(sys.argv[1], sys.argv[2]))"
    return subprocess.run([sys.executable, "-c", code, str(proof), str(model_dir)], capture_output=True, text=True,
                          timeout=300)


def _tamper_checks(model_dir: Path, proof_path: Path, tmp_path: Path) -> None:
    """Altering the claimed output, the proof, the program or the key makes verification fail."""
    import shutil

    proof = zk.ZkProof.load(proof_path)
    flipped = proof.outputs[0].replace("0u8", "1u8") if proof.outputs[0].startswith("0") else "0u8"
    assert not zk.verify(dataclasses.replace(proof, outputs=(flipped,), predictions=None), model_dir)
    data = json.loads(proof.execution)
    data["transitions"][-1]["outputs"][0]["value"] = flipped
    assert not zk.verify(dataclasses.replace(proof, execution=json.dumps(data)), model_dir)
    other = tmp_path / "altered"
    shutil.copytree(model_dir, other)
    vk = next((other / "verifying_keys").glob("*.verifier"))
    key = bytearray(vk.read_bytes())
    key[len(key) // 2] ^= 1
    vk.write_bytes(bytes(key))
    assert not zk.verify(proof, other)
    shutil.rmtree(other)
    shutil.copytree(model_dir, other)
    program = next(other.glob("*.aleo"))
    text = program.read_text()
    # Another model: one constant of the first instruction that has one, changed by one.
    line = next(line for line in text.splitlines() if re.search(r" \d+field", line) and not line.strip().startswith("input"))
    number = re.search(r" (\d+)field", line)
    assert number is not None
    changed = line.replace(number.group(0), f" {int(number.group(1)) + 1}field", 1)
    program.write_text(text.replace(line, changed, 1))
    assert program.read_text() != text and not zk.verify(proof, other)


@pytest.mark.slow
def test_a_scikit_learn_proof_is_verified_in_a_fresh_process_from_the_saved_files(tmp_path: Path) -> None:
    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X[::2], y[::2])
    with zk.compile(pipe, X[::2], name="cancer_api") as model:
        proof = model.prove(X[1:2])
        assert model.verify(proof) and list(proof.predictions) == list(model.predict_quantized(X[1:2]))
        model.save(tmp_path / "model")
    proof.save(tmp_path / "proof.json")
    fresh = _fresh_verify(tmp_path / "proof.json", tmp_path / "model")
    assert fresh.returncode == 0 and fresh.stdout.strip() == "True", fresh.stderr
    cli = subprocess.run([sys.executable, "-m", "workbench", "verify", str(tmp_path / "model"), str(tmp_path / "proof.json")],
                         capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0 and "1/1 proofs verified" in cli.stdout
    _tamper_checks(tmp_path / "model", tmp_path / "proof.json", tmp_path)
    # A saved model predicts and proves without the estimator.
    loaded = zk.load(tmp_path / "model")
    np.testing.assert_array_equal(loaded.predict(X[3:5], workers=1), pipe.predict(X[3:5]))
    with pytest.raises(ApiError, match="integer reference is not saved"):
        loaded.predict_quantized(X[3:5])
    loaded.close()


@pytest.mark.slow
def test_an_onnx_cnn_proof_is_verified_in_a_fresh_process(tmp_path: Path) -> None:
    from workbench.data import load_dataset
    from workbench.kinds import Task
    from workbench.experiment import DatasetSpec

    data = load_dataset(DatasetSpec(name="digits", test_size=0.2, scaling="minmax"), 7, Task.CLASSIFICATION)
    with zk.compile_onnx(MODELS / "digits_cnn.onnx", data.X_train, data.y_train, name="digits_cnn_api",
                         fractional_bits=4) as model:
        proof = model.prove(data.X_test[:1])
        model.save(tmp_path / "model")
    proof.save(tmp_path / "proof.json")
    assert list(proof.predictions) == list(model.predict_quantized(data.X_test[:1]))
    fresh = _fresh_verify(tmp_path / "proof.json", tmp_path / "model")
    assert fresh.returncode == 0 and fresh.stdout.strip() == "True", fresh.stderr
    _tamper_checks(tmp_path / "model", tmp_path / "proof.json", tmp_path)


@pytest.mark.slow
def test_an_onnx_network_predicts_in_snarkvm_what_the_integer_reference_predicts() -> None:
    from workbench.data import load_dataset
    from workbench.kinds import Task
    from workbench.experiment import DatasetSpec

    data = load_dataset(DatasetSpec(name="digits", test_size=0.2, scaling="minmax"), 7, Task.CLASSIFICATION)
    with zk.compile_onnx(MODELS / "digits_mlp.onnx", data.X_train, data.y_train, name="digits_mlp_api") as model:
        rows = data.X_test[:3]
        np.testing.assert_array_equal(model.predict(rows, workers=1), model.predict_quantized(rows))


@pytest.mark.slow
def test_the_example_script_proves_and_verifies(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(REPO / "examples" / "prove_sklearn_model.py"), str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "verified in a fresh process: True" in proc.stdout
    assert (tmp_path / "model" / "model.json").is_file() and (tmp_path / "proof.json").is_file()
