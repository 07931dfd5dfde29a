"""Which Leo compiler builds a project: a `leo` binary on PATH, or the workbench's own."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import UserError, WorkbenchError


@dataclass(frozen=True)
class BuildOutput:
    """The compiled Aleo instructions of a project and who compiled them."""

    aleo_path: Path
    aleo: str
    compiler: str  # e.g. "workbench-leo 0.1.0" or "leo 4.3.2"


class LeoBuildError(WorkbenchError):
    """`leo build` (the real Leo binary) refused a project; its output is the message.

    The built-in compiler raises `LeoCompileError` instead, whose diagnostics are data.
    """

    title = "Leo compile error"


def _leo_binary() -> str | None:
    return shutil.which("leo")


def resolve(choice: str = "auto") -> str:
    """Which compiler `choice` means here: "leo" (the binary on PATH) or "workbench".

    "leo" requires the `leo` binary, "workbench" is the built-in compiler, and "auto" is
    `leo` when it is on PATH and the built-in compiler otherwise.
    """
    leo = _leo_binary()
    if choice == "leo" and leo is None:
        raise UserError('[zk] compiler = "leo", but no `leo` binary is on PATH (use "auto" or "workbench")')
    return "leo" if choice == "leo" or (choice == "auto" and leo is not None) else "workbench"


def build(project_dir: Path, choice: str = "auto") -> BuildOutput:
    """Compile a Leo project into build/<name>/<name>.aleo with the compiler `choice`
    resolves to (see `resolve`)."""
    if resolve(choice) == "leo":
        leo = _leo_binary()
        assert leo is not None
        return _build_with_leo(leo, project_dir)
    return _build_with_workbench(project_dir)


def _build_with_workbench(project_dir: Path) -> BuildOutput:
    from workbench.leo.compiler import COMPILER_VERSION, build_project

    path = build_project(project_dir)  # raises LeoCompileError with every diagnostic
    return BuildOutput(aleo_path=path, aleo=path.read_text(), compiler=COMPILER_VERSION)


def _build_with_leo(leo: str, project_dir: Path) -> BuildOutput:
    version = subprocess.run([leo, "--version"], capture_output=True, text=True).stdout.strip() or "leo"
    proc = subprocess.run([leo, "build"], cwd=project_dir, capture_output=True, text=True)
    if proc.returncode != 0:
        raise LeoBuildError(f"`leo build` failed in {project_dir}:\n{proc.stdout}{proc.stderr}")
    stem = json.loads((project_dir / "program.json").read_text())["program"].removesuffix(".aleo")
    path = project_dir / "build" / stem / f"{stem}.aleo"
    return BuildOutput(aleo_path=path, aleo=path.read_text(), compiler=version)
