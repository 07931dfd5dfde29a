"""Experiment files: TOML -> a validated, frozen `Experiment`.

Every key is checked against a small schema. A problem is reported with the file, the key
path, what was expected and what was found; an unknown key gets the nearest valid name.
All problems of a file are collected and raised together as one `ExperimentError`.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the project requires 3.11, kept for the declared tomli fallback
    import tomli as tomllib

from workbench.errors import UserError
from workbench.kinds import Visibility
from workbench.limits import MAX_BATCH, MAX_SETUP_DEGREE, SETUP_DOWNLOAD, SETUP_INSTALLED, SRS_DEGREE
from workbench.quantize import QuantizationSpec

BUILTIN_DATASETS = ("iris", "wine", "breast_cancer", "digits", "diabetes")
SYNTHETIC_DATASETS = ("classification", "regression", "blobs")
DATASET_NAMES = BUILTIN_DATASETS + SYNTHETIC_DATASETS + ("csv",)
SCALINGS = ("standard", "minmax", "none")
VISIBILITIES = tuple(v.value for v in Visibility)
COMPILERS = ("auto", "workbench", "leo")
TOPOLOGIES = ("auto", "call", "commitments")
TREE_INPUTS = ("features", "thresholds")
BAD_ROWS = ("error", "drop")
# `[zk] setup`: plan against the installed setup files, let snarkVM download larger ones, or
# an integer degree (workbench/snarkvm/setup_files.py resolves them; README "Setup files").
# (defined in workbench/limits.py, which the snarkVM side imports without this module's numpy)
SETUP_EXPECTED = (
    f'"{SETUP_INSTALLED}", "{SETUP_DOWNLOAD}" or an integer degree from {SRS_DEGREE} to {MAX_SETUP_DEGREE}'
)


def is_setup_value(value: Any) -> bool:
    """Whether `value` is a valid `[zk] setup` (shared by the TOML reader and the --setup flag)."""
    if isinstance(value, str):
        return value in (SETUP_INSTALLED, SETUP_DOWNLOAD)
    return isinstance(value, int) and not isinstance(value, bool) and SRS_DEGREE <= value <= MAX_SETUP_DEGREE

# Leo program names: a letter, then [a-z0-9_], no "__", no "aleo"; docs cap them at 30.
# Experiment names stop at 26 so that the links of a split model (`<name>_p123`) stay within 31.
_PROGRAM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,25}$")


@dataclass(frozen=True)
class Problem:
    """One validation problem: where it is and what is wrong."""

    key: str
    message: str


class ExperimentError(UserError):
    """An experiment file that cannot be used; lists every problem found."""

    title = "invalid experiment"

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        lines = [f"{path}: {p.key}: {p.message}" if p.key else f"{path}: {p.message}" for p in problems]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class DatasetSpec:
    """Which data to load and how to split and scale it."""

    name: str
    test_size: float = 0.2
    scaling: str = "standard"
    params: dict[str, Any] = field(default_factory=dict)  # synthetic generator parameters
    csv_path: Path | None = None
    target: str | None = None
    delimiter: str | None = None  # None: sniffed from the CSV header
    bad_rows: str = "error"  # CSV rows with missing or non-numeric values: "error" or "drop"


@dataclass(frozen=True)
class ModelSpec:
    """The algorithm name and the hyperparameters passed to its estimator."""

    algorithm: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ZkSpec:
    """What snarkVM does: how many rows to execute and prove, visibilities, compiler."""

    samples: int | None = None  # None means every test row
    proofs: int = 1
    inputs: Visibility = Visibility.PRIVATE
    output: Visibility = Visibility.PUBLIC
    compiler: str = "auto"
    endpoint: str | None = None  # a real ledger query endpoint; None serves a local stub
    batch: int | str = 1  # rows per execution (and per proof), or "auto"
    scores: bool = False  # also output the model's score vector, with the prediction's visibility
    # How a model split across transitions links them: "auto" (fewest transitions), "call"
    # or "commitments" (workbench/kinds.py Topology).
    topology: str = "auto"
    # The universal setup planned against: "installed" (the largest degree whose files are all
    # here, 16 at least), "download" (the largest known; snarkVM fetches files) or a degree.
    setup: str | int = SETUP_INSTALLED
    # What a tree ensemble's private input is: the "features", or the "thresholds" bits
    # (which of the model's thresholds each feature is at or below; workbench/leo/thresholds.py).
    tree_inputs: str = "features"


@dataclass(frozen=True)
class Experiment:
    """A validated experiment file."""

    path: Path
    sha256: str
    name: str
    description: str
    seed: int
    dataset: DatasetSpec
    model: ModelSpec
    quantization: QuantizationSpec
    zk: ZkSpec

    @property
    def program_name(self) -> str:
        """The Leo program name (without `.aleo`)."""
        return self.name


# ---------------------------------------------------------------------------------------
# schema helpers


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, str):
        return f'the string "{value}"'
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


class _Section:
    """Reads one TOML table, recording problems instead of raising on the first."""

    def __init__(self, table: Any, name: str, problems: list[Problem]) -> None:
        self.name = name
        self.problems = problems
        self.seen: set[str] = set()
        if table is None:
            table = {}
        if not isinstance(table, dict):
            problems.append(Problem(f"[{name}]", f"expected a table, found {_type_name(table)}"))
            table = {}
        self.table: dict[str, Any] = table

    def key(self, k: str) -> str:
        return f"[{self.name}] {k}"

    def bad(self, k: str, expected: str, value: Any) -> None:
        self.problems.append(Problem(self.key(k), f"expected {expected}, found {_type_name(value)}"))

    def _absent(self, k: str, expected: str, required: bool) -> bool:
        """Mark `k` as read; True (recording a problem if it is required) when it is absent."""
        self.seen.add(k)
        if k in self.table:
            return False
        if required:
            self.problems.append(Problem(self.key(k), f"missing; expected {expected}"))
        return True

    def get(self, k: str, default: Any, check: Callable[[Any], bool], expected: str, required: bool = False) -> Any:
        if self._absent(k, expected, required):
            return default
        value = self.table[k]
        if not check(value):
            self.bad(k, expected, value)
            return default
        return value

    def choice(self, k: str, default: str | None, choices: tuple[str, ...], required: bool = False) -> Any:
        expected = "one of " + ", ".join(f'"{c}"' for c in choices)
        if self._absent(k, expected, required):
            return default
        value = self.table[k]
        if not isinstance(value, str) or value not in choices:
            hint = ""
            if isinstance(value, str):
                close = difflib.get_close_matches(value, choices, n=1)
                if close:
                    hint = f'; did you mean "{close[0]}"?'
            self.problems.append(Problem(self.key(k), f"expected {expected}, found {_type_name(value)}{hint}"))
            return default
        return value

    def reject_unknown(self, allowed: tuple[str, ...] = ()) -> None:
        valid = sorted(self.seen | set(allowed))
        for k in self.table:
            if k in self.seen or k in allowed:
                continue
            self.problems.append(Problem(self.key(k), _unknown(k, valid)))


def _unknown(k: str, valid: list[str], what: str = "key") -> str:
    close = difflib.get_close_matches(k, valid, n=1, cutoff=0.6)
    hint = f'; did you mean "{close[0]}"?' if close else ""
    return f"unknown {what}{hint} (valid {what}s: {', '.join(valid)})"


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    """A finite int or float (TOML also has inf, nan and integers past any float)."""
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return False
    try:
        return math.isfinite(float(v))
    except OverflowError:
        return False


def _local_file(base: Path, rel: str) -> tuple[Path | None, str | None]:
    """A path relative to the TOML file, resolved; or None and why it cannot be one."""
    if "\0" in rel:
        return None, "a path cannot contain a NUL character"
    try:
        path = (base / rel).resolve()
        if not path.is_file():
            return path, f'file not found: "{rel}" (looked for {path})'
    except (OSError, ValueError) as exc:
        return None, f'cannot use "{rel[:60]}{"..." if len(rel) > 60 else ""}" as a path: {getattr(exc, "strerror", None) or exc}'
    return path, None


# Parameters of the synthetic generators, with a check and a description of each.
_SYNTHETIC_PARAMS: dict[str, dict[str, tuple[Callable[[Any], bool], str]]] = {
    "classification": {
        "n_samples": (lambda v: _is_int(v) and v >= 10, "an integer >= 10"),
        "n_features": (lambda v: _is_int(v) and 1 <= v <= 2048, "an integer from 1 to 2048"),
        "n_informative": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
        "n_redundant": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
        "n_classes": (lambda v: _is_int(v) and 2 <= v <= 255, "an integer from 2 to 255"),
        "class_sep": (lambda v: _is_number(v) and v > 0, "a positive number"),
    },
    "regression": {
        "n_samples": (lambda v: _is_int(v) and v >= 10, "an integer >= 10"),
        "n_features": (lambda v: _is_int(v) and 1 <= v <= 2048, "an integer from 1 to 2048"),
        "n_informative": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
        "noise": (lambda v: _is_number(v) and v >= 0, "a number >= 0"),
    },
    "blobs": {
        "n_samples": (lambda v: _is_int(v) and v >= 10, "an integer >= 10"),
        "n_features": (lambda v: _is_int(v) and 1 <= v <= 2048, "an integer from 1 to 2048"),
        "centers": (lambda v: _is_int(v) and 2 <= v <= 255, "an integer from 2 to 255"),
        "cluster_std": (lambda v: _is_number(v) and v > 0, "a positive number"),
    },
}


def _read_dataset(table: Any, base: Path, problems: list[Problem]) -> DatasetSpec:
    s = _Section(table, "dataset", problems)
    name = s.choice("name", "iris", DATASET_NAMES, required=True)
    test_size = s.get("test_size", 0.2, lambda v: _is_number(v) and 0 < v < 1, "a number between 0 and 1")
    scaling = s.choice("scaling", "standard", SCALINGS)
    params: dict[str, Any] = {}
    csv_path: Path | None = None
    target: str | None = None
    delimiter: str | None = None
    bad_rows = "error"
    if name in _SYNTHETIC_PARAMS:
        for k, (check, expected) in _SYNTHETIC_PARAMS[name].items():
            v = s.get(k, None, check, expected)
            if v is not None:
                params[k] = v
    elif name == "csv":
        rel = s.get("path", None, lambda v: isinstance(v, str) and v != "", "a path to a CSV file", required=True)
        target = s.get("target", None, lambda v: isinstance(v, str) and v != "", "the name of the target column", required=True)
        delimiter = s.get(
            "delimiter", None, lambda v: isinstance(v, str) and len(v) == 1 and v not in "\"\r\n",
            'one character, e.g. "," or ";" or "\\t" (default: sniffed from the header)',
        )
        bad_rows = s.choice("bad_rows", "error", BAD_ROWS)
        if rel is not None:
            csv_path, problem = _local_file(base, rel)
            if problem:
                problems.append(Problem(s.key("path"), problem))
    s.reject_unknown()
    return DatasetSpec(
        name=name, test_size=float(test_size), scaling=scaling, params=params, csv_path=csv_path, target=target,
        delimiter=delimiter, bad_rows=bad_rows,
    )


def _read_model(table: Any, base: Path, problems: list[Problem]) -> ModelSpec:
    # The catalogue names each family's estimator without importing the family; its
    # hyperparameters are read from the estimator class itself.
    from workbench.algorithms import catalogue

    s = _Section(table, "model", problems)
    names = catalogue.algorithm_names()
    algorithm = s.choice("algorithm", None, names, required=True)
    params = {k: v for k, v in s.table.items() if k != "algorithm"}
    if algorithm is not None:
        family = catalogue.get(algorithm)
        valid = family.hyperparameters()
        for k in params:
            if k not in valid:
                problems.append(Problem(s.key(k), f"not a hyperparameter of {algorithm}: " + _unknown(k, sorted(valid))))
        for k, choices in family.param_choices.items():
            if k in params:
                s.choice(k, None, choices)
        for k in family.path_params:
            # A file the model is read from, relative to this TOML file (like a CSV dataset).
            rel = s.get(k, None, lambda v: isinstance(v, str) and v != "", "a path to a file", required=True)
            if rel is not None:
                path, problem = _local_file(base, rel)
                params[k] = str(path) if path is not None else rel
                if problem:
                    problems.append(Problem(s.key(k), problem))
    return ModelSpec(algorithm=algorithm or "", params=params)


def _read_quantization(table: Any, problems: list[Problem]) -> QuantizationSpec:
    s = _Section(table, "quantization", problems)
    fb = s.get(
        "fractional_bits",
        "auto",
        lambda v: v == "auto" or (_is_int(v) and 0 <= v <= 24),
        '"auto" or an integer from 0 to 24',
    )
    rng = s.get(
        "input_range",
        "auto",
        lambda v: v == "auto"
        or (isinstance(v, list) and len(v) == 2 and all(_is_number(x) for x in v) and v[0] < v[1]),
        '"auto" or [low, high] with low < high (in scaled feature units)',
    )
    s.reject_unknown()
    return QuantizationSpec(
        fractional_bits=None if fb == "auto" else int(fb),
        input_range=None if rng == "auto" else (float(rng[0]), float(rng[1])),
    )


def _read_zk(table: Any, problems: list[Problem]) -> ZkSpec:
    s = _Section(table, "zk", problems)
    samples = s.get("samples", "all", lambda v: v == "all" or (_is_int(v) and v >= 1), '"all" or an integer >= 1')
    proofs = s.get("proofs", 1, lambda v: _is_int(v) and v >= 0, "an integer >= 0")
    inputs = s.choice("inputs", "private", VISIBILITIES)
    output = s.choice("output", "public", VISIBILITIES)
    compiler = s.choice("compiler", "auto", COMPILERS)
    endpoint = s.get(
        "endpoint",
        None,
        lambda v: isinstance(v, str) and v.startswith(("http://", "https://")),
        "an http(s) URL of an Aleo API endpoint",
    )
    batch = s.get(
        "batch", 1, lambda v: v == "auto" or (_is_int(v) and 1 <= v <= MAX_BATCH), f'"auto" or an integer from 1 to {MAX_BATCH}'
    )
    scores = s.get("scores", False, lambda v: isinstance(v, bool), "true or false")
    topology = s.choice("topology", "auto", TOPOLOGIES)
    setup = s.get("setup", SETUP_INSTALLED, is_setup_value, SETUP_EXPECTED)
    tree_inputs = s.choice("tree_inputs", "features", TREE_INPUTS)
    s.reject_unknown()
    return ZkSpec(
        batch=batch,
        samples=None if samples == "all" else int(samples),
        proofs=int(proofs),
        inputs=Visibility(inputs),
        output=Visibility(output),
        compiler=compiler,
        endpoint=endpoint,
        scores=bool(scores),
        topology=topology,
        setup=setup,
        tree_inputs=tree_inputs,
    )


_SECTIONS = ("experiment", "dataset", "model", "quantization", "zk")


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment TOML file.

    Raises `ExperimentError` (a `UserError`) listing every problem found.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ExperimentError(path, [Problem("", "file not found")]) from None
    except OSError as exc:
        raise ExperimentError(path, [Problem("", f"cannot read: {exc.strerror}")]) from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ExperimentError(path, [Problem("", "not a UTF-8 text file")]) from None
    except ValueError as exc:  # TOMLDecodeError, or an integer literal past Python's 4,300 digits
        raise ExperimentError(path, [Problem("", f"not valid TOML: {str(exc)[:300]}")]) from None
    except RecursionError:
        raise ExperimentError(path, [Problem("", "not valid TOML: arrays or tables nested too deeply")]) from None

    problems: list[Problem] = []
    for k in doc:
        if k not in _SECTIONS:
            problems.append(Problem(f"[{k}]", _unknown(k, list(_SECTIONS), what="section")))

    e = _Section(doc.get("experiment"), "experiment", problems)
    name = e.get(
        "name",
        "experiment",
        lambda v: isinstance(v, str) and bool(_PROGRAM_NAME.fullmatch(v)) and "__" not in v and "aleo" not in v,
        'a name of lowercase letters, digits and "_", starting with a letter, at most 26 characters, '
        'without "__" or "aleo" (it becomes the Leo program name)',
        required=True,
    )
    description = e.get("description", "", lambda v: isinstance(v, str), "a string")
    seed = e.get("seed", 0, lambda v: _is_int(v) and 0 <= v < 2**32, "an integer from 0 to 2^32-1")
    e.reject_unknown()

    for section in ("dataset", "model"):
        if section not in doc:
            problems.append(Problem(f"[{section}]", "missing section"))
    dataset = _read_dataset(doc.get("dataset"), path.parent, problems)
    model = _read_model(doc.get("model"), path.parent, problems)
    quantization = _read_quantization(doc.get("quantization"), problems)
    zk = _read_zk(doc.get("zk"), problems)
    if problems:
        raise ExperimentError(path, problems)
    return Experiment(
        path=path.resolve(),
        sha256=hashlib.sha256(raw).hexdigest(),
        name=name,
        description=description,
        seed=seed,
        dataset=dataset,
        model=model,
        quantization=quantization,
        zk=zk,
    )
