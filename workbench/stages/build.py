"""The Leo stages: generate the programs of a plan, then compile them to Aleo instructions.

Artefacts (results/README.md): `leo/<program>/` for each generated project (the generate
stage), and `<program>.aleo` for each compiled program (the compile stage, which also
leaves `leo/<program>/build/` as `leo build` does). Without a run directory both stages
work in a temporary directory and save nothing.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from workbench.algorithms.base import QuantizedModel
from workbench.kinds import Visibility
from workbench.leo import generate, thresholds, toolchain
from workbench.leo.codec import WORD_BITS, Packing
from workbench.results import RunDirectory
from workbench.snarkvm.costs import estimate_constraints, estimate_shapes, private_input_constraints
from workbench.stages.records import AleoProgram, Compiled, LeoSources, Plan


def input_packing(
    model: QuantizedModel, batch: int, cuts: tuple[int, ...], inputs: Visibility | str, tree_inputs: str = "features"
) -> Packing | None:
    """How one execution's features travel: packed in u128 words (codec.Packing) when the
    measured private-input staircase prices that below one array element per feature, else
    None. Only a model in one program with private, unsigned features is packed (a chain's
    links read their own inputs; signed values are not their bits). Threshold bits
    (`tree_inputs = "thresholds"`) are always packed, one bit each."""
    io = model.form.io
    if tree_inputs == "thresholds" and not cuts and thresholds.applies(model.form):
        return Packing(1, batch * len(thresholds.tests(model.form)))  # type: ignore[arg-type]
    t = io.feature_type
    if cuts or t.signed or t.bits >= WORD_BITS or Visibility(inputs) != Visibility.PRIVATE:
        return None
    packing = Packing(t.bits, batch * io.n_features)
    row = f"[{t.name}; {io.n_features}u32]"
    plain = private_input_constraints(row if batch == 1 else f"[{row}; {batch}u32]")
    packed = private_input_constraints(f"[u128; {packing.words}u32]")
    return packing if plain is not None and packed is not None and packed < plain else None


def plan_packing(model: QuantizedModel, plan: Plan) -> Packing | None:
    """The packing of the plan's entry function (see `input_packing`)."""
    spec = plan.request.program
    return input_packing(model, plan.batch, plan.cuts, spec.inputs, spec.tree_inputs)


def generate_leo(model: QuantizedModel, plan: Plan, run: RunDirectory | None = None) -> LeoSources:
    """Render the planned programs (dependencies first) and write each as a Leo project."""
    spec = plan.request.program
    programs = generate.render(
        model, spec.name, spec.experiment, spec.description, spec.inputs, spec.output,
        batch=plan.batch, cuts=plan.cuts, scores=spec.scores, topology=plan.topology,
        packing=plan_packing(model, plan), tree_inputs=spec.tree_inputs,
    )
    if run is not None:
        root = run.artefact("leo")
        for p in programs:
            generate.write_project(p, root / p.name)
    return LeoSources(tuple(programs))


def _build_all(sources: LeoSources, root: Path, compiler: str) -> list[toolchain.BuildOutput]:
    built = []
    for p in sources.programs:  # dependencies first
        project = root / p.name
        if not (project / "program.json").is_file():
            generate.write_project(p, project)
        built.append(toolchain.build(project, compiler))
    return built


def compile_programs(sources: LeoSources, compiler: str = "auto", run: RunDirectory | None = None) -> Compiled:
    """Compile every program with the chosen toolchain and estimate every function's constraints
    and six circuit sizes (a caller with the Aleo instructions of the programs it calls)."""
    if run is not None:
        built = _build_all(sources, run.staging / "leo", compiler)
        run.remove("*.aleo")
        for p, b in zip(sources.programs, built):
            run.path(f"{p.name}.aleo").write_text(b.aleo)
    else:
        with tempfile.TemporaryDirectory(prefix="workbench-leo-") as tmp:
            built = _build_all(sources, Path(tmp), compiler)
    aleo_of = {p.name: b.aleo for p, b in zip(sources.programs, built)}
    estimates = {
        (p.program_id, f): n
        for p, b in zip(sources.programs, built)
        for f, n in estimate_constraints(b.aleo, [aleo_of[i] for i in p.imports]).items()
    }
    shapes = {
        (p.program_id, f): shape
        for p, b in zip(sources.programs, built)
        for f, shape in estimate_shapes(b.aleo, [aleo_of[i] for i in p.imports]).items()
    }
    programs = tuple(AleoProgram(p.name, p.program_id, b.aleo) for p, b in zip(sources.programs, built))
    return Compiled(programs, sources.main.function, built[-1].compiler, estimates, shapes)
