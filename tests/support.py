"""Helpers shared by test modules: a shipped experiment through the Python-side stages."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from workbench import stages
from workbench.algorithms import catalogue
from workbench.algorithms.base import QuantizedModel
from workbench.data import Dataset
from workbench.experiment import Experiment, load_experiment

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"


@dataclass(frozen=True, eq=False)
class TrainedRun:
    """A shipped experiment after load_data, train and quantize (no snarkVM)."""

    exp: Experiment
    data: Dataset
    estimator: Any
    model: QuantizedModel
    y_float: np.ndarray  # float predictions on every test row
    Xq_test: np.ndarray  # the circuit's input integers for every test row
    int_ref: np.ndarray  # the integer reference's outputs for every test row


def train_experiment(exp: Experiment) -> TrainedRun:
    """Run the stages load_data, train and quantize of an experiment."""
    family = catalogue.get(exp.model.algorithm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of the MLPs
        data = stages.load_data(exp.dataset, exp.seed, family.task_for(exp.model.params))
        trained = stages.train(family, exp.model.params, data, exp.seed, exp.path)
        q = stages.quantize(trained, data, exp.quantization)
    return TrainedRun(exp, data, trained.estimator, q.model, trained.y_float, q.inputs, q.reference)


def train_shipped(name: str, **quantization: object) -> TrainedRun:
    """A shipped experiment (by stem) trained and quantized, optionally with other quantization."""
    exp = load_experiment(EXPERIMENTS / f"{name}.toml")
    if quantization:
        exp = replace(exp, quantization=replace(exp.quantization, **quantization))
    return train_experiment(exp)
