"""Golden conformance tests: each ``cases/<stem>.leo`` with a sibling expectation.

* ``<stem>.json``: ``{"runs": [{"function", "inputs", "outputs" | "halts"}]}``; the program
  is compiled by the workbench and executed by snarkVM, and the outputs must match.
* ``<stem>.err``: the program must be rejected; the file holds a substring of the rendered
  diagnostic, including its ``line:col``.
"""

from __future__ import annotations

import json
import pathlib
import re

import pytest

from workbench.leo.compiler import LeoCompileError, compile_source

CASES = pathlib.Path(__file__).parent / "cases"
RUN_STEMS = sorted(p.stem for p in CASES.glob("*.json"))
ERR_STEMS = sorted(p.stem for p in CASES.glob("*.err"))


def _norm(value: str) -> str:
    # snarkVM pretty-prints composite outputs over several lines; compare without whitespace.
    return re.sub(r"\s+", "", value)


@pytest.mark.slow
@pytest.mark.parametrize("stem", RUN_STEMS)
def test_program_runs_in_snarkvm(stem: str, snarkvm) -> None:
    source = (CASES / f"{stem}.leo").read_text()
    spec = json.loads((CASES / f"{stem}.json").read_text())
    compiled = compile_source(source, f"{stem}.leo")
    program = snarkvm.load(compiled.aleo)
    assert spec["runs"], "a case needs at least one run"
    for run in spec["runs"]:
        got = snarkvm.execute(program, run["function"], run["inputs"])
        if run.get("halts"):
            assert got is None, f"{run['function']}{run['inputs']} should halt, gave {got}"
        else:
            assert got is not None, f"{run['function']}{run['inputs']} halted"
            assert [_norm(g) for g in got] == [_norm(e) for e in run["outputs"]], (run, compiled.aleo)


@pytest.mark.parametrize("stem", ERR_STEMS)
def test_program_is_rejected(stem: str) -> None:
    source = (CASES / f"{stem}.leo").read_text()
    expected = (CASES / f"{stem}.err").read_text().strip()
    with pytest.raises(LeoCompileError) as info:
        compile_source(source, f"{stem}.leo")
    assert expected in str(info.value), str(info.value)
    assert info.value.diagnostics


@pytest.mark.parametrize("stem", RUN_STEMS)
def test_program_compiles_deterministically(stem: str) -> None:
    source = (CASES / f"{stem}.leo").read_text()
    first = compile_source(source, f"{stem}.leo")
    assert first.aleo == compile_source(source, f"{stem}.leo").aleo
    assert first.aleo.startswith(f"program {first.program_id};\n")
    assert first.aleo.rstrip().endswith("assert.eq edition 0u16;")
