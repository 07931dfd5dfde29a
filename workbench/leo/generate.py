"""Leo source from the Jinja2 templates in `leo_templates/`, written as a `leo new`-style project."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from workbench import __version__
from workbench.algorithms.base import QuantizedModel

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

    @property
    def program_id(self) -> str:
        return f"{self.name}.aleo"


def render(model: QuantizedModel, name: str, experiment: str, description: str, inputs: str, output: str) -> LeoProgram:
    """Render the model's template. `inputs`/`output` are "private" or "public"."""
    context: dict[str, Any] = {
        "program": f"{name}.aleo",
        "function": FUNCTION,
        "workbench_version": __version__,
        "experiment": experiment,
        "description": description.replace("\n", " "),
        "n_features": len(model.inputs_.int_low),
        "feature_type": model.feature_type_.name,
        "output_type": model.output_type_.name,
        "fractional_bits": model.inputs_.fixed.fractional_bits,
        "input_vis": f"{inputs} ",
        "output_vis": f"{output} ",
    }
    context.update(model.leo_context())
    source = _ENV.get_template(f"{model.template}.leo.j2").render(context)
    return LeoProgram(name=name, function=FUNCTION, source=source)


def write_project(program: LeoProgram, directory: Path) -> Path:
    """Write program.json, src/main.leo and .gitignore as `leo new` lays them out."""
    (directory / "src").mkdir(parents=True, exist_ok=True)
    manifest = {
        "program": program.program_id,
        "version": "0.1.0",
        "description": "",
        "license": "MIT",
        "leo": LEO_VERSION,
        "dependencies": None,
        "dev_dependencies": None,
    }
    (directory / "program.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (directory / "src" / "main.leo").write_text(program.source)
    (directory / ".gitignore").write_text(".env\n*.avm\n*.prover\n*.verifier\nbuild/\n")
    return directory
