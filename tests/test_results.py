"""Saved results: loading errors, listing, comparing in three formats."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.results import (
    COMPARE_COLUMNS,
    ResultError,
    list_runs,
    load_result,
    render_comparison,
)
from workbench.atomic import write_json_atomic


def test_corrupt_and_newer_results_give_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "result.json").write_text("{not json")
    with pytest.raises(ResultError, match="corrupt JSON"):
        load_result(tmp_path)
    write_json_atomic(tmp_path / "result.json", {"schema": 99})
    with pytest.raises(ResultError, match="schema 99"):
        load_result(tmp_path)
    write_json_atomic(tmp_path / "result.json", {"schema": 1, "run_id": "x"})
    with pytest.raises(ResultError, match="does not match result schema 1"):
        load_result(tmp_path)
    with pytest.raises(ResultError, match="no such file"):
        load_result(tmp_path / "missing")


def test_cli_reports_corrupt_result_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "result.json").write_text("[]")
    proc = subprocess.run([sys.executable, "-m", "workbench", "compare", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "not a workbench result" in proc.stderr


def test_atomic_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    write_json_atomic(tmp_path / "x.json", {"a": 1})
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]
    assert json.loads((tmp_path / "x.json").read_text()) == {"a": 1}


@pytest.mark.slow
def test_compare_two_runs_in_every_format(iris_run: Path, tmp_path: Path) -> None:
    root = tmp_path / "results"
    exp_dir = root / "iris_decision_tree"
    exp_dir.mkdir(parents=True)
    a = exp_dir / iris_run.name
    shutil.copytree(iris_run, a)
    b = exp_dir / (iris_run.name + "b")
    shutil.copytree(iris_run, b)
    (exp_dir / ".partial-zzz").mkdir()  # staging directories are never listed
    assert list_runs(root) == [a, b] and list_runs(root, "iris_decision_tree") == [a, b]
    results = [load_result(a), load_result(b)]

    table = render_comparison(results)
    assert "iris_decision_tree" in table and table.count("decision_tree_classifier") == 2

    md = render_comparison(results, "markdown").splitlines()
    assert md[0].startswith("| run | experiment |") and md[1].startswith("|---|") and len(md) == 4

    rows = list(csv.DictReader(io.StringIO(render_comparison(results, "csv", sort="zk"))))
    assert list(rows[0]) == list(COMPARE_COLUMNS) and len(rows) == 2
    assert float(rows[0]["agreement"]) == 1.0 and int(rows[0]["constraints_max"]) > 10_000

    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "compare", "--results", str(root), "--experiment", "iris_decision_tree",
         "--format", "markdown", "--sort", "prove_s"],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0 and proc.stdout.count("| iris_decision_tree |") == 2
    bad = subprocess.run([sys.executable, "-m", "workbench", "compare", "--results", str(root), "--sort", "nope"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown column" in bad.stderr
