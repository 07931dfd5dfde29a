"""The Python side of a run: load the data, train the estimator, quantize it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from sklearn.utils._param_validation import InvalidParameterError

from workbench.algorithms.catalogue import Family
from workbench.data import Dataset, load_dataset
from workbench.errors import UserError
from workbench.experiment import DatasetSpec
from workbench.kinds import Task
from workbench.quantize import Calibration, QuantizationSpec
from workbench.stages.records import Quantized, Trained


def load_data(spec: DatasetSpec, seed: int, task: Task) -> Dataset:
    """Load, split (stratified unless the task is regression) and scale the dataset."""
    return load_dataset(spec, seed, task)


def train(family: Family, params: Mapping[str, Any], data: Dataset, seed: int, where: Path | str = "") -> Trained:
    """Fit a fresh estimator of `family` on the training split; predict every test row.

    `where` names the experiment file in messages about bad hyperparameters.
    """
    prefix = f"{where}: [model]" if where else "[model]"
    try:
        estimator = family.make_estimator(params, seed)
        estimator.fit(data.X_train, data.y_train)
    except InvalidParameterError as exc:
        raise UserError(f"{prefix}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise UserError(f"{prefix}: {family.name} could not be trained: {exc}") from None
    return Trained(family, estimator, estimator.predict(data.X_test), family.task_for(params))


def quantize(trained: Trained, data: Dataset, spec: QuantizationSpec) -> Quantized:
    """Quantize the trained model against the training rows; the circuit's inputs and the
    integer reference's outputs for every test row."""
    model = trained.family.lower(trained.estimator, Calibration(data.X_train, data.y_train), spec)
    inputs = model.quantize_inputs(data.X_test)
    return Quantized(model, inputs, model.predict_int(inputs))
