"""Diagnostics: rendering, collection of several errors, project errors, `leo build` driver."""

from __future__ import annotations

import json
import pathlib

import pytest

from workbench.leo.compiler import LeoCompileError, build_project, compile_source, main_build
from workbench.leo.diagnostics import Diagnostic, SourceFile, Span, render

GOOD = """program good.aleo {
    fn main(public a: u8, b: u8) -> u8 {
        return a + b;
    }

    @noupgrade
    constructor() {}
}
"""


def test_render_has_position_source_line_and_caret() -> None:
    src = SourceFile("x.leo", "let a = 1;\nlet bb = oops;\n")
    start = src.text.index("oops")
    text = render(Diagnostic(Span(start, start + 4), "unknown variable `oops`"), src)
    assert text.splitlines() == ["x.leo:2:10: unknown variable `oops`", "let bb = oops;", "         ^^^^"]


def test_all_check_errors_are_collected_in_one_error() -> None:
    source = GOOD.replace("return a + b;", "let c: bool = a;\n        return d;")
    with pytest.raises(LeoCompileError) as info:
        compile_source(source)
    messages = [d.message for d in info.value.diagnostics]
    assert any("expected `bool`, found `u8`" in m for m in messages)
    assert any("unknown variable `d`" in m for m in messages)
    rendered = str(info.value)
    assert "src/main.leo:3:23:" in rendered and "src/main.leo:4:16:" in rendered


def test_syntax_error_is_wrapped_not_a_lark_exception() -> None:
    with pytest.raises(LeoCompileError) as info:
        compile_source("program x.aleo { fn main( }", "bad.leo")
    assert type(info.value) is LeoCompileError
    assert str(info.value).startswith("bad.leo:1:27: unexpected `}`")
    assert "Traceback" not in str(info.value)


def test_unexpected_end_of_file() -> None:
    with pytest.raises(LeoCompileError) as info:
        compile_source("program x.aleo { fn main() -> u8 { return 1u8;", "eof.leo")
    assert "eof.leo:1:47: unexpected end of file" in str(info.value)


def test_bad_program_name() -> None:
    with pytest.raises(LeoCompileError) as info:
        compile_source(GOOD.replace("good.aleo", "Good.aleo"))
    assert "src/main.leo:1:9: program name `Good` must start with a lowercase letter" in str(info.value)


def _project(tmp_path: pathlib.Path, program: str = "good.aleo", source: str = GOOD) -> pathlib.Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "program.json").write_text(json.dumps({"program": program, "version": "0.1.0"}))
    (tmp_path / "src" / "main.leo").write_text(source)
    return tmp_path


def test_build_project_writes_leo_layout(tmp_path: pathlib.Path) -> None:
    out = build_project(_project(tmp_path))
    assert out == tmp_path / "build" / "good" / "good.aleo"
    text = out.read_text()
    assert text.startswith("program good.aleo;\n")
    assert "    input r0 as u8.public;\n    input r1 as u8.private;\n    add r0 r1 into r2;\n" in text


def test_build_project_name_mismatch(tmp_path: pathlib.Path) -> None:
    with pytest.raises(LeoCompileError) as info:
        build_project(_project(tmp_path, program="other.aleo"))
    assert "main.leo:1:9: program `good.aleo` does not match `other.aleo` in program.json" in str(info.value)


def test_build_project_missing_and_invalid_manifest(tmp_path: pathlib.Path) -> None:
    with pytest.raises(LeoCompileError) as info:
        build_project(tmp_path)
    assert "program.json" in str(info.value) and "not found" in str(info.value)
    (tmp_path / "program.json").write_text("{not json")
    with pytest.raises(LeoCompileError) as info:
        build_project(tmp_path)
    assert "program.json:1:2: program.json is not valid JSON" in str(info.value)


def test_main_build_exit_codes(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good"
    good.mkdir()
    _project(good)
    assert main_build(str(good)) == 0
    assert "good.aleo" in capsys.readouterr().out
    bad = tmp_path / "bad"
    bad.mkdir()
    _project(bad, source=GOOD.replace("a + b", "a + c"))
    assert main_build(str(bad)) == 1
    err = capsys.readouterr().err
    assert "main.leo:3:20: unknown variable `c`" in err
    assert "Traceback" not in err


def test_a_long_generated_sum_compiles() -> None:
    # A 300-tree forest sums 300 leaf values per class in one expression: a left-leaning
    # tree 300 deep, past Python's default recursion limit in the compiler's passes.
    terms = " + ".join(f"(x == {i}field ? {i + 1}field : 0field)" for i in range(1500))
    source = f"program deep.aleo {{\n    fn main(x: field) -> field {{\n        return {terms};\n    }}\n\n    @noupgrade\n    constructor() {{}}\n}}\n"
    aleo = compile_source(source).aleo
    assert aleo.count("ternary") == 1500
