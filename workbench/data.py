"""Datasets: scikit-learn built-ins, synthetic generators and CSV files; split and scaling.

Everything here works offline: the built-ins ship inside scikit-learn, the synthetic sets
are generated from the experiment's seed, and CSV paths are local files.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass

import numpy as np
from sklearn import datasets as skdatasets
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from workbench.errors import UserError
from workbench.experiment import DatasetSpec


@dataclass(frozen=True)
class Dataset:
    """A split, scaled dataset. Features are float64; the scaler was fit on train only."""

    name: str
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    sha256: str  # of the raw features and targets, before the split

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])


def _builtin(name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    loader = getattr(skdatasets, f"load_{name}")
    bunch = loader()
    return np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target), list(bunch.feature_names)


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


def _csv(spec: DatasetSpec) -> tuple[np.ndarray, np.ndarray, list[str]]:
    assert spec.csv_path is not None and spec.target is not None
    where = f"{spec.csv_path}"
    with spec.csv_path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if len(rows) < 3:
        raise UserError(f"{where}: needs a header row and at least two data rows")
    header, body = rows[0], rows[1:]
    if spec.target not in header:
        raise UserError(f"{where}: [dataset] target: no column named \"{spec.target}\" (columns: {', '.join(header)})")
    t = header.index(spec.target)
    X_rows, y_raw = [], []
    for line_no, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise UserError(f"{where}:{line_no}: expected {len(header)} values, found {len(row)}")
        try:
            X_rows.append([float(v) for i, v in enumerate(row) if i != t])
        except ValueError:
            raise UserError(f"{where}:{line_no}: feature values must be numbers") from None
        y_raw.append(row[t])
    try:
        y = np.array([float(v) for v in y_raw])
        if np.all(y == np.round(y)):
            y = y.astype(np.int64)
    except ValueError:  # string class labels
        y = np.array(y_raw)
    return np.array(X_rows, dtype=np.float64), y, [h for i, h in enumerate(header) if i != t]


def _fingerprint(X: np.ndarray, y: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(X, dtype=np.float64).tobytes())
    h.update(np.asarray(y).astype(str).tobytes() if y.dtype.kind in "UO" else np.ascontiguousarray(y, dtype=np.float64).tobytes())
    return h.hexdigest()


def load_dataset(spec: DatasetSpec, seed: int, stratify: bool) -> Dataset:
    """Load, split (stratified for classification) and scale a dataset."""
    if spec.name == "csv":
        X, y, names = _csv(spec)
    elif spec.name in ("classification", "regression", "blobs"):
        X, y, names = _synthetic(spec.name, spec.params, seed)
    else:
        X, y, names = _builtin(spec.name)
    if not np.all(np.isfinite(X)):
        raise UserError(f"dataset {spec.name}: features contain missing or infinite values")
    try:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=spec.test_size, random_state=seed, stratify=y if stratify else None
        )
    except ValueError as exc:
        raise UserError(f"[dataset] test_size: cannot split {spec.name} ({len(y)} rows): {exc}") from None
    if spec.scaling != "none":
        scaler = StandardScaler() if spec.scaling == "standard" else MinMaxScaler()
        X_train = scaler.fit_transform(X_train)
        X_test = scaler.transform(X_test)
    return Dataset(
        name=spec.name,
        X_train=X_train,
        X_test=X_test,
        y_train=y_train,
        y_test=y_test,
        feature_names=tuple(names),
        sha256=_fingerprint(X, y),
    )
