"""The catalogue of algorithm families: one table, resolved lazily by name or estimator class.

Each entry names its estimator class and its lowering as import paths ("module:attr")
instead of importing them, so validating an experiment never loads a family module, and
nothing registers itself as a side effect of being imported. A name or class appears once;
`_index` refuses duplicates when the table is first read.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Callable, Mapping

from workbench.errors import UserError
from workbench.kinds import Task

if TYPE_CHECKING:
    from workbench.algorithms.base import QuantizedModel
    from workbench.quantize import Calibration, QuantizationSpec

    Lowering = Callable[[Any, Calibration, QuantizationSpec], QuantizedModel]


class MissingAlgorithm(UserError):
    """No family is catalogued for an algorithm name or estimator class."""

    title = "unsupported model"


def _resolve(path: str) -> Any:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


@dataclass(frozen=True)
class Family:
    """One algorithm: the TOML name, its estimator, its task and how it is quantized."""

    name: str  # the TOML `[model] algorithm` value
    estimator_path: str  # "module:Class" of the scikit-learn-style estimator
    task: Task
    lowering_path: str  # "module:function": (fitted estimator, Calibration, QuantizationSpec) -> QuantizedModel
    # Estimator parameters the circuit relies on, set whatever `[model]` says (k-NN: brute
    # force scans every stored row in index order, the circuit's tie rule; the TOML key
    # `algorithm` names the workbench algorithm, so it could not be set there anyway).
    fixed_params: Mapping[str, Any] = field(default_factory=dict)
    # Parameters naming files, resolved relative to the experiment file (an ONNX network).
    path_params: tuple[str, ...] = ()
    # Parameters with a fixed set of values, checked when the experiment is read.
    param_choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # "module:function" deciding the task from the parameters, for a family whose task
    # depends on the model (an ONNX network may classify or regress); None: `task`.
    task_of_path: str | None = None
    # The `[model]` keys, when the estimator is the family's own class (importing it to
    # ask would load the family while an experiment is only being validated).
    params: tuple[str, ...] | None = None

    @property
    def estimator(self) -> type:
        """The estimator class (imports its library, not the family module)."""
        return _resolve(self.estimator_path)

    @property
    def lower(self) -> "Lowering":
        """The family's lowering (imports the family module)."""
        return _resolve(self.lowering_path)

    def task_for(self, params: Mapping[str, Any]) -> Task:
        """The task of a model of this family made with these parameters."""
        return Task(_resolve(self.task_of_path)(params)) if self.task_of_path else self.task

    def hyperparameters(self) -> set[str]:
        """The estimator's constructor parameters (the keys allowed in `[model]`)."""
        return set(self.params) if self.params is not None else set(self.estimator().get_params())

    def make_estimator(self, params: Mapping[str, Any], seed: int) -> Any:
        """A fresh estimator; `random_state` defaults to the experiment's seed."""
        params = {**params, **self.fixed_params}
        if "random_state" in self.hyperparameters():
            params.setdefault("random_state", seed)
        return self.estimator(**params)


_ALG = "workbench.algorithms"
CATALOGUE: tuple[Family, ...] = (
    Family("linear_regression", "sklearn.linear_model:LinearRegression", Task.REGRESSION, f"{_ALG}.linear:lower_linear_regression"),
    Family("ridge", "sklearn.linear_model:Ridge", Task.REGRESSION, f"{_ALG}.linear:lower_linear_regression"),
    Family("logistic_regression", "sklearn.linear_model:LogisticRegression", Task.CLASSIFICATION, f"{_ALG}.linear:lower_logistic_regression"),
    Family("mlp_classifier", "sklearn.neural_network:MLPClassifier", Task.CLASSIFICATION, f"{_ALG}.mlp:lower_mlp_classifier"),
    Family("mlp_regressor", "sklearn.neural_network:MLPRegressor", Task.REGRESSION, f"{_ALG}.mlp:lower_mlp_regressor"),
    Family("decision_tree_classifier", "sklearn.tree:DecisionTreeClassifier", Task.CLASSIFICATION, f"{_ALG}.ensembles:lower_decision_tree_classifier"),
    Family("decision_tree_regressor", "sklearn.tree:DecisionTreeRegressor", Task.REGRESSION, f"{_ALG}.ensembles:lower_decision_tree_regressor"),
    Family("random_forest_classifier", "sklearn.ensemble:RandomForestClassifier", Task.CLASSIFICATION, f"{_ALG}.ensembles:lower_random_forest_classifier"),
    Family("adaboost_classifier", "sklearn.ensemble:AdaBoostClassifier", Task.CLASSIFICATION, f"{_ALG}.ensembles:lower_adaboost_classifier"),
    Family("xgb_classifier", "xgboost:XGBClassifier", Task.CLASSIFICATION, f"{_ALG}.ensembles:lower_xgb_classifier"),
    Family("xgb_regressor", "xgboost:XGBRegressor", Task.REGRESSION, f"{_ALG}.ensembles:lower_xgb_regressor"),
    Family("kmeans", "sklearn.cluster:KMeans", Task.CLUSTERING, f"{_ALG}.neighbors:lower_kmeans"),
    Family(
        "knn_classifier", "sklearn.neighbors:KNeighborsClassifier", Task.CLASSIFICATION,
        f"{_ALG}.neighbors:lower_knn_classifier", fixed_params={"algorithm": "brute"},
    ),
    Family(
        "onnx", f"{_ALG}.onnx_net:OnnxEstimator", Task.CLASSIFICATION, f"{_ALG}.onnx_net:lower_onnx",
        path_params=("path",), param_choices={"task": ("auto", "classification", "regression")},
        task_of_path=f"{_ALG}.onnx_net:task_of", params=("path", "task"),
    ),
)


@cache
def _index() -> dict[str, Family]:
    by_name: dict[str, Family] = {}
    estimators: set[str] = set()
    for family in CATALOGUE:
        if family.name in by_name or family.estimator_path in estimators:
            raise RuntimeError(f"catalogued twice: {family.name} ({family.estimator_path})")
        by_name[family.name] = family
        estimators.add(family.estimator_path)
    return by_name


def algorithm_names() -> tuple[str, ...]:
    """Every `[model] algorithm` value that is supported, sorted."""
    return tuple(sorted(_index()))


def get(name: str) -> Family:
    """The family catalogued under a TOML name."""
    try:
        return _index()[name]
    except KeyError:
        raise MissingAlgorithm(f"unknown algorithm {name!r}; supported: {', '.join(algorithm_names())}") from None


def for_estimator(estimator: object) -> Family:
    """The family of a fitted estimator, by its exact class."""
    cls = type(estimator)
    path = f"{cls.__module__}:{cls.__name__}"
    for family in CATALOGUE:
        # Compare classes, not paths: libraries define classes in private modules.
        if family.estimator_path == path or family.estimator is cls:
            return family
    supported = ", ".join(sorted(f.estimator_path.partition(":")[2] for f in CATALOGUE))
    raise MissingAlgorithm(f"no lowering for {cls.__name__}; supported: {supported}")
