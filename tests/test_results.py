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

from workbench.atomic import write_json_atomic
from workbench.report import COMPARE_COLUMNS, format_summary, render_comparison
from workbench.results import SCHEMA, NotAZkResult, ResultError, RunDirectory, RunResult, list_runs, load_result

FIXTURES = Path(__file__).resolve().parent / "tui" / "fixtures" / "results"
SCHEMA_1_RUN = FIXTURES / "iris_decision_tree" / "20260102-120000-bbbb"


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


def test_schema_1_files_are_read_and_written_back_as_the_current_schema(tmp_path: Path) -> None:
    raw = json.loads((SCHEMA_1_RUN / "result.json").read_text())
    assert raw["schema"] == 1
    old = load_result(SCHEMA_1_RUN)
    # Flat schema-1 keys land in their schema-2 places.
    assert old.metrics.float_model == raw["metrics"]["float"] and old.metrics.zk == raw["metrics"]["zk"]
    assert old.metrics.quantized_on_zk_rows == raw["metrics_on_zk_samples"]["quantized"]
    assert old.timings.stages["synthesize keys"] == raw["timings"]["stage_synthesize_keys"]
    assert old.timings.keygen == raw["timings"]["keygen"]
    assert old.circuit.functions[0].constraints == raw["circuit"]["functions"][0]["constraints"]
    assert old.disagreements[0].expected == 2 and old.proofs[0].output == "2u8" and old.is_zk
    # Written again, the record is the current schema and reads back equal (no circuit sizes known).
    new = old.to_dict()
    assert new["schema"] == SCHEMA == 5 and list(new)[0] == "schema" and new["prover"] == "snarkvm"
    assert old.circuit.functions[0].shape is None and old.circuit.setup_degree == 16
    write_json_atomic(tmp_path / "result.json", new)
    assert load_result(tmp_path) == old


def test_schema_3_files_read_without_sizes_and_schema_4_keeps_them(tmp_path: Path) -> None:
    good = load_result(SCHEMA_1_RUN).to_dict()
    # A schema-3 file: no shape, estimated_shape or setup_degree keys.
    old_fn = {k: v for k, v in good["circuit"]["functions"][0].items() if k not in ("shape", "estimated_shape")}
    circuit3 = {k: v for k, v in good["circuit"].items() if k != "setup_degree"}
    write_json_atomic(tmp_path / "result.json", {**good, "schema": 3, "circuit": {**circuit3, "functions": [old_fn]}})
    three = load_result(tmp_path)
    assert three.circuit.functions[0].shape is None and three.circuit.functions[0].estimated_shape is None
    # Schema 4 keeps both sizes through a save and a load.
    shape = {"public_inputs": 16, "variables": 11759, "constraints": 11752,
             "nonzero_a": 27150, "nonzero_b": 37298, "nonzero_c": 15779}
    fn = {**good["circuit"]["functions"][0], "shape": shape, "estimated_shape": {**shape, "nonzero_b": 38000}}
    write_json_atomic(tmp_path / "result.json", {**good, "circuit": {**good["circuit"], "functions": [fn]}})
    four = load_result(tmp_path)
    assert four.circuit.functions[0].shape.nonzero_b == 37298
    assert four.circuit.functions[0].estimated_shape.nonzero_b == 38000
    assert four.to_dict()["circuit"]["functions"][0]["shape"] == shape


def test_schema_3_refuses_unknown_and_missing_keys(tmp_path: Path) -> None:
    good = load_result(SCHEMA_1_RUN).to_dict()
    write_json_atomic(tmp_path / "result.json", {**good, "surprise": 1})
    with pytest.raises(ResultError, match="unknown key"):
        load_result(tmp_path)
    bad = {**good, "circuit": {**good["circuit"], "inputs": "secret"}}
    write_json_atomic(tmp_path / "result.json", bad)
    with pytest.raises(ResultError, match="circuit.inputs"):
        load_result(tmp_path)
    missing = {k: v for k, v in good.items() if k != "agreement"}
    write_json_atomic(tmp_path / "result.json", missing)
    with pytest.raises(ResultError, match="agreement: missing"):
        load_result(tmp_path)


def test_a_reference_result_says_so_and_is_never_saved(tmp_path: Path) -> None:
    from workbench.experiment import load_experiment
    from workbench.pipeline import run_experiment
    from workbench.reference_prover import ReferenceProver

    exp = load_experiment(Path(__file__).resolve().parent.parent / "experiments" / "iris_decision_tree.toml")
    result, run_dir = run_experiment(exp, None, prover=ReferenceProver.factory())
    assert run_dir is None and not result.is_zk and result.prover == "reference"
    text = format_summary(result)
    assert "NOT A ZK RESULT" in text and "ZK (snarkVM)" not in text and "reference (no snarkVM)" in text
    run = RunDirectory(tmp_path, exp.name, "r1")
    with pytest.raises(NotAZkResult):
        run.commit(result)
    run.discard()
    # A results directory with the reference backend fails before anything is kept.
    with pytest.raises(NotAZkResult):
        run_experiment(exp, tmp_path, prover=ReferenceProver.factory())
    assert list_runs(tmp_path) == [] and not (tmp_path / exp.name).exists()  # nor an empty experiment directory
    # Compared like any run, its columns still come out (in memory only).
    assert isinstance(result, RunResult) and "iris_decision_tree" in render_comparison([result])


def test_summary_shows_each_size_with_the_setup_limit() -> None:
    from dataclasses import replace

    from workbench.limits import CircuitShape

    r = load_result(SCHEMA_1_RUN)
    assert "circuit sizes" not in format_summary(r)  # older results recorded no sizes
    shape = CircuitShape(16, 11_759, 11_752, 27_150, 37_298, 15_779)
    fn = replace(r.circuit.functions[0], shape=shape, estimated_shape=replace(shape, nonzero_b=38_004))
    text = format_summary(replace(r, circuit=replace(r.circuit, functions=(fn,))))
    line = next(x for x in text.splitlines() if "nnz B" in x)
    assert line.split()[-4:] == ["37,298", "38,004", "65,536", "57%"]
    assert "limit at 2^16" in text and "16,384" in text
