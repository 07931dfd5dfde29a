"""`workbench verify RUN_DIR`: check that a saved run's files bind every claim its result.json makes.

A run passes only when all of these hold:
- result.json is readable and is a workbench result;
- the `.aleo` programs are the ones the run recorded (SHA-256 in result.json) and the
  saved Leo projects compile to them (with the built-in compiler; a run built with a
  `leo` binary is recompiled with that binary when it is on PATH);
- the proof files are exactly those result.json lists, each verifies against the saved
  programs and verifying keys (snarkVM), and the output each attests is the output
  result.json claims for it (and reads as the labels it claims).

With a private output the proof attests a ciphertext: the claim cannot be checked without
the owner's view key, and the report says so instead of passing it silently.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.kinds import Visibility
from workbench.results import RESULT_FILE, RunResult, load_result


@dataclass(frozen=True)
class Check:
    """One claim checked: what, whether it holds (None: could not be checked), and why."""

    what: str
    passed: bool | None
    detail: str = ""


@dataclass(frozen=True)
class Audit:
    """Every check of a run directory; `passed` only when none failed and the proofs verified."""

    run_dir: Path
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed is not False for c in self.checks) and any(
            c.what.startswith("proofs/") and c.passed for c in self.checks
        )

    @property
    def proofs(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.what.startswith("proofs/"))


def _programs(run_dir: Path, result: RunResult) -> tuple[str, ...]:
    """The run's program ids, main last: as result.json lists them, or (older runs) the saved files."""
    return result.circuit.programs or tuple(p.name for p in sorted(run_dir.glob("*.aleo")))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_programs(run_dir: Path, result: RunResult) -> list[Check]:
    checks = []
    saved = {p.name for p in run_dir.glob("*.aleo")}
    claimed = {f"{p.removesuffix('.aleo')}.aleo" for p in _programs(run_dir, result)}
    if not result.circuit.programs:
        checks.append(Check("programs", None, "result.json does not list its programs (a run saved before schema 2)"))
    elif saved != claimed:
        checks.append(Check("programs", False, f"result.json lists {sorted(claimed)}, the directory holds {sorted(saved)}"))
    recorded = result.circuit.program_sha256
    for name in sorted(saved & claimed):
        want = recorded.get(name)
        if want is None:
            checks.append(Check(name, None, "no SHA-256 recorded (a run saved before result schema 3)"))
        elif _sha256(run_dir / name) != want:
            checks.append(Check(name, False, "differs from the program the run proved (SHA-256 in result.json)"))
        else:
            checks.append(Check(name, True, "SHA-256 as recorded"))
    return checks


def _check_leo(run_dir: Path, result: RunResult) -> list[Check]:
    """Compile the saved Leo projects in a scratch copy and compare with the saved `.aleo` files."""
    from workbench.leo import toolchain

    leo_root = run_dir / "leo"
    if not leo_root.is_dir():
        return [Check("leo/", False, "no Leo projects saved")]
    compiler = result.versions.get("compiler", "")
    choice = "leo" if compiler.startswith("leo ") else "workbench"
    if choice == "leo" and shutil.which("leo") is None:
        return [Check("leo/", None, f"built with {compiler}, which is not on PATH here: not recompiled")]
    checks = []
    with tempfile.TemporaryDirectory(prefix="workbench-verify-") as tmp:
        copy = Path(tmp) / "leo"
        shutil.copytree(leo_root, copy, ignore=shutil.ignore_patterns("build"))
        for program in _programs(run_dir, result):
            name = program.removesuffix(".aleo")
            saved = run_dir / f"{name}.aleo"
            if not (copy / name).is_dir():
                checks.append(Check(f"leo/{name}", False, "Leo project missing"))
                continue
            try:
                built = toolchain.build(copy / name, choice)
            except WorkbenchError as exc:
                checks.append(Check(f"leo/{name}", False, f"does not compile: {str(exc).splitlines()[0]}"))
                continue
            same = saved.is_file() and built.aleo.strip() == saved.read_text().strip()
            checks.append(
                Check(f"leo/{name}", same, f"compiles to {name}.aleo" if same else f"compiles to a program other than {name}.aleo")
            )
    return checks


def _check_proofs(run_dir: Path, result: RunResult) -> list[Check]:
    from workbench.snarkvm.verifier import Verifier, attested_outputs

    listed = {p.path: p for p in result.proofs if p.path}
    present = {str(p.relative_to(run_dir)) for p in (run_dir / "proofs").glob("*.execution.json")}
    checks = [Check(path, False, "proof file not listed in result.json") for path in sorted(present - set(listed))]
    checks += [Check(path, False, "listed in result.json but missing") for path in sorted(set(listed) - present)]
    if not (present & set(listed)):
        return checks or [Check("proofs/", False, "no proofs to verify (proofs/*.execution.json)")]
    try:
        verifier = Verifier(run_dir)
    except WorkbenchError as exc:
        return checks + [Check("proofs/", False, str(exc))]
    programs = _programs(run_dir, result)
    main = f"{programs[-1].removesuffix('.aleo')}.aleo" if programs else ""
    for path in sorted(present & set(listed)):
        record = listed[path]
        text = (run_dir / path).read_text()
        crypto = verifier.check(text, path)
        if not crypto.verified:
            checks.append(Check(path, False, f"does not verify: {crypto.error}"))
            continue
        attested = attested_outputs(text, main) or []
        first = attested[0].removesuffix(".public") if attested else ""
        if result.circuit.output != Visibility.PUBLIC:
            checks.append(Check(path, True, f"verifies; output private: the claimed {record.output} cannot be checked "
                                            "without the owner's view key"))
        elif first != record.output:
            checks.append(Check(path, False, f"verifies, but attests {first or 'nothing'} while result.json claims {record.output}"))
        elif record.prediction and list(record.prediction) != result.read_output(first):
            checks.append(Check(path, False, f"attests {first}, which reads as {', '.join(result.read_output(first))}, "
                                             f"not the claimed {', '.join(record.prediction)}"))
        else:
            checks.append(Check(path, True, f"attests {main}/{_entry(result, main)}: {first}{_reads_as(result, first)}"))
    return checks


def _entry(result: RunResult, program: str) -> str:
    return next((f.function for f in result.circuit.functions if f.program == program), "main")


def _reads_as(result: RunResult, literal: str) -> str:
    """` = virginica` when outputs are class labels or scaled values; nothing for a bare index."""
    if result.circuit.output_labels is None and result.circuit.output_divisor is None:
        return ""
    return " = " + ", ".join(result.read_output(literal))


def audit_run(run_dir: Path) -> Audit:
    """Check everything a saved run claims (see the module docstring); never raises for a bad run."""
    run_dir = Path(run_dir)
    try:
        result = load_result(run_dir)
    except WorkbenchError as exc:
        return Audit(run_dir, (Check(RESULT_FILE, False, str(exc)),))
    written = json.loads((run_dir / RESULT_FILE).read_text(encoding="utf-8")).get("schema")  # as saved, before conversion
    checks = [Check(RESULT_FILE, True, f"schema {written}, run {result.run_id}")]
    checks += _check_programs(run_dir, result)
    checks += _check_leo(run_dir, result)
    checks += _check_proofs(run_dir, result)
    return Audit(run_dir, tuple(checks))
