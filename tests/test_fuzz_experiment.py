"""Fuzz tests of the experiment loader: whatever the file holds, `load_experiment` returns
a valid `Experiment` or raises the project's own error (a `WorkbenchError`, in practice an
`ExperimentError`) whose message names the file; never a KeyError, TypeError, ValueError...

Inputs: arbitrary bytes and text; TOML documents built from the real section names with
real and random keys and values of every TOML type (written by the small serializer below,
tomllib cannot write); and the shipped experiments with a value replaced, a key dropped or
a key added.

Inputs that once crashed the loader are kept as regression cases in `FORMER_BUGS` at the
end. A failure prints the falsifying document.
"""

from __future__ import annotations

import datetime as dt
import math
import pathlib
import re
import tempfile
import tomllib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.algorithms import catalogue
from workbench.errors import WorkbenchError
from workbench.experiment import (
    COMPILERS,
    DATASET_NAMES,
    SCALINGS,
    VISIBILITIES,
    Experiment,
    ExperimentError,
    load_experiment,
)
from workbench.tui import tomlwrite

EXPERIMENTS = pathlib.Path(__file__).resolve().parent.parent / "experiments"
SHIPPED = sorted(EXPERIMENTS.glob("*.toml"))

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_NAME = re.compile(r"[a-z][a-z0-9_]{0,25}")


