"""CSV datasets as a newcomer's spreadsheet exports them: every problem named by file, line
and column; byte-order marks, other delimiters and string labels just work."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from workbench import stages
from workbench.algorithms import catalogue
from workbench.csvdata import CsvError, read_csv
from workbench.data import load_dataset
from workbench.errors import UserError
from workbench.experiment import DatasetSpec, load_experiment
from workbench.kinds import Task

ROWS = [(1, 2, "cat"), (3, 4, "dog"), (5, 6, "cat"), (7, 8, "dog"), (1, 3, "cat"), (2, 2, "dog"),
        (4, 4, "cat"), (5, 5, "dog"), (6, 6, "cat"), (7, 7, "dog"), (1, 1, "bird"), (2, 1, "bird"), (3, 1, "bird")]


def _write(tmp_path: Path, text: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def _table(rows: list[tuple[object, ...]], sep: str = ",", header: str = "a,b,label") -> str:
    return header.replace(",", sep) + "\n" + "".join(sep.join(str(v) for v in r) + "\n" for r in rows)


def _spec(path: Path, **kw: object) -> DatasetSpec:
    return DatasetSpec(name="csv", csv_path=path, target="label", test_size=0.3, **kw)  # type: ignore[arg-type]


def test_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = _write(tmp_path, b"\xef\xbb\xbf" + _table(ROWS).encode())
    table = read_csv(path, "label")
    assert table.feature_names == ("a", "b")  # not "\ufeffa"
    assert len(table.y) == len(ROWS)


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_other_delimiters_are_sniffed_from_the_header(tmp_path: Path, sep: str) -> None:
    table = read_csv(_write(tmp_path, _table(ROWS, sep)), "label")
    assert table.feature_names == ("a", "b") and table.X.shape == (len(ROWS), 2)


def test_semicolon_file_with_decimal_commas_in_quotes_is_read_with_a_declared_delimiter(tmp_path: Path) -> None:
    path = _write(tmp_path, 'a;b;label\n"1";2;x\n3;4;y\n')
    table = read_csv(path, "label", delimiter=";")
    assert table.X.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_missing_feature_value_names_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "a,b,label\n1,2,0\n3,,1\n5,6,0\n")
    with pytest.raises(CsvError) as err:
        read_csv(path, "label")
    message = str(err.value)
    assert f'{path}:3:2: column "b": missing value' in message
    assert 'bad_rows = "drop"' in message


def test_non_numeric_feature_names_line_column_and_value(tmp_path: Path) -> None:
    path = _write(tmp_path, "a,b,label\n1,2,0\n3,abc,1\n")
    with pytest.raises(CsvError, match=r'data.csv:3:2: column "b": expected a number, found \'abc\''):
        read_csv(path, "label")


def test_empty_target_cell_is_an_error_never_a_class_named_empty(tmp_path: Path) -> None:
    path = _write(tmp_path, "a,b,label\n1,2,0\n3,4,\n5,6,1\n")
    with pytest.raises(CsvError, match=r'data.csv:3:3: target column "label": missing value'):
        read_csv(path, "label")


def test_bad_rows_can_be_dropped_and_are_counted(tmp_path: Path) -> None:
    rows = [*ROWS, (1, "NA", "cat"), ("x", 2, "dog"), (3, 3, "")]
    path = _write(tmp_path, _table(rows))
    table = read_csv(path, "label", drop_bad_rows=True)
    assert table.dropped == 3 and table.dropped_lines == (15, 16, 17)
    data = load_dataset(_spec(path, bad_rows="drop"), 0, Task.CLASSIFICATION)
    assert data.dropped_rows == 3 and len(data.X_train) + len(data.X_test) == len(ROWS)


def test_many_problems_are_listed_up_to_a_limit(tmp_path: Path) -> None:
    path = _write(tmp_path, "a,b,label\n" + "".join(f"{i},x,0\n" for i in range(9)))
    message = str(pytest.raises(CsvError, read_csv, path, "label").value)
    assert message.count("expected a number") == 5 and "... and 4 more" in message


def test_wrong_number_of_values(tmp_path: Path) -> None:
    path = _write(tmp_path, "a,b,label\n1,2,0\n1,2\n")
    with pytest.raises(CsvError, match=r"data.csv:3: expected 3 values separated by a comma, found 2"):
        read_csv(path, "label")


def test_single_column_header_suggests_the_delimiter(tmp_path: Path) -> None:
    path = _write(tmp_path, "a b label\n1 2 0\n")
    with pytest.raises(CsvError, match=r"data.csv:1: the header has a single column 'a b label'.*delimiter"):
        read_csv(path, "label")


def test_unknown_target_suggests_a_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "a,b,Label\n1,2,0\n")
    with pytest.raises(CsvError, match=r'no column named "label"; did you mean "Label"\?'):
        read_csv(path, "label")


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, b"a,b,label\n1,2,0\n3,4,\xe9t\xe9\n")
    with pytest.raises(CsvError, match=r"data.csv:3: not UTF-8 text"):
        read_csv(path, "label")


def test_empty_file_and_duplicate_columns(tmp_path: Path) -> None:
    with pytest.raises(CsvError, match="empty"):
        read_csv(_write(tmp_path, "\n\n"), "label")
    with pytest.raises(CsvError, match="duplicate column name"):
        read_csv(_write(tmp_path, "a,a,label\n1,2,0\n"), "label")


def test_blank_lines_and_quoted_cells_are_fine(tmp_path: Path) -> None:
    table = read_csv(_write(tmp_path, 'a,"b, with comma",label\n\n1,2,"x"\n\n3,4,y\n'), "label")
    assert table.feature_names == ("a", "b, with comma") and table.y.tolist() == ["x", "y"]


def test_string_labels_become_indices_with_the_names_kept(tmp_path: Path) -> None:
    data = load_dataset(_spec(_write(tmp_path, _table(ROWS))), 0, Task.CLASSIFICATION)
    assert data.class_names == ("bird", "cat", "dog")
    assert set(np.unique(data.y_train)) == {0, 1, 2}


@pytest.mark.parametrize("algorithm", ["xgb_classifier", "decision_tree_classifier", "logistic_regression"])
def test_string_labels_train_every_kind_of_classifier(tmp_path: Path, algorithm: str) -> None:
    data = load_dataset(_spec(_write(tmp_path, _table(ROWS))), 0, Task.CLASSIFICATION)
    family = catalogue.get(algorithm)
    params = {"n_estimators": 3, "max_depth": 2} if algorithm == "xgb_classifier" else {}
    trained = stages.train(family, params, data, 0)
    assert set(np.unique(trained.y_float)) <= {0, 1, 2}


def test_single_class_is_refused_for_a_classifier(tmp_path: Path) -> None:
    path = _write(tmp_path, _table([(i, i + 1, "yes") for i in range(10)]))
    with pytest.raises(UserError, match=r"single class \('yes' in all 10 rows\)"):
        load_dataset(_spec(path), 0, Task.CLASSIFICATION)


def test_too_few_rows_say_how_many_and_what_is_needed(tmp_path: Path) -> None:
    path = _write(tmp_path, _table([(1, 2, 0), (2, 3, 1)]))
    with pytest.raises(UserError, match=r"2 rows with test_size 0.3 leave 1 training and 1 test rows"):
        load_dataset(_spec(path), 0, Task.REGRESSION)
    rare = _write(tmp_path, _table([*ROWS, (9, 9, "fish")]), "rare.csv")
    with pytest.raises(UserError, match=r"class 'fish' has a single row"):
        load_dataset(_spec(rare), 0, Task.CLASSIFICATION)


def test_regression_needs_numeric_targets(tmp_path: Path) -> None:
    path = _write(tmp_path, _table(ROWS))
    with pytest.raises(CsvError, match=r"data.csv:2:3: target column \"label\": expected a number \(a regression target\)"):
        load_dataset(_spec(path), 0, Task.REGRESSION)


def test_toml_options_reach_the_loader(tmp_path: Path) -> None:
    _write(tmp_path, _table(ROWS, ";"))
    toml = tmp_path / "exp.toml"
    toml.write_text(
        '[experiment]\nname = "t"\n[dataset]\nname = "csv"\npath = "data.csv"\ntarget = "label"\n'
        'delimiter = ";"\nbad_rows = "drop"\n[model]\nalgorithm = "decision_tree_classifier"\n'
    )
    exp = load_experiment(toml)
    assert exp.dataset.delimiter == ";" and exp.dataset.bad_rows == "drop"
    toml.write_text(toml.read_text().replace('bad_rows = "drop"', 'bad_rows = "skip"').replace('";"', '";;"'))
    message = str(pytest.raises(UserError, load_experiment, toml).value)
    assert "[dataset] delimiter: expected one character" in message
    assert '[dataset] bad_rows: expected one of "error", "drop"' in message


# -- fuzzing: whatever the file holds, only the workbench's own errors come out ----------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from workbench.errors import WorkbenchError  # noqa: E402

_CELLS = st.one_of(
    st.sampled_from(["", " ", "NA", "nan", "inf", "-inf", "1e999", "?", "-", "1", "0", "-2.5", "1e3", "x", '"', '""',
                     "label", "a", "\ufeff", "\r", "\n", ";", ",", "\t", "0x10", "1_000", "١", "½"]),
    st.text(max_size=6),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**30), 10**30).map(str),
)
_LINES = st.lists(st.lists(_CELLS, min_size=0, max_size=5), min_size=0, max_size=12)


def _load_or_report(data: bytes, task: Task, drop: bool, delimiter: str | None) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.csv"
        path.write_bytes(data)
        spec = DatasetSpec(name="csv", csv_path=path, target="label", test_size=0.3,
                           delimiter=delimiter, bad_rows="drop" if drop else "error")
        try:
            data_ = load_dataset(spec, 0, task)
        except WorkbenchError as exc:
            assert str(exc).strip() and str(path) in str(exc)
            return
        # Accepted: finite features, a proper split, classes as indices.
        assert np.all(np.isfinite(data_.X_train)) and len(data_.X_test) >= 1
        if task != Task.REGRESSION:
            assert data_.class_names and set(np.unique(data_.y_train)) <= set(range(len(data_.class_names)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_LINES, sep=st.sampled_from([",", ";", "\t", "|"]), bom=st.booleans(),
       task=st.sampled_from([Task.CLASSIFICATION, Task.REGRESSION]), drop=st.booleans(),
       declared=st.booleans())
def test_fuzz_csv_tables(rows: list[list[str]], sep: str, bom: bool, task: Task, drop: bool, declared: bool) -> None:
    header = sep.join(["a", "b", "label"]) + "\n"
    text = header + "".join(sep.join(r) + "\n" for r in rows)
    _load_or_report((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"), task, drop, sep if declared else None)


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=300), task=st.sampled_from([Task.CLASSIFICATION, Task.REGRESSION]))
def test_fuzz_csv_bytes(data: bytes, task: Task) -> None:
    _load_or_report(data, task, False, None)


def test_an_infinite_value_is_named_as_such(tmp_path: Path) -> None:
    path = _write(tmp_path, "a,b,label\n1,2,0\n3,1e999,1\n")
    with pytest.raises(CsvError, match=r'data.csv:3:2: column "b": expected a finite number, found \'1e999\''):
        read_csv(path, "label")
