"""Re-verify the proofs saved in a run directory from the program and verifying keys alone.

No dataset, model or proving key is used: this is what a third party holding only the run
directory can check. snarkVM binds each transition to the program's checksum, so a proof
checked against an altered program, an altered verifying key or an altered proof fails.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from aleo import mainnet as avm

from workbench import linked
from workbench.errors import UserError
from workbench.snarkvm import params
from workbench.snarkvm.process import is_vm_failure


@dataclass(frozen=True)
class ProofCheck:
    """The outcome of re-verifying one saved proof."""

    path: str
    public_outputs: list[str]
    verified: bool
    seconds: float
    error: str | None = None


def _public_outputs(execution_json: str) -> list[str]:
    try:
        data = json.loads(execution_json)
        return [
            f"{t['program']}/{t['function']}: {o['value']}"
            for t in data.get("transitions", [])
            for o in t.get("outputs", [])
            if o.get("type") == "public"
        ]
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
        return []


def _transition_functions(execution_json: str) -> list[str]:
    try:
        return [f"{t['program']}/{t['function']}" for t in json.loads(execution_json).get("transitions", [])]
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
        return []


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class Verifier:
    """A snarkVM process holding a directory's programs (`*.aleo`) and verifying keys
    (`verifying_keys/<program>.<function>.verifier`): the layout of a run directory and of
    a saved model (`zk.save`). No proving key, model or data is read."""

    def __init__(self, directory: Path) -> None:
        directory = Path(directory)
        programs = sorted(directory.glob("*.aleo"))
        if not programs:
            raise UserError(f"{directory}: no compiled program (*.aleo) found; is this a run or a saved model?")
        params.ensure_installed()
        self.process = avm.Process.load()
        # Programs are added in dependency order: a program's imports before the program.
        pending = {p: p.read_text() for p in programs}
        added: set[str] = set()
        while pending:
            progress = False
            for path, source in list(pending.items()):
                try:
                    program = avm.Program.from_source(source)
                except (RuntimeError, ValueError) as exc:
                    raise UserError(f"{path}: not a valid Aleo program: {_first_line(exc)}") from None
                if all(str(i) in added for i in program.imports):
                    self.process.add_program(program)
                    added.add(str(program.id))
                    del pending[path]
                    progress = True
            if not progress:
                raise UserError(f"{directory}: programs import programs that are not in the directory")
        self.keys: set[str] = set()
        for vk_path in sorted((directory / "verifying_keys").glob("*.verifier")):
            program, _, function = vk_path.name.removesuffix(".verifier").rpartition(".")
            self.keys.add(f"{program}.aleo/{function}")
            try:
                vk = avm.VerifyingKey.from_bytes(vk_path.read_bytes())
            except (RuntimeError, ValueError) as exc:
                raise UserError(f"{vk_path}: not a verifying key: {_first_line(exc)}") from None
            self.process.insert_verifying_key(
                avm.ProgramID.from_string(f"{program}.aleo"), avm.Identifier.from_string(function), vk
            )

    def check(self, execution_json: str, label: str) -> ProofCheck:
        """Verify one execution JSON, or a bundle of linked executions (workbench/linked.py:
        every link's proof, then the chain of commitments); a failure is a result
        (`verified` False with the reason)."""
        t0 = time.perf_counter()
        texts = linked.link_executions(execution_json)
        outputs = [o for text in texts for o in _public_outputs(text)]
        # Without a saved key snarkVM would synthesize one from the program, which is not a
        # check of what was saved: every transition needs its verifying key file.
        missing = [t for text in texts for t in _transition_functions(text) if t not in self.keys]
        if missing:
            return ProofCheck(label, outputs, False, 0.0, f"no verifying key for {', '.join(missing)}")
        failure = execution_failure(self.process, execution_json)
        return ProofCheck(label, outputs, failure is None, time.perf_counter() - t0, failure)


def execution_failure(process: avm.Process, execution_json: str, handles: Sequence[Any] | None = None) -> str | None:
    """Why an execution, or a bundle of linked executions (workbench/linked.py), does not
    verify against `process`'s keys: the first link whose proof fails, else what breaks the
    chain of commitments; None when it verifies. `handles`: the links' Execution objects
    when the caller still has them (no JSON parsed again)."""
    texts = linked.link_executions(execution_json)
    objects = list(handles) if handles is not None and len(handles) == len(texts) else [None] * len(texts)
    for k, (text, handle) in enumerate(zip(texts, objects)):
        try:
            process.verify_execution(handle if handle is not None else avm.Execution.from_json(text))
        except BaseException as exc:
            if not is_vm_failure(exc):
                raise
            where = f"link {k + 1} of {len(texts)}: " if len(texts) > 1 else ""
            return where + _first_line(exc)
    problems = linked.chain_problems(execution_json) if linked.is_bundle(execution_json) else []
    return "; ".join(problems) or None


def attested_outputs(execution_json: str, program: str) -> list[str] | None:
    """The values of `program`'s transition outputs in an execution (the last such
    transition: the entry function's), as snarkVM printed them; None if absent or malformed.
    For linked executions, the prediction the last link outputs after its commitments."""
    if linked.is_bundle(execution_json):
        return linked.prediction_outputs(execution_json)
    try:
        transitions = [t for t in json.loads(execution_json).get("transitions", []) if t.get("program") == program]
        return [str(o.get("value")) for o in transitions[-1].get("outputs", [])] if transitions else None
    except (json.JSONDecodeError, TypeError, AttributeError):
        return None
