"""Compile candidate programs for the planner with the experiment's toolchain.

Planning decides the batch and the chain cuts from the constraint estimates of the
compiled programs, so it must see the programs the compile stage will build: those of the
`[zk] compiler` chosen. With the built-in compiler each candidate is compiled in memory
(the planner compiles many, and `compile_source` caches them). With a `leo` binary each
candidate is written as a Leo project in a scratch directory, its dependencies beside it,
and built with `toolchain.build`, as the compile stage does.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Sequence

from workbench.leo import generate, toolchain
from workbench.leo.compiler import CompiledProgram, compile_source
from workbench.leo.generate import LeoProgram
from workbench.limits import CircuitShape, SetupLimits
from workbench.snarkvm.costs import estimate_shapes


class Estimator:
    """Compiles generated programs (each with the programs it depends on) and estimates
    every size of their functions (`shape`); one per planning, closed when it is done."""

    def __init__(self, compiler: str = "auto") -> None:
        self.compiler = compiler
        self.external = toolchain.resolve(compiler) == "leo"
        self._compiled: dict[tuple[str, str], CompiledProgram] = {}  # built-in, by (name, source)
        self._built: dict[tuple[str, str], str] = {}  # `leo build`, by (name, source)
        self._shapes: dict[tuple[str, ...], dict[str, CircuitShape]] = {}  # by the sources estimated
        self._scratch: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> "Estimator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the scratch projects (if any were written)."""
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def aleo(self, program: LeoProgram, deps: Sequence[LeoProgram] = ()) -> str:
        """`program` compiled; `deps` are every program it needs, dependencies first."""
        if self.external:
            return self._leo_build(program, deps)
        return self._builtin(program, deps).aleo

    def shape(self, program: LeoProgram, deps: Sequence[LeoProgram] = ()) -> dict[str, CircuitShape]:
        """The six estimated sizes of each function of `program` (constraints, variables,
        non-zeros...), which the setup bounds each. Calls cost their callee's inputs and
        outputs, so the programs it imports are compiled too."""
        imported = [self.aleo(d, deps[:i]) for i, d in enumerate(deps) if d.name in program.imports]
        source = self.aleo(program, deps)
        # A chain search asks again for the candidates it has seen: estimate each once.
        key = (source, *imported)
        if key not in self._shapes:
            self._shapes[key] = estimate_shapes(source, imported)
        return self._shapes[key]

    def fits(self, program: LeoProgram, deps: Sequence[LeoProgram], limits: SetupLimits) -> tuple[bool, int]:
        """Whether every estimated size of every function of `program` is within `limits`,
        and its largest constraint estimate (for messages)."""
        shapes = self.shape(program, deps).values()
        return all(not limits.over(s) for s in shapes), max(s.constraints for s in shapes)

    def _builtin(self, program: LeoProgram, deps: Sequence[LeoProgram]) -> CompiledProgram:
        key = (program.name, program.source)
        if key not in self._compiled:
            signatures = [self._builtin(d, deps[:i]).signature for i, d in enumerate(deps) if d.name in program.imports]
            self._compiled[key] = compile_source(program.source, f"{program.name}/src/main.leo", imports=signatures)
        return self._compiled[key]

    def _leo_build(self, program: LeoProgram, deps: Sequence[LeoProgram]) -> str:
        key = (program.name, program.source)
        if key not in self._built:
            if self._scratch is None:
                self._scratch = tempfile.TemporaryDirectory(prefix="workbench-plan-")
            root = Path(self._scratch.name)
            # A candidate link may reuse a name with other pieces: every project it needs
            # is written again, so `leo build` reads these sources and no older ones.
            for p in (*deps, program):
                generate.write_project(p, root / p.name)
            self._built[key] = toolchain.build(root / program.name, self.compiler).aleo
        return self._built[key]
