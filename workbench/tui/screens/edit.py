"""New experiment from an existing one: a form over the key values, saved as a new TOML."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Header, Input, Label, Select, Static, TextArea

from workbench.algorithms import catalogue
from workbench.experiment import COMPILERS, DATASET_NAMES, SCALINGS, VISIBILITIES, Experiment, ExperimentError
from workbench.tui.tomlwrite import experiment_sections, save_experiment, to_toml, toml_value
from workbench.tui.widgets.footer import WorkbenchFooter


def parse_scalar(text: str) -> Any:
    """A form value as TOML would read it (`4` -> 4, `[-3, 3]` -> list), else the raw text.

    Unparseable text is passed through as a string so `load_experiment` reports it with
    the key and what was expected, like any other problem.
    """
    text = text.strip()
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _table_text(table: dict[str, Any]) -> str:
    return "\n".join(f"{k} = {toml_value(v)}" for k, v in table.items())


class EditScreen(Screen[Path | None]):
    """Edit a copy of an experiment; returns the saved path, or None when cancelled."""

    CSS_PATH = "edit.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, source: Experiment, experiments_dir: Path) -> None:
        super().__init__()
        self.source = source
        self.experiments_dir = Path(experiments_dir)
        self.sections = experiment_sections(source, self.experiments_dir)

    def _row(self, label: str, widget: Widget) -> Horizontal:
        return Horizontal(Label(label, classes="field-label"), widget, classes="field")

    def compose(self) -> ComposeResult:
        s = self.sections
        ds_extra = {k: v for k, v in s["dataset"].items() if k not in ("name", "test_size", "scaling")}
        hyper = {k: v for k, v in s["model"].items() if k != "algorithm"}
        q, zk = s["quantization"], s["zk"]
        new_name = f"{self.source.name}_copy"[:30]

        def select(options: tuple[str, ...], value: str, id: str) -> Select[str]:
            return Select([(o, o) for o in options], value=value, allow_blank=False, id=id, compact=True)

        def inp(value: Any, id: str) -> Input:
            text = value if isinstance(value, str) else toml_value(value)
            return Input(text, id=id, compact=True)

        yield Header()
        with VerticalScroll(id="form"):
            yield Static(Text(f"New experiment from {self.source.path.name}", style="bold"), id="form-title")
            yield self._row("file name", Input(f"{new_name}.toml", id="file", compact=True))
            yield Label("experiment", classes="section")
            yield self._row("name", Input(new_name, id="name", compact=True))
            yield self._row("description", Input(s["experiment"]["description"], id="description", compact=True))
            yield self._row("seed", inp(s["experiment"]["seed"], "seed"))
            yield Label("dataset", classes="section")
            yield self._row("name", select(DATASET_NAMES, s["dataset"]["name"], "dataset"))
            yield self._row("test_size", inp(s["dataset"]["test_size"], "test_size"))
            yield self._row("scaling", select(SCALINGS, s["dataset"]["scaling"], "scaling"))
            yield self._row("other keys", TextArea(_table_text(ds_extra), id="dataset-extra", language=None, compact=True))
            yield Label("model", classes="section")
            yield self._row("algorithm", select(catalogue.algorithm_names(), s["model"]["algorithm"], "algorithm"))
            yield self._row("hyperparams", TextArea(_table_text(hyper), id="hyper", language=None, compact=True))
            yield Static(id="hyper-hint", classes="muted")
            yield Label("quantization", classes="section")
            yield self._row("fractional_bits", inp(q["fractional_bits"], "fractional_bits"))
            yield self._row("input_range", inp(q["input_range"], "input_range"))
            yield Label("zk", classes="section")
            yield self._row("samples", inp(zk["samples"], "samples"))
            yield self._row("proofs", inp(zk["proofs"], "proofs"))
            yield self._row("batch", inp(zk["batch"], "batch"))
            yield self._row("inputs", select(VISIBILITIES, zk["inputs"], "inputs"))
            yield self._row("output", select(VISIBILITIES, zk["output"], "output"))
            yield self._row("scores", select(("false", "true"), toml_value(zk["scores"]), "scores"))
            yield self._row("compiler", select(COMPILERS, zk["compiler"], "compiler"))
            yield self._row("endpoint", Input(zk["endpoint"] or "", placeholder="(local stub)", id="endpoint", compact=True))
            yield Static(id="errors")
            with Horizontal(id="buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")
        yield WorkbenchFooter()

    def on_mount(self) -> None:
        self.sub_title = "new experiment"
        self._hint()
        self.query_one("#file", Input).focus()

    @on(Select.Changed, "#algorithm")
    def _hint(self) -> None:
        algorithm = self.query_one("#algorithm", Select).value
        names = sorted(catalogue.get(str(algorithm)).hyperparameters())
        self.query_one("#hyper-hint", Static).update(
            Text("TOML lines `key = value`; valid keys: " + ", ".join(names), style="dim")
        )

    def _value(self, id: str) -> str:
        w = self.query_one(f"#{id}")
        if isinstance(w, Input):
            return w.value
        if isinstance(w, Select):
            return str(w.value)
        assert isinstance(w, TextArea)
        return w.text

    def _table(self, id: str, what: str, problems: list[tuple[str, str]]) -> dict[str, Any]:
        try:
            return tomllib.loads(self._value(id))
        except tomllib.TOMLDecodeError as exc:
            problems.append((what, f"not TOML `key = value` lines: {exc}"))
            return {}

    def document(self) -> tuple[str, list[tuple[str, str]]]:
        """The TOML text of the form, and problems found before validation (if any)."""
        problems: list[tuple[str, str]] = []
        ds_extra = self._table("dataset-extra", "[dataset] other keys", problems)
        hyper = self._table("hyper", "[model] hyperparams", problems)
        endpoint = self._value("endpoint").strip() or None
        sections = {
            "experiment": {
                "name": self._value("name").strip(),
                "description": self._value("description"),
                "seed": parse_scalar(self._value("seed")),
            },
            "dataset": {
                "name": self._value("dataset"),
                "test_size": parse_scalar(self._value("test_size")),
                "scaling": self._value("scaling"),
                **ds_extra,
            },
            "model": {"algorithm": self._value("algorithm"), **hyper},
            "quantization": {
                "fractional_bits": parse_scalar(self._value("fractional_bits")),
                "input_range": parse_scalar(self._value("input_range")),
            },
            "zk": {
                "samples": parse_scalar(self._value("samples")),
                "proofs": parse_scalar(self._value("proofs")),
                "batch": parse_scalar(self._value("batch")),
                "inputs": self._value("inputs"),
                "output": self._value("output"),
                "scores": self._value("scores") == "true",
                "compiler": self._value("compiler"),
                "endpoint": endpoint,
            },
        }
        header = f"{sections['experiment']['name']}: made in the workbench from {self.source.path.name}"
        try:
            return to_toml(sections, header=header), problems
        except TypeError as exc:  # a nested table typed into a text area
            return "", problems + [("form", str(exc))]

    def _show_problems(self, problems: list[tuple[str, str]]) -> None:
        t = Table.grid(padding=(0, 1))
        t.add_column(style="bold red", no_wrap=True)
        t.add_column()
        for key, message in problems:
            t.add_row(Text(key), Text(message, overflow="fold"))
        errors = self.query_one("#errors", Static)
        errors.update(t)
        errors.add_class("shown")
        errors.scroll_visible()

    def action_save(self) -> None:
        """Validate the form as an experiment and save it as a new TOML file."""
        name = self._value("file").strip()
        if not name:
            self._show_problems([("file name", "missing")])
            return
        if not name.endswith(".toml"):
            name += ".toml"
        if "/" in name or name.startswith("."):
            self._show_problems([("file name", "a plain file name, saved in " + str(self.experiments_dir))])
            return
        text, problems = self.document()
        if problems:
            self._show_problems(problems)
            return
        target = self.experiments_dir / name
        try:
            save_experiment(text, target)
        except FileExistsError:
            self._show_problems([("file name", f"{name} already exists; choose another name")])
            return
        except ExperimentError as exc:
            self._show_problems([(p.key or "file", p.message) for p in exc.problems])
            return
        self.dismiss(target)

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Leave without saving."""
        self.dismiss(None)
