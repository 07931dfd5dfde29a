"""Datasets: scikit-learn built-ins, synthetic generators and CSV files; split and scaling.

Everything here works offline: the built-ins ship inside scikit-learn, the synthetic sets
are generated from the experiment's seed, and CSV paths are local files (read by
`workbench/csvdata.py`, which names the file, line and column of every problem).

Class labels are always the indices 0..k-1 of `Dataset.class_names` (sorted labels as
text): estimators that need 0-based integer classes (XGBoost) take string labels too,
and result.json keeps the names so an attested `2u8` reads as its class.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np
from sklearn import datasets as skdatasets
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from workbench.csvdata import read_csv
from workbench.errors import UserError
from workbench.experiment import DatasetSpec
from workbench.kinds import Task


@dataclass(frozen=True)
class Scaler:
    """The scaling fitted on the training rows: scaled = (raw - offset) / scale, per feature."""

    kind: str  # "standard" or "minmax"
    offset: tuple[float, ...]
    scale: tuple[float, ...]


@dataclass(frozen=True)
class Dataset:
    """A split, scaled dataset. Features are float64; the scaler was fit on train only.

    For classification and clustering, targets are class indices into `class_names`.
    """

    name: str
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    sha256: str  # of the raw features and targets, before the split
    class_names: tuple[str, ...] | None = None
    scaler: Scaler | None = None
    target: str | None = None  # the CSV target column
    dropped_rows: int = 0  # CSV rows dropped for missing or non-numeric values ([dataset] bad_rows = "drop")

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])


def _builtin(name: str) -> tuple[np.ndarray, np.ndarray, list[str], list[str] | None]:
    loader = getattr(skdatasets, f"load_{name}")
    bunch = loader()
    names = [str(n) for n in bunch.target_names] if "target_names" in bunch else None
    return np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target), list(bunch.feature_names), names


def _synthetic(name: str, params: dict, seed: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    p = dict(params)
    p.setdefault("n_samples", 200)
    try:
        if name == "classification":
            p.setdefault("n_features", 4)
            p.setdefault("n_informative", min(2, p["n_features"]))
            p.setdefault("n_redundant", 0)
            X, y = skdatasets.make_classification(random_state=seed, **p)
        elif name == "regression":
            p.setdefault("n_features", 4)
            X, y = skdatasets.make_regression(random_state=seed, **p)
        else:
            p.setdefault("n_features", 2)
            p.setdefault("centers", 3)
            X, y = skdatasets.make_blobs(random_state=seed, **p)
    except ValueError as exc:  # scikit-learn explains inconsistent parameters
        raise UserError(f"[dataset] {name}: {exc}") from None
    return np.asarray(X, dtype=np.float64), np.asarray(y), [f"x{i}" for i in range(X.shape[1])]


def _fingerprint(X: np.ndarray, y: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(X, dtype=np.float64).tobytes())
    h.update(np.asarray(y).astype(str).tobytes() if y.dtype.kind in "UO" else np.ascontiguousarray(y, dtype=np.float64).tobytes())
    return h.hexdigest()


def _label_text(v: object) -> str:
    # 1.0 and 1 are the same class; print it as "1".
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def encode_classes(y: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class labels -> indices 0..k-1 and the sorted labels as text."""
    labels, indices = np.unique(np.asarray(y), return_inverse=True)
    return indices.astype(np.int64), tuple(_label_text(v) for v in labels)


