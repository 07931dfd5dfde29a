"""The workbench's Leo compiler: a coherent subset of Leo 4.3 -> Aleo instructions.

The driver reads like the pipeline it runs::

    source --parse--> AST --check--> checked AST --lower--> instructions --emit--> .aleo text

``compile_source`` compiles one file, checked against the signatures of the programs it
imports; ``build_project`` compiles a Leo project directory the way ``leo build`` lays it
out, building its local dependencies first. Every user error is a LeoCompileError holding
diagnostics (``file:line:col: message``, source line, caret); none surfaces as a traceback.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
from collections import OrderedDict
from dataclasses import dataclass
from typing import Iterable

from . import checker, emit, lower, parser
from .diagnostics import (Abort, Diagnostic, DiagnosticSink, LeoCompileError, SourceFile, Span)
from .interface import EntrySignature, ProgramSignature

__all__ = ["COMPILER_VERSION", "CompiledProgram", "LeoCompileError", "Diagnostic", "ProgramSignature",
           "EntrySignature", "Build", "compile_source", "build_project", "build_with_dependencies",
           "main_build"]

COMPILER_VERSION = "workbench-leo 0.1.0"


@dataclass(frozen=True)
class CompiledProgram:
    """Result of compiling one Leo file."""

    program_id: str  # "name.aleo"
    aleo: str  # the Aleo instructions text
    signature: ProgramSignature  # what a program importing this one is checked against


# The passes walk expressions recursively; a generated model can hold a sum of a few
# hundred terms (a left-leaning tree that deep), so the default limit of 1,000 frames is
# raised while compiling. Deeper still is reported as a compile error, not a traceback.
RECURSION_LIMIT = 20_000


# Successful compilations, by source and imported signatures (the file name only appears in
# diagnostics): planning compiles the same candidate programs again when it re-plans, and
# the compile stage builds the programs planning chose. Bounded, least recently used out.
_CACHE: "OrderedDict[tuple[str, tuple[str, ...]], CompiledProgram]" = OrderedDict()
CACHE_SIZE = 256


def compile_source(source: str, filename: str = "src/main.leo",
                   imports: Iterable[ProgramSignature] = ()) -> CompiledProgram:
    """Compile Leo source text to Aleo instructions; raises LeoCompileError on user errors.

    ``imports`` are the signatures of the programs the source may import (its
    dependencies); an ``import`` of any other program is an error.
    """
    imports = tuple(imports)
    key = (source, tuple(repr(sig) for sig in imports))
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, RECURSION_LIMIT))
    try:
        compiled = _compile_source(source, filename, imports)
        _CACHE[key] = compiled
        if len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
        return compiled
    except RecursionError:
        src = SourceFile(filename, source)
        raise LeoCompileError([Diagnostic(Span(0, 0), "an expression is nested too deeply to compile "
                                                       "(split it into several `let` steps)")], src) from None
    finally:
        sys.setrecursionlimit(previous)


def _compile_source(source: str, filename: str, imports: Iterable[ProgramSignature]) -> CompiledProgram:
    available = {sig.program_id: sig for sig in imports}
    src = SourceFile(filename, source)
    unit = parser.parse(src)
    sink = DiagnosticSink(src)
    checked = checker.check(unit, sink, available)
    sink.raise_if_any()
    assert checked is not None
    try:
        lowered = lower.lower(checked)
    except Abort as a:
        raise LeoCompileError(a.diagnostics, src) from None
    text, counts = emit.emit_program(lowered)
    for fn in lowered.functions:
        if counts[fn.name] > emit.MAX_INSTRUCTIONS:
            decl = next(f for f in checked.program.functions if f.name == fn.name)
            sink.error(decl.name_span, f"function `{fn.name}` compiles to {counts[fn.name]} instructions; "
                                       f"snarkVM allows {emit.MAX_INSTRUCTIONS}")
    sink.raise_if_any()
    program_id = f"{checked.program.name}.aleo"
    return CompiledProgram(program_id, text, _signature(program_id, checked, lowered))


def _signature(program_id: str, checked: checker.CheckedProgram,
               lowered: lower.LoweredProgram) -> ProgramSignature:
    transitions = {fn.name: fn.transitions for fn in lowered.functions}
    functions = {}
    for fn in checked.program.functions:
        sig = checked.signatures[fn.name]
        functions[fn.name] = EntrySignature(tuple(sig.params), tuple(sig.outputs), transitions[fn.name])
    return ProgramSignature(program_id, functions)


# ---------------------------------------------------------------- projects


@dataclass(frozen=True)
class Dependency:
    """One entry of program.json's ``dependencies``."""

    name: str  # "shard_a.aleo"
    location: str  # "local", "network", "git", ...
    path: str  # relative to the depending project (or absolute)
    offset: int  # of its name in program.json, where errors about it point


@dataclass(frozen=True)
class Manifest:
    """What the compiler reads from program.json."""

    path: pathlib.Path
    text: str
    program: str  # "name.aleo"
    dependencies: tuple[Dependency, ...]

    def error(self, dep: Dependency, message: str) -> LeoCompileError:
        """An error located at a dependency's entry."""
        return _project_error(self.path, self.text, message, dep.offset)


@dataclass(frozen=True)
class Build:
    """A built project: where its program went, and every program it needs."""

    out: pathlib.Path  # build/<name>/<name>.aleo
    program: CompiledProgram
    # The project's dependencies, transitively, each after its own dependencies; this is the
    # order in which snarkVM must add them (before ``program``).
    dependencies: tuple[CompiledProgram, ...]

    def sources(self) -> list[str]:
        """Aleo texts in load order: dependencies first, this project's program last."""
        return [p.aleo for p in self.dependencies] + [self.program.aleo]


