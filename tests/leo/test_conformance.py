"""Golden conformance tests: each ``cases/<stem>.leo`` with a sibling expectation.

* ``<stem>.json``: ``{"runs": [{"function", "inputs", "outputs" | "halts"}]}``; the program
  is compiled by the workbench and executed by snarkVM, and the outputs must match.
* ``<stem>.err``: the program must be rejected; the file holds a substring of the rendered
  diagnostic, including its ``line:col``.
* ``<stem>.aleo`` (optional, next to a ``.json``): the exact Aleo instructions the program
  compiles to. Checked without snarkVM, so a change in the output shows in the fast tier.

A case may ``import name.aleo;`` a program kept in ``cases/imports/name.leo``: it is compiled
first (with its own imports), its signature is passed to the compiler, and it is added to
snarkVM before the case. A run may give ``"transitions"``: one per function executed, so
one plus one per call to another program.
"""

from __future__ import annotations

import json
import pathlib
import re

import pytest

from workbench.leo.compiler import CompiledProgram, LeoCompileError, compile_source

CASES = pathlib.Path(__file__).parent / "cases"
IMPORTS = CASES / "imports"
RUN_STEMS = sorted(p.stem for p in CASES.glob("*.json"))
ERR_STEMS = sorted(p.stem for p in CASES.glob("*.err"))
ALEO_STEMS = sorted(p.stem for p in CASES.glob("*.aleo"))
_IMPORT = re.compile(r"^\s*import\s+([a-z0-9_]+)\.aleo\s*;", re.MULTILINE)


def _compile(source: str, filename: str, loaded: dict[str, CompiledProgram]) -> CompiledProgram:
    """Compile ``source`` after the programs it imports; ``loaded`` collects them in load order.

    An import with no file in cases/imports/ is left for the compiler to reject.
    """
    direct = []
    for name in _IMPORT.findall(source):
        path = IMPORTS / f"{name}.leo"
        if not path.exists():
            continue
        pid = f"{name}.aleo"
        if pid not in loaded:
            loaded[pid] = _compile(path.read_text(), f"imports/{name}.leo", loaded)
        direct.append(loaded[pid].signature)
    return compile_source(source, filename, direct)


def compile_case(stem: str) -> tuple[CompiledProgram, list[CompiledProgram]]:
    """A case's program and the programs it needs, dependencies first."""
    deps: dict[str, CompiledProgram] = {}
    compiled = _compile((CASES / f"{stem}.leo").read_text(), f"{stem}.leo", deps)
    return compiled, list(deps.values())


def _norm(value: str) -> str:
    # snarkVM pretty-prints composite outputs over several lines; compare without whitespace.
    return re.sub(r"\s+", "", value)


@pytest.mark.slow
@pytest.mark.parametrize("stem", RUN_STEMS)
def test_program_runs_in_snarkvm(stem: str, snarkvm) -> None:
    spec = json.loads((CASES / f"{stem}.json").read_text())
    compiled, deps = compile_case(stem)
    for dep in deps:
        snarkvm.load(dep.aleo)
    program = snarkvm.load(compiled.aleo)
    assert spec["runs"], "a case needs at least one run"
    for run in spec["runs"]:
        got = snarkvm.execute(program, run["function"], run["inputs"])
        if run.get("halts"):
            assert got is None, f"{run['function']}{run['inputs']} should halt, gave {got}"
        else:
            assert got is not None, f"{run['function']}{run['inputs']} halted"
            assert [_norm(g) for g in got] == [_norm(e) for e in run["outputs"]], (run, compiled.aleo)
            if "transitions" in run:
                assert snarkvm.last_transitions == run["transitions"], run


@pytest.mark.parametrize("stem", ERR_STEMS)
def test_program_is_rejected(stem: str) -> None:
    expected = (CASES / f"{stem}.err").read_text().strip()
    with pytest.raises(LeoCompileError) as info:
        compile_case(stem)
    assert expected in str(info.value), str(info.value)
    assert info.value.diagnostics


@pytest.mark.parametrize("stem", ALEO_STEMS)
def test_program_compiles_to_expected_aleo(stem: str) -> None:
    assert (CASES / f"{stem}.json").exists(), "an expected .aleo goes with a .json of runs"
    compiled, _ = compile_case(stem)
    assert compiled.aleo == (CASES / f"{stem}.aleo").read_text()


@pytest.mark.parametrize("stem", RUN_STEMS)
def test_program_compiles_deterministically(stem: str) -> None:
    first, _ = compile_case(stem)
    assert first.aleo == compile_case(stem)[0].aleo
    imports = "".join(f"import {m}.aleo;\n" for m in _IMPORT.findall((CASES / f"{stem}.leo").read_text()))
    assert first.aleo.startswith(f"{imports}\nprogram {first.program_id};\n" if imports
                                 else f"program {first.program_id};\n")
    assert first.aleo.rstrip().endswith("assert.eq edition 0u16;")