def _check_split(where: str, spec: DatasetSpec, y: np.ndarray, task: Task, class_names: tuple[str, ...] | None) -> None:
    """Refuse a split scikit-learn would refuse (or make degenerate), with counts and a remedy."""
    n = len(y)
    n_test = math.ceil(spec.test_size * n)
    n_train = n - n_test
    if n_train < 2 or n_test < 1:
        raise UserError(
            f"{where}: {n} rows with test_size {spec.test_size} leave {n_train} training and {n_test} test rows; "
            "at least 2 training rows and 1 test row are needed (add rows or change [dataset] test_size)"
        )
    if task == Task.REGRESSION or class_names is None:
        return
    counts = np.bincount(y, minlength=len(class_names))
    if task == Task.CLASSIFICATION and len(class_names) < 2:
        raise UserError(
            f"{where}: the target has a single class ({class_names[0]!r} in all {n} rows); a classifier needs at least two"
        )
    rare = [class_names[i] for i, c in enumerate(counts) if c < 2]
    if rare:
        raise UserError(
            f"{where}: class {', '.join(repr(r) for r in rare[:5])} has a single row; the stratified split needs at "
            "least 2 rows of every class (add rows or remove that class)"
        )
    k = len(class_names)
    if n_test < k or n_train < k:
        raise UserError(
            f"{where}: {n} rows with test_size {spec.test_size} leave {n_train} training and {n_test} test rows for "
            f"{k} classes; the stratified split needs at least one row of every class on each side "
            "(add rows or change [dataset] test_size)"
        )


def _fit_scaler(kind: str, X_train: np.ndarray) -> tuple[StandardScaler | MinMaxScaler, Scaler]:
    if kind == "standard":
        s = StandardScaler().fit(X_train)
        return s, Scaler(kind, tuple(float(v) for v in s.mean_), tuple(float(v) for v in s.scale_))
    m = MinMaxScaler().fit(X_train)
    # MinMaxScaler computes raw * scale_ + min_, i.e. (raw - (-min_ / scale_)) / (1 / scale_).
    return m, Scaler(kind, tuple(float(-a / b) for a, b in zip(m.min_, m.scale_)), tuple(float(1 / b) for b in m.scale_))


def load_dataset(spec: DatasetSpec, seed: int, task: Task) -> Dataset:
    """Load, split (stratified unless the task is regression) and scale a dataset.

    Classification and clustering targets become class indices (`Dataset.class_names`).
    """
    class_names: list[str] | tuple[str, ...] | None = None
    dropped = 0
    where = f"dataset {spec.name}"
    if spec.name == "csv":
        assert spec.csv_path is not None and spec.target is not None
        table = read_csv(spec.csv_path, spec.target, spec.delimiter, drop_bad_rows=spec.bad_rows == "drop",
                         numeric_target=task == Task.REGRESSION)
        X, y, names, dropped = table.X, table.y, list(table.feature_names), table.dropped
        where = str(spec.csv_path)
    elif spec.name in ("classification", "regression", "blobs"):
        X, y, names = _synthetic(spec.name, spec.params, seed)
    else:
        X, y, names, class_names = _builtin(spec.name)
    if not np.all(np.isfinite(X)):
        raise UserError(f"{where}: features contain missing or infinite values")
    sha = _fingerprint(X, y)
    if task != Task.REGRESSION:
        y, found = encode_classes(y)
        if class_names is None or len(class_names) != len(found):
            class_names = found
        class_names = tuple(class_names)
    else:
        y = np.asarray(y, dtype=np.float64)
    _check_split(where, spec, y, task, class_names)  # type: ignore[arg-type]
    try:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=spec.test_size, random_state=seed, stratify=y if task != Task.REGRESSION else None
        )
    except ValueError as exc:
        raise UserError(f"{where}: [dataset] test_size: cannot split {len(y)} rows: {exc}") from None
    scaler = None
    if spec.scaling != "none":
        fitted, scaler = _fit_scaler(spec.scaling, X_train)
        X_train = fitted.transform(X_train)
        X_test = fitted.transform(X_test)
    return Dataset(
        name=spec.name,
        X_train=X_train,
        X_test=X_test,
        y_train=y_train,
        y_test=y_test,
        feature_names=tuple(names),
        sha256=sha,
        class_names=class_names,
        scaler=scaler,
        target=spec.target,
        dropped_rows=dropped,
    )
