"""CSV files as feature matrices: every problem named by file, line and column.

What a spreadsheet export throws at us: a UTF-8 byte-order mark (Excel writes one), a
semicolon or tab instead of a comma (sniffed from the header unless `[dataset]
delimiter` says), blank lines, quoted cells, empty cells and "NA"-style markers. A row
with a missing or non-numeric feature value or an empty target is an error, or, with
`[dataset] bad_rows = "drop"`, dropped and counted.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbench.errors import UserError

DELIMITERS = (",", ";", "\t", "|")
# Cells read as "no value" (pandas' default markers, the common ones).
MISSING_MARKERS = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-", "#n/a"})
_SHOWN = 5  # problems listed before "... and N more"


class CsvError(UserError):
    """A CSV file that cannot be used as a dataset."""

    title = "invalid CSV data"


@dataclass(frozen=True)
class CsvTable:
    """Features (float64), raw targets (int64 when every label is an integer, float64 when
    numeric, else text), the feature column names and the number of rows dropped."""

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    dropped: int
    dropped_lines: tuple[int, ...]


def _delimiter_name(d: str) -> str:
    return {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(d, repr(d))


def _sniff(first_line: str) -> str:
    # The header decides: the candidate that splits it into the most columns (quotes respected).
    best, best_n = ",", 1
    for d in DELIMITERS:
        n = len(next(csv.reader([first_line], delimiter=d), []))
        if n > best_n:
            best, best_n = d, n
    return best


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CsvError(f"{path}: file not found") from None
    except OSError as exc:
        raise CsvError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return raw.decode("utf-8-sig")  # a leading byte-order mark is dropped
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CsvError(
            f"{path}:{line}: not UTF-8 text (byte {raw[exc.start]:#04x} at offset {exc.start}); "
            "save the file as UTF-8 CSV"
        ) from None


def _number(cell: str) -> float | None:
    """The cell's value; None for a missing marker. Raises ValueError for text."""
    text = cell.strip()
    if text.lower() in MISSING_MARKERS:
        return None
    value = float(text)  # ValueError for text; accepts "1e3", " 2 ", "-0.5"
    if not math.isfinite(value):
        raise _NotFinite(text)
    return value


class _NotFinite(ValueError):
    """A number, but infinite or NaN ("inf", "1e999"): no fixed-point value can hold it."""


def _raise_problems(path: Path, problems: list[str], extra: str = "") -> None:
    shown = problems[:_SHOWN]
    more = f"\n... and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
    raise CsvError("\n".join(f"{path}:{p}" for p in shown) + more + extra)


def read_csv(
    path: Path, target: str, delimiter: str | None = None, drop_bad_rows: bool = False, numeric_target: bool = False
) -> CsvTable:
    """Read a CSV file with a header row: the `target` column and every other column as features.

    `delimiter` None sniffs it from the header. `numeric_target` (regression) requires every
    target cell to be a number.
    """
    text = _read_text(path)
    # Only \n, \r and \r\n end a CSV line (str.splitlines would also split at \x0b, \u2028, ...).
    first = next((ln for ln in re.split(r"\r\n|\r|\n", text) if ln.strip()), None)
    if first is None:
        raise CsvError(f"{path}: the file is empty; expected a header row and data rows")
    delim = delimiter or _sniff(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    header: list[str] | None = None
    header_line = 0
    rows: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue  # blank line
            if header is None:
                header, header_line = [c.strip() for c in row], reader.line_num
            else:
                rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise CsvError(f"{path}:{reader.line_num}: {exc}") from None
    if header is None:
        raise CsvError(f"{path}: no header row; expected the column names on the first line")
    if len(header) < 2:
        hint = "" if delimiter else f" (looked for {', '.join(_delimiter_name(d) for d in DELIMITERS)})"
        raise CsvError(
            f"{path}:{header_line}: the header has a single column {header[0]!r}; expected the target and at least "
            f"one feature separated by a {_delimiter_name(delim)}{hint}; set [dataset] delimiter if the file uses "
            "another one"
        )
    for i, name in enumerate(header, start=1):
        if not name:
            raise CsvError(f"{path}:{header_line}:{i}: column {i} of the header has no name")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise CsvError(f"{path}:{header_line}: duplicate column name(s) {', '.join(repr(d) for d in dupes)}")
    if target not in header:
        close = difflib.get_close_matches(target, header, n=1)
        hint = f'; did you mean "{close[0]}"?' if close else ""
        raise CsvError(f'{path}:{header_line}: [dataset] target: no column named "{target}"{hint} (columns: {", ".join(header)})')
    t = header.index(target)
    feature_cols = [i for i in range(len(header)) if i != t]

    X_rows: list[list[float]] = []
    y_raw: list[str] = []
    problems: list[str] = []
    dropped: list[int] = []
    for line, row in rows:
        if len(row) != len(header):
            problems.append(f"{line}: expected {len(header)} values separated by a {_delimiter_name(delim)}, found {len(row)}")
            continue
        bad = ""
        values: list[float] = []
        for i in feature_cols:
            try:
                v = _number(row[i])
            except _NotFinite:
                bad = bad or f'{line}:{i + 1}: column "{header[i]}": expected a finite number, found {row[i].strip()!r}'
                continue
            except ValueError:
                bad = bad or f'{line}:{i + 1}: column "{header[i]}": expected a number, found {row[i].strip()!r}'
                continue
            if v is None:
                bad = bad or f'{line}:{i + 1}: column "{header[i]}": missing value ({row[i].strip()!r})'
                continue
            values.append(v)
        label = row[t].strip()
        if not bad and label.lower() in MISSING_MARKERS:
            bad = f'{line}:{t + 1}: target column "{target}": missing value ({label!r})'
        if not bad and numeric_target:
            try:
                _number(label)
            except ValueError:
                bad = f'{line}:{t + 1}: target column "{target}": expected a number (a regression target), found {label!r}'
        if bad:
            if drop_bad_rows:
                dropped.append(line)
            else:
                problems.append(bad)
            continue
        X_rows.append(values)
        y_raw.append(label)
    if problems:
        remedy = "" if drop_bad_rows else '\n(set [dataset] bad_rows = "drop" to skip rows with missing or non-numeric values)'
        _raise_problems(path, problems, remedy if any("value" in p or "number" in p for p in problems) else "")
    if not X_rows:
        raise CsvError(f"{path}: no usable data rows" + (f" ({len(dropped)} dropped)" if dropped else ""))
    return CsvTable(
        X=np.array(X_rows, dtype=np.float64),
        y=_targets(y_raw),
        feature_names=tuple(header[i] for i in feature_cols),
        dropped=len(dropped),
        dropped_lines=tuple(dropped),
    )


def _targets(labels: list[str]) -> np.ndarray:
    """Numbers when every label is one (int64 when all are whole), else the labels as text."""
    try:
        y = np.array([float(v) for v in labels])
    except ValueError:
        return np.array(labels)
    if np.all(np.isfinite(y)) and np.all(y == np.round(y)):
        return y.astype(np.int64)
    return y
