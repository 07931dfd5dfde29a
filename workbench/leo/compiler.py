"""The workbench's Leo compiler: a coherent subset of Leo 4.3 -> Aleo instructions.

The driver reads like the pipeline it runs::

    source --parse--> AST --check--> checked AST --lower--> instructions --emit--> .aleo text

``compile_source`` compiles one file; ``build_project`` compiles a Leo project directory
the way ``leo build`` lays it out. Every user error is a LeoCompileError holding
diagnostics (``file:line:col: message``, source line, caret); none surfaces as a traceback.
"""

from __future__ import annotations

import json
import pathlib
import sys
from dataclasses import dataclass

from . import checker, emit, lower, parser
from .diagnostics import (Abort, Diagnostic, DiagnosticSink, LeoCompileError, SourceFile, Span)

__all__ = ["COMPILER_VERSION", "CompiledProgram", "LeoCompileError", "Diagnostic",
           "compile_source", "build_project", "main_build"]

COMPILER_VERSION = "workbench-leo 0.1.0"


@dataclass(frozen=True)
class CompiledProgram:
    """Result of compiling one Leo file."""

    program_id: str  # "name.aleo"
    aleo: str  # the Aleo instructions text


def compile_source(source: str, filename: str = "src/main.leo") -> CompiledProgram:
    """Compile Leo source text to Aleo instructions; raises LeoCompileError on user errors."""
    src = SourceFile(filename, source)
    unit = parser.parse(src)
    sink = DiagnosticSink(src)
    checked = checker.check(unit, sink)
    sink.raise_if_any()
    assert checked is not None
    try:
        lowered = lower.lower(checked)
    except Abort as a:
        raise LeoCompileError([a.diag], src) from None
    text, counts = emit.emit_program(lowered)
    for fn in lowered.functions:
        if counts[fn.name] > emit.MAX_INSTRUCTIONS:
            decl = next(f for f in checked.program.functions if f.name == fn.name)
            sink.error(decl.name_span, f"function `{fn.name}` compiles to {counts[fn.name]} instructions; "
                                       f"snarkVM allows {emit.MAX_INSTRUCTIONS}")
    sink.raise_if_any()
    return CompiledProgram(f"{checked.program.name}.aleo", text)


def _project_error(path: pathlib.Path, text: str, message: str, offset: int = 0) -> LeoCompileError:
    return LeoCompileError([Diagnostic(Span(offset, offset), message)], SourceFile(str(path), text))


def _read_manifest(project_dir: pathlib.Path) -> str:
    """The program id declared in program.json (e.g. "x.aleo")."""
    manifest = project_dir / "program.json"
    try:
        text = manifest.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _project_error(manifest, "", f"{manifest} not found; a Leo project needs program.json") from None
    except OSError as e:
        raise _project_error(manifest, "", f"cannot read {manifest}: {e.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise _project_error(manifest, text, f"program.json is not valid JSON: {e.msg}", e.pos) from None
    program = data.get("program") if isinstance(data, dict) else None
    if not isinstance(program, str) or not program.endswith(".aleo") or len(program) <= 5:
        raise _project_error(manifest, text, 'program.json needs a "program" entry like "name.aleo"')
    return program


def build_project(project_dir: pathlib.Path) -> pathlib.Path:
    """Compile ``project_dir/src/main.leo`` into ``build/<name>/<name>.aleo``; returns that path."""
    project_dir = pathlib.Path(project_dir)
    program_id = _read_manifest(project_dir)
    main = project_dir / "src" / "main.leo"
    try:
        source = main.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _project_error(main, "", f"{main} not found; a Leo project keeps its program in src/main.leo") from None
    except (OSError, UnicodeDecodeError) as e:
        raise _project_error(main, "", f"cannot read {main}: {e}") from None
    compiled = compile_source(source, str(main))
    if compiled.program_id != program_id:
        unit = parser.parse(SourceFile(str(main), source))
        span = unit.programs[0].name_span if unit.programs else Span(0, 0)
        raise LeoCompileError(
            [Diagnostic(span, f"program `{compiled.program_id}` does not match `{program_id}` in program.json")],
            SourceFile(str(main), source))
    name = program_id[: -len(".aleo")]
    out_dir = project_dir / "build" / name
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{name}.aleo"
    out.write_text(compiled.aleo, encoding="utf-8")
    return out


def main_build(path: str) -> int:
    """`workbench leo build PATH`: 0 on success, 1 with the diagnostics on stderr."""
    try:
        out = build_project(pathlib.Path(path))
    except LeoCompileError as err:
        print(str(err), file=sys.stderr)
        n = len(err.diagnostics)
        print(f"build failed: {n} error{'s' if n != 1 else ''}", file=sys.stderr)
        return 1
    print(f"compiled {out}")
    return 0
