"""Leo source from the Jinja2 templates in `workbench/leo_templates/`, written as a `leo new`-style project."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from workbench import __version__
from workbench.algorithms.base import QuantizedModel
from workbench.kinds import Topology, Visibility
from workbench.leo import thresholds
from workbench.leo.codec import Packing
from workbench.leo.contexts import program_plans, score_variables

LEO_VERSION = "4.3.2"  # the Leo release whose syntax the templates follow
FUNCTION = "main"

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("workbench.leo_templates", "."),
    undefined=jinja2.StrictUndefined,  # a missing template variable is a bug, not blank Leo
    keep_trailing_newline=True,
    autoescape=False,
)


@dataclass(frozen=True)
class LeoProgram:
    """Generated Leo source and the names it defines."""

    name: str  # program name without .aleo
    function: str
    source: str
    imports: tuple[str, ...] = ()  # names of the programs it calls

    @property
    def program_id(self) -> str:
        return f"{self.name}.aleo"


def render(
    model: QuantizedModel,
    name: str,
    experiment: str,
    description: str,
    inputs: Visibility | str = Visibility.PRIVATE,
    output: Visibility | str = Visibility.PUBLIC,
    batch: int = 1,
    cuts: tuple[int, ...] = (),
    scores: bool = False,
    topology: Topology = Topology.CALL,
    packing: Packing | None = None,
    tree_inputs: str = "features",
) -> list[LeoProgram]:
    """Render the model's programs (dependencies first, the main program last).

    `inputs`/`output` are the visibilities of the features and the prediction; `batch` is
    the number of rows one execution of the main function evaluates; `cuts` split the
    model into a chain of programs (see `contexts.program_plans`), which evaluates one row
    per execution; `scores` makes the main function also output the model's score vector,
    with the prediction's visibility (see `QuantizedModel.revealed_scores`); `packing`
    makes the entry function take the batch's features packed in u128 words (one program
    only; `workbench.stages.build.input_packing` decides); `tree_inputs = "thresholds"`
    makes a tree ensemble's entry take threshold bits instead of features
    (workbench/leo/thresholds.py), always packed.
    """
    form = model.form
    order = _threshold_order(form, tree_inputs, cuts, packing, batch)
    n_values = len(order) if order is not None else form.io.n_features
    if packing is not None and (cuts or packing.values != batch * n_values):
        raise ValueError("packed features are for one program, all rows of its batch")
    reveal = model.revealed_scores() if scores else None
    if scores and reveal is None:
        raise ValueError(f"{type(model).__name__} has no scores to output")
    if cuts and batch != 1:
        raise ValueError("a model split across transitions evaluates one row per execution")
    common: dict[str, Any] = {
        "function": FUNCTION,
        "workbench_version": __version__,
        "experiment": experiment,
        "description": description.replace("\n", " "),
        "n_features": n_values,
        "feature_type": "field" if order is not None else form.io.feature_type.name,
        "output_type": form.io.output_type.name,
        "fractional_bits": form.io.fractional_bits,
        "input_vis": f"{Visibility(inputs)} ",
        "output_vis": f"{Visibility(output)} ",
        "batch": batch,
        "packing": None if packing is None else {
            "words": packing.words,
            "mask": packing.mask,
            "rows": [[packing.slot(b * n_values + j) for j in range(n_values)] for b in range(batch)],
            # Values narrower than a byte are read from the bytes of the words (see _entry.leo.j2).
            "bytes": sorted({(w, s // 8) for w, s in map(packing.slot, range(packing.values))}) if packing.bits < 8 else [],
        },
        "thresholds": None if order is None else {"pairs": thresholds.monotone_pairs(order)},
        "reveal": (
            {"type": f"[{reveal.type.name}; {reveal.count}]", "variables": list(score_variables(form))} if reveal else None
        ),
    }
    programs = []
    if scores and cuts and topology == Topology.COMMITMENTS:
        raise ValueError("a model split across executions linked by commitments outputs no score vector")
    for plan in program_plans(form, name, cuts, topology):
        context = {**common, "program": f"{plan.name}.aleo", "imports": [f"{i}.aleo" for i in plan.imports]}
        context.update(plan.context)
        if order is not None:
            bit = {t: i for i, t in enumerate(order)}
            context["trees"] = [
                {**tree, "comparisons": [{**c, "bit": bit[(c["feature"], c["threshold"])]} for c in tree["comparisons"]]}
                for tree in context["trees"]
            ]
        source = _ENV.get_template(f"{plan.template}.leo.j2").render(context)
        programs.append(LeoProgram(name=plan.name, function=FUNCTION, source=source, imports=plan.imports))
    return programs


def _threshold_order(
    form: object, tree_inputs: str, cuts: tuple[int, ...], packing: Packing | None, batch: int
) -> tuple[thresholds.Test, ...] | None:
    """The threshold tests, in input bit order, when the entry takes threshold bits; else None."""
    if tree_inputs == "features":
        return None
    if tree_inputs != "thresholds":
        raise ValueError(f"unknown tree_inputs {tree_inputs!r}")
    if not thresholds.applies(form) or cuts:
        raise ValueError("threshold bits are for a tree ensemble in one program")
    order = thresholds.tests(form)  # type: ignore[arg-type]
    if packing is None or packing.bits != 1:
        raise ValueError("threshold bits travel packed, one bit each")
    return order


def write_project(program: LeoProgram, directory: Path) -> Path:
    """Write program.json, src/main.leo and .gitignore as `leo new` lays them out.

    Imported programs are declared as local dependencies in sibling directories, the way
    the pipeline lays out a sharded model (`leo/<name>/` for each program).
    """
    (directory / "src").mkdir(parents=True, exist_ok=True)
    dependencies = [{"name": f"{i}.aleo", "location": "local", "path": f"../{i}"} for i in program.imports]
    manifest = {
        "program": program.program_id,
        "version": "0.1.0",
        "description": "",
        "license": "MIT",
        "leo": LEO_VERSION,
        "dependencies": dependencies or None,
        "dev_dependencies": None,
    }
    (directory / "program.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (directory / "src" / "main.leo").write_text(program.source)
    (directory / ".gitignore").write_text(".env\n*.avm\n*.prover\n*.verifier\nbuild/\n")
    return directory
