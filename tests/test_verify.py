"""`workbench verify RUN_DIR`: every claim of a saved run checked from its files alone
(program, verifying keys, proofs, Leo projects, result.json), in a fresh process."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.run_audit import audit_run

pytestmark = pytest.mark.slow


def _copy(run_dir: Path, tmp_path: Path) -> Path:
    dst = tmp_path / run_dir.name
    shutil.copytree(run_dir, dst)
    return dst


def _verify_cli(run_dir: Path) -> subprocess.CompletedProcess[str]:
    # A fresh process: nothing of the run that produced the proof is in memory.
    return subprocess.run(
        [sys.executable, "-m", "workbench", "verify", str(run_dir)], capture_output=True, text=True, timeout=300
    )


def _failed(run_dir: Path) -> dict[str, str]:
    return {c.what: c.detail for c in audit_run(run_dir).checks if c.passed is False}


def test_untouched_run_verifies_in_a_fresh_process(iris_run: Path) -> None:
    proc = _verify_cli(iris_run)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads((iris_run / "result.json").read_text())
    attested = result["proofs"][0]["output"]
    name = result["proofs"][0]["prediction"][0]
    assert name in ("setosa", "versicolor", "virginica")  # the class name, kept in result.json
    assert f"PASS  proofs/sample-0000.execution.json  attests iris_decision_tree.aleo/main: {attested} = {name}" in proc.stdout
    assert "PASS  iris_decision_tree.aleo  SHA-256 as recorded" in proc.stdout
    assert "PASS  leo/iris_decision_tree  compiles to iris_decision_tree.aleo" in proc.stdout
    assert "1/1 proofs verified; every claim checked" in proc.stdout


def test_altered_proof_fails(iris_run: Path, tmp_path: Path) -> None:
    run = _copy(iris_run, tmp_path)
    proof = run / "proofs" / "sample-0000.execution.json"
    data = json.loads(proof.read_text())
    out = data["transitions"][0]["outputs"][0]
    value = int(out["value"].removesuffix("u8"))
    out["value"] = f"{(value + 1) % 3}u8"  # claim another class
    proof.write_text(json.dumps(data))
    assert "does not verify" in _failed(run)["proofs/sample-0000.execution.json"]
    proc = _verify_cli(run)
    assert proc.returncode == 1 and "FAIL" in proc.stdout and "0/1 proofs verified" in proc.stdout


def test_a_claimed_output_other_than_the_attested_one_fails(iris_run: Path, tmp_path: Path) -> None:
    run = _copy(iris_run, tmp_path)
    result = json.loads((run / "result.json").read_text())
    attested = result["proofs"][0]["output"]
    other = f"{(int(attested.removesuffix('u8')) + 1) % 3}u8"
    result["proofs"][0]["output"] = other
    (run / "result.json").write_text(json.dumps(result))
    assert f"while result.json claims {other}" in _failed(run)["proofs/sample-0000.execution.json"]
    # The output right but its reading (the class name) wrong: also a failure.
    result["proofs"][0]["output"] = attested
    result["proofs"][0]["prediction"] = ["not-a-class"]
    (run / "result.json").write_text(json.dumps(result))
    assert "not the claimed not-a-class" in _failed(run)["proofs/sample-0000.execution.json"]


def test_a_missing_or_corrupt_result_json_is_a_failure_never_a_pass(iris_run: Path, tmp_path: Path) -> None:
    run = _copy(iris_run, tmp_path)
    (run / "result.json").write_text('{"schema": 3, "run_id": ')
    assert "corrupt JSON" in _failed(run)["result.json"]
    proc = _verify_cli(run)
    assert proc.returncode == 1 and "FAIL  result.json" in proc.stdout and "Traceback" not in proc.stderr
    (run / "result.json").unlink()
    assert "no such file" in _failed(run)["result.json"]


def test_altered_program_fails_its_recorded_hash_and_its_proofs(iris_run: Path, tmp_path: Path) -> None:
    run = _copy(iris_run, tmp_path)
    program = run / "iris_decision_tree.aleo"
    text = program.read_text()
    # Change one threshold of the tree: a different model than the one proven.
    first_lte = next(line for line in text.splitlines() if line.strip().startswith("lte "))
    parts = first_lte.split()
    literal = parts[2]
    number, _, suffix = literal.partition("i")
    changed = first_lte.replace(literal, f"{int(number) + 1}i{suffix}")
    program.write_text(text.replace(first_lte, changed))
    failed = _failed(run)
    assert "differs from the program the run proved" in failed["iris_decision_tree.aleo"]
    assert "compiles to a program other than" in failed["leo/iris_decision_tree"]
    assert "does not verify" in failed["proofs/sample-0000.execution.json"]


def test_altered_leo_source_fails(iris_run: Path, tmp_path: Path) -> None:
    run = _copy(iris_run, tmp_path)
    main = run / "leo" / "iris_decision_tree" / "src" / "main.leo"
    text = main.read_text()
    threshold = re.search(r"<= (-?\d+)(i\d+)", text)  # the first threshold of the tree
    assert threshold is not None
    main.write_text(text.replace(threshold.group(0), f"<= {int(threshold.group(1)) + 1}{threshold.group(2)}", 1))
    assert "compiles to a program other than iris_decision_tree.aleo" in _failed(run)["leo/iris_decision_tree"]
    assert list(_failed(run)) == ["leo/iris_decision_tree"]  # the proofs themselves still verify


def test_an_unlisted_proof_file_fails(iris_run: Path, tmp_path: Path) -> None:
    run = _copy(iris_run, tmp_path)
    shutil.copy(run / "proofs" / "sample-0000.execution.json", run / "proofs" / "sample-0009.execution.json")
    assert "not listed in result.json" in _failed(run)["proofs/sample-0009.execution.json"]


def test_altered_verifying_key_fails(iris_run: Path, tmp_path: Path) -> None:
    run = _copy(iris_run, tmp_path)
    vk = run / "verifying_keys" / "iris_decision_tree.main.verifier"
    data = bytearray(vk.read_bytes())
    data[len(data) // 2] ^= 0x01
    vk.write_bytes(bytes(data))
    proc = _verify_cli(run)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "PASS  proofs/" not in proc.stdout


def test_missing_verifying_key_fails_rather_than_resynthesizing(iris_run: Path, tmp_path: Path) -> None:
    run = _copy(iris_run, tmp_path)
    (run / "verifying_keys" / "iris_decision_tree.main.verifier").unlink()
    assert "no verifying key" in _failed(run)["proofs/sample-0000.execution.json"]