def _project_error(path: pathlib.Path, text: str, message: str, offset: int = 0) -> LeoCompileError:
    return LeoCompileError([Diagnostic(Span(offset, offset), message)], SourceFile(str(path), text))


def _read_manifest(project_dir: pathlib.Path) -> Manifest:
    """program.json's program id (e.g. "x.aleo") and dependencies."""
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
    return Manifest(manifest, text, program, _read_dependencies(manifest, text, data.get("dependencies")))


def _read_dependencies(manifest: pathlib.Path, text: str, raw: object) -> tuple[Dependency, ...]:
    """``dependencies``: null/missing for none, else a list of {name, location, path?}."""
    where = max(0, text.find('"dependencies"'))
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _project_error(manifest, text, '"dependencies" must be a list (or null)', where)
    deps = []
    for entry in raw:
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name.endswith(".aleo") or len(name) <= 5:
            raise _project_error(manifest, text, 'each dependency needs a "name" like "name.aleo"', where)
        at = max(where, text.find(json.dumps(name)))
        location = entry.get("location")
        if location != "local":
            raise _project_error(
                manifest, text, f"dependency `{name}` has location {json.dumps(location)}; only local "
                f"dependencies (\"location\": \"local\" with a \"path\") are supported offline", at)
        path = entry.get("path")
        if not isinstance(path, str) or not path:
            raise _project_error(manifest, text, f'local dependency `{name}` needs a "path" to its project', at)
        deps.append(Dependency(name, location, path, at))
    return tuple(deps)


def _read_source(main: pathlib.Path) -> str:
    try:
        return main.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _project_error(main, "", f"{main} not found; a Leo project keeps its program in src/main.leo") from None
    except (OSError, UnicodeDecodeError) as e:
        raise _project_error(main, "", f"cannot read {main}: {e}") from None


class _Builder:
    """Builds projects depth-first: dependencies before dependents, each project once."""

    def __init__(self) -> None:
        self.done: dict[pathlib.Path, Build] = {}
        self.stack: list[tuple[pathlib.Path, str]] = []  # projects being built, outermost first

    def build(self, project_dir: pathlib.Path) -> Build:
        key = project_dir.resolve()
        if key in self.done:
            return self.done[key]
        manifest = _read_manifest(project_dir)
        self.stack.append((key, manifest.program))
        direct: list[CompiledProgram] = []
        needed: dict[str, CompiledProgram] = {}  # transitive, in load order
        for dep in manifest.dependencies:
            # normpath, not resolve: `../shard_a` is shown as written, without `main/..`.
            dep_dir = pathlib.Path(os.path.normpath(project_dir / dep.path))
            self.check_cycle(manifest, dep, dep_dir)
            if not (dep_dir / "program.json").is_file():
                raise manifest.error(dep, f"dependency `{dep.name}`: no Leo project at {dep_dir} (no program.json)")
            built = self.build(dep_dir)
            if built.program.program_id != dep.name:
                raise manifest.error(dep, f"dependency `{dep.name}` at {dep_dir} is the program "
                                          f"`{built.program.program_id}`")
            for p in built.dependencies + (built.program,):
                needed.setdefault(p.program_id, p)
            direct.append(built.program)
        self.stack.pop()

        main = project_dir / "src" / "main.leo"
        source = _read_source(main)
        # Only direct dependencies may be imported, as in Leo.
        compiled = compile_source(source, str(main), [p.signature for p in direct])
        if compiled.program_id != manifest.program:
            unit = parser.parse(SourceFile(str(main), source))
            span = unit.programs[0].name_span if unit.programs else Span(0, 0)
            raise LeoCompileError(
                [Diagnostic(span, f"program `{compiled.program_id}` does not match `{manifest.program}` in program.json")],
                SourceFile(str(main), source))
        out = _write(project_dir, compiled)
        # `leo build` puts every dependency's program in the dependent's build/ as well.
        for p in needed.values():
            _write(project_dir, p)
        result = Build(out, compiled, tuple(needed.values()))
        self.done[key] = result
        return result

    def check_cycle(self, manifest: Manifest, dep: Dependency, dep_dir: pathlib.Path) -> None:
        key = dep_dir.resolve()
        for i, (k, _) in enumerate(self.stack):
            if k == key:
                chain = " -> ".join(name for _, name in self.stack[i:]) + f" -> {dep.name}"
                raise manifest.error(dep, f"dependency cycle: {chain}; programs cannot depend on each other in a loop")


def _write(project_dir: pathlib.Path, program: CompiledProgram) -> pathlib.Path:
    name = program.program_id[: -len(".aleo")]
    out_dir = project_dir / "build" / name
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{name}.aleo"
    out.write_text(program.aleo, encoding="utf-8")
    return out


def build_with_dependencies(project_dir: pathlib.Path) -> Build:
    """Build ``project_dir`` and, first, every local dependency listed in its program.json.

    Each project's program goes to its own ``build/<name>/<name>.aleo``; a project's build
    directory also receives the programs of all its dependencies (``build/<dep>/<dep>.aleo``),
    as ``leo build`` lays them out. Cycles and non-local dependencies are errors.
    """
    return _Builder().build(pathlib.Path(project_dir))


def build_project(project_dir: pathlib.Path) -> pathlib.Path:
    """Compile ``project_dir/src/main.leo`` into ``build/<name>/<name>.aleo``; returns that path."""
    return build_with_dependencies(project_dir).out


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