def check_loads_or_reports(text: str | bytes, name: str = "experiment.toml") -> Experiment | None:
    """The property, on `text` written to a fresh file: a valid Experiment, or a
    WorkbenchError whose message is non-empty and names the file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        try:
            exp = load_experiment(str(path))
        except WorkbenchError as err:
            message = str(err)
            assert message.strip(), "an error without a message"
            assert str(path) in message, f"the message does not name the file: {message[:300]!r}"
            if isinstance(err, ExperimentError):
                assert err.problems
            return None
    # What the loader promises about an experiment it accepts.
    assert isinstance(exp, Experiment)
    assert _NAME.fullmatch(exp.name) and "__" not in exp.name and "aleo" not in exp.name, exp.name
    assert isinstance(exp.seed, int) and 0 <= exp.seed < 2**32
    assert 0 < exp.dataset.test_size < 1
    q = exp.quantization
    assert q.fractional_bits is None or 0 <= q.fractional_bits <= 24
    assert q.input_range is None or q.input_range[0] < q.input_range[1]
    assert exp.zk.samples is None or exp.zk.samples >= 1
    assert exp.zk.proofs >= 0
    return exp


# ---------------------------------------------------------------- a small TOML writer

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def toml_key(k: str) -> str:
    return k if _BARE_KEY.fullmatch(k) else toml_value(k)


def toml_value(v: Any) -> str:
    """The project's writer (workbench/tui/tomlwrite.py) for what experiment files hold; dates
    and inline tables, which it never writes, here."""
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    return tomlwrite.toml_value(v)


def toml_document(doc: dict[str, Any]) -> str:
    """Top-level tables as `[section]` headers (nested tables stay inline), other top-level
    values as `key = value` before the first header, as TOML requires."""
    lines = [f"{toml_key(k)} = {toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for k, v in doc.items():
        if isinstance(v, dict):
            lines.append(f"\n[{toml_key(k)}]")
            lines.extend(f"{toml_key(kk)} = {toml_value(vv)}" for kk, vv in v.items())
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- strategies

SECTIONS = ["experiment", "dataset", "model", "quantization", "zk"]
REAL_KEYS = {
    "experiment": ["name", "description", "seed"],
    "dataset": ["name", "test_size", "scaling", "path", "target", "delimiter", "bad_rows", "n_samples",
                "n_features", "n_informative", "n_redundant", "n_classes", "class_sep", "noise", "centers",
                "cluster_std"],
    "model": ["algorithm", "max_depth", "n_estimators", "hidden_layer_sizes", "alpha", "learning_rate",
              "max_iter", "n_clusters", "n_neighbors", "path", "task", "random_state"],
    "quantization": ["fractional_bits", "input_range"],
    "zk": ["samples", "proofs", "inputs", "output", "compiler", "endpoint", "batch", "scores", "setup"],
}
ALL_REAL_KEYS = sorted({k for keys in REAL_KEYS.values() for k in keys})
# Values the schema accepts somewhere, so that documents get past the first checks.
GOOD_VALUES = (["auto", "all", "iris_x", "x", "", "y", "csv", "http://localhost:3030", "https://api.x",
                "error", "drop", ",", ";", "\t", "classification", "data.csv", "models/digits_mlp.onnx",
                "installed", "download"]
               + list(DATASET_NAMES) + list(SCALINGS) + list(VISIBILITIES) + list(COMPILERS)
               + list(catalogue.algorithm_names()))

# Integers at the edges: 64-bit bounds and well past them (past any float, too).
EDGE_INTS = [0, 1, -1, 2, 9, 10, 24, 25, 255, 256, 2047, 2048, 2**31, 2**32 - 1, 2**32, 2**63 - 1, -(2**63),
             2**64, -(2**64), 10**30, 2**1000, -(2**1000), 10**400, -(10**400)]
integers = st.one_of(st.sampled_from(EDGE_INTS), st.integers(-1000, 1000), st.integers(-(2**80), 2**80))
floats = st.one_of(st.sampled_from([0.0, -0.0, 0.2, 0.5, 1.0, 1e-300, 1e300, math.inf, -math.inf, math.nan]),
                   st.floats(allow_nan=True, allow_infinity=True))
strings = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
# Paths with NUL characters and components past 255 bytes included (both once crashed).
path_strings = st.one_of(st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
                         st.text(st.sampled_from("ab/\x00"), min_size=250, max_size=300))
names = st.one_of(st.sampled_from(GOOD_VALUES), st.from_regex(r"[a-z][a-z0-9_]{0,30}", fullmatch=True))
dates = st.one_of(
    st.dates(),
    st.datetimes(timezones=st.sampled_from([None, dt.UTC, dt.timezone(dt.timedelta(hours=-5))])),
    st.times(),
)
scalars = st.one_of(integers, floats, strings, names, st.booleans(), dates)
toml_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            # no `path` key: a table may become a section (see path_strings)
                            st.dictionaries(st.one_of(strings, names).filter(lambda k: k != "path"), inner,
                                            max_size=3)),
    max_leaves=8,
)
path_values = st.one_of(path_strings, st.sampled_from(["models/digits_mlp.onnx", "data.csv", ".", "/"]),
                        toml_values.filter(lambda v: not isinstance(v, str)))


def values_for(key: str) -> st.SearchStrategy[Any]:
    return path_values if key == "path" else toml_values


@st.composite
def sections(draw: st.DrawFn, section: str) -> Any:
    if draw(st.integers(0, 9)) == 0:  # not a table at all: `zk = 3`, `model = [...]`
        return draw(toml_values.filter(lambda v: not isinstance(v, dict)))
    keys = draw(st.lists(st.one_of(st.sampled_from(REAL_KEYS.get(section, ["name"])), names, strings),
                         max_size=8, unique=True))
    return {k: draw(values_for(k)) for k in keys}


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    chosen = draw(st.lists(st.sampled_from(SECTIONS) | names | strings, max_size=7, unique=True))
    return {s: draw(sections(s)) for s in chosen}


def _shipped_doc(path: pathlib.Path) -> dict[str, Any]:
    """A shipped experiment, its relative `path` values made absolute so that a copy in a
    temporary directory still finds its files."""
    doc = tomllib.loads(path.read_text())
    for table in doc.values():
        if isinstance(table, dict) and isinstance(table.get("path"), str):
            table["path"] = str((path.parent / table["path"]).resolve())
    return doc


def _kind(v: Any) -> str:
    return "table" if isinstance(v, dict) else type(v).__name__


@st.composite
def mutated_shipped(draw: st.DrawFn) -> dict[str, Any]:
    """A shipped experiment with one to three edits, mostly a value of another type."""
    doc = _shipped_doc(draw(st.sampled_from(SHIPPED)))
    for _ in range(draw(st.integers(1, 3))):
        section = draw(st.sampled_from(sorted(doc)))
        table = doc[section]
        if not isinstance(table, dict) or not table:
            continue
        key = draw(st.sampled_from(sorted(table)))
        edit = draw(st.sampled_from(["retype", "retype", "retype", "delete", "add", "section"]))
        if edit == "retype":
            old = _kind(table[key])
            table[key] = draw(values_for(key).filter(lambda v, old=old: _kind(v) != old))
        elif edit == "delete":
            del table[key]
        elif edit == "add":
            new = draw(st.sampled_from(ALL_REAL_KEYS) | names)
            table[new] = draw(values_for(new))
        else:
            doc[section] = draw(toml_values)
    return doc


# ---------------------------------------------------------------- properties


@FUZZ
@given(st.binary(max_size=400))
def test_arbitrary_bytes(data: bytes) -> None:
    check_loads_or_reports(data)


@FUZZ
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=400))
def test_arbitrary_text(text: str) -> None:
    check_loads_or_reports(text)


@FUZZ
@given(st.text(alphabet='[]{}="\'.,#\n\t -_+:aeflnrstuxyz0123456789', max_size=200))
def test_text_from_toml_characters(text: str) -> None:
    check_loads_or_reports(text)


@settings(FUZZ, max_examples=100)
@given(documents())
def test_structured_documents(doc: dict[str, Any]) -> None:
    text = toml_document(doc)
    tomllib.loads(text)  # the writer's own check: the fuzz is of the loader, not of TOML syntax
    check_loads_or_reports(text)


@settings(FUZZ, max_examples=200)
@given(mutated_shipped())
def test_mutated_shipped_experiments(doc: dict[str, Any]) -> None:
    text = toml_document(doc)
    tomllib.loads(text)
    check_loads_or_reports(text)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_experiments_survive_the_writer(path: pathlib.Path) -> None:
    """Unmutated, every shipped experiment still loads after a trip through the writer (so
    the mutants above start from valid documents)."""
    assert check_loads_or_reports(toml_document(_shipped_doc(path))) is not None


# ---------------------------------------------------------------- former loader bugs

_IRIS = (EXPERIMENTS / "iris_decision_tree.toml").read_text()
# Inputs that once crashed the loader or slipped through it (found by these tests), each
# now a clear error naming the file, and what the error says.
FORMER_BUGS = {
    # float() of 1e310 as an int raised OverflowError.
    "huge input_range bound": ("[quantization] input_range: expected", "[quantization]\ninput_range = [0, 1" + "0" * 310 + "]\n"),
    "infinite input_range bound": ("[quantization] input_range: expected", "[quantization]\ninput_range = [-inf, inf]\n"),
    # tomllib: int() of more than 4,300 decimal digits raised ValueError.
    "integer of 4301 digits": ("not valid TOML", "a = " + "1" * 4301 + "\n"),
    # tomllib parses nested arrays and inline tables recursively: RecursionError.
    "deeply nested array": ("nested too deeply", "a = " + "[" * 5000 + "]" * 5000 + "\n"),
    "deeply nested inline table": ("nested too deeply", "a = " + "{b = " * 5000 + "1" + "}" * 5000 + "\n"),
    # Path.resolve() on a path with NUL raised ValueError "embedded null byte".
    "NUL in a CSV path": ("NUL character", '[dataset]\nname = "csv"\npath = "a\\u0000b"\ntarget = "y"\n'),
    "NUL in a model path": ("NUL character", '[model]\nalgorithm = "onnx"\npath = "a\\u0000b"\n'),
    # Path.is_file() on a name over 255 bytes raised OSError ENAMETOOLONG.
    "CSV path too long": ("as a path: File name too long", '[dataset]\nname = "csv"\npath = "' + "a" * 256 + '"\ntarget = "y"\n'),
    "model path too long": ("as a path: File name too long", '[model]\nalgorithm = "onnx"\npath = "' + "a" * 256 + '"\n'),
    # `$` in the name pattern also matched before a final newline: "iris\n" was accepted.
    "name with a trailing newline": ("[experiment] name: expected", _IRIS.replace(
        'name = "iris_decision_tree"', 'name = "iris\\n"')),
}


@pytest.mark.parametrize("message, text", list(FORMER_BUGS.values()), ids=list(FORMER_BUGS))
def test_former_bug_is_a_clear_error(message: str, text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "experiment.toml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ExperimentError) as err:
            load_experiment(path)
    assert message in str(err.value) and str(path) in str(err.value)
