"""`workbench verify`: saved proofs re-verified from the program and verifying key alone."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.snarkvm.verifier import verify_run

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


def test_untouched_run_verifies_in_a_fresh_process(iris_run: Path) -> None:
    proc = _verify_cli(iris_run)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((iris_run / "result.json").read_text())
    attested = result["proofs"][0]["output"].removesuffix(".public")
    assert f"PASS  proofs/sample-0000.execution.json  attests iris_decision_tree.aleo/main: {attested}" in proc.stdout
    assert "1/1 proofs verified" in proc.stdout


def test_altered_proof_fails(iris_run: Path, tmp_path: Path) -> None:
    run = _copy(iris_run, tmp_path)
    proof = run / "proofs" / "sample-0000.execution.json"
    data = json.loads(proof.read_text())
    out = data["transitions"][0]["outputs"][0]
    value = int(out["value"].removesuffix("u8"))
    out["value"] = f"{(value + 1) % 3}u8"  # claim another class
    proof.write_text(json.dumps(data))
    checks = verify_run(run)
    assert [c.verified for c in checks] == [False]
    proc = _verify_cli(run)
    assert proc.returncode == 1 and "FAIL" in proc.stdout and "0/1 proofs verified" in proc.stdout


def test_altered_program_fails(iris_run: Path, tmp_path: Path) -> None:
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
    assert verify_run(run)[0].verified is False


def test_altered_verifying_key_fails(iris_run: Path, tmp_path: Path) -> None:
    run = _copy(iris_run, tmp_path)
    vk = run / "verifying_keys" / "iris_decision_tree.main.verifier"
    data = bytearray(vk.read_bytes())
    data[len(data) // 2] ^= 0x01
    vk.write_bytes(bytes(data))
    proc = _verify_cli(run)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "PASS" not in proc.stdout


def test_missing_verifying_key_fails_rather_than_resynthesizing(iris_run: Path, tmp_path: Path) -> None:
    run = _copy(iris_run, tmp_path)
    (run / "verifying_keys" / "iris_decision_tree.main.verifier").unlink()
    checks = verify_run(run)
    assert checks[0].verified is False and "no verifying key" in (checks[0].error or "")
