"""The experiments screen: every `experiments/*.toml`, its settings, and its problems."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from time import monotonic
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, OptionList, Static
from textual.widgets.option_list import Option

from workbench.experiment import Experiment, ExperimentError, load_experiment
from workbench.tui.widgets.footer import WorkbenchFooter

if TYPE_CHECKING:
    from workbench.tui.app import WorkbenchApp


@dataclass(frozen=True)
class Entry:
    """One experiment file: the loaded experiment, or the error that prevented it."""

    path: Path
    experiment: Experiment | None
    error: ExperimentError | None

    @classmethod
    def load(cls, path: Path) -> "Entry":
        try:
            return cls(path, load_experiment(path), None)
        except ExperimentError as exc:
            return cls(path, None, exc)


def _value(v: object) -> str:
    if v is None:
        return "auto"
    if isinstance(v, tuple):
        return f"[{v[0]:g}, {v[1]:g}]"
    return str(v)


def describe(entry: Entry) -> RenderableType:
    """The settings of an experiment, or its validation problems, as a renderable."""
    if entry.experiment is None:
        assert entry.error is not None
        # Key on its own line, message indented below: keys such as
        # "[quantization] fractional_bits" would leave no room beside them at 80 columns.
        problems: list[RenderableType] = []
        for p in entry.error.problems:
            problems += [Text(p.key or "file", style="bold red"), Padding(Text(p.message), (0, 0, 1, 2))]
        return Group(
            Text(f"✗ {entry.error.title}: {entry.path.name}", style="bold red"),
            Text(""),
            *problems,
            Text(""),
            Text("Fix the file in an editor, then press F5 to reload.", style="dim"),
        )
    e = entry.experiment
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()

    def row(key: object, value: object) -> None:
        # Values are user text: wrap them in Text so "[...]" is never read as markup.
        grid.add_row(*(v if isinstance(v, Text) else Text(str(v)) for v in (key, value)))

    def section(title: str) -> None:
        row(Text(title, style="bold cyan"), "")

    row("  seed", str(e.seed))
    section("dataset")
    row("  name", e.dataset.name)
    row("  test_size", f"{e.dataset.test_size:g}")
    row("  scaling", e.dataset.scaling)
    for k, v in e.dataset.params.items():
        row(f"  {k}", str(v))
    if e.dataset.csv_path is not None:
        row("  path", str(e.dataset.csv_path))
        row("  target", str(e.dataset.target))
    section("model")
    row("  algorithm", e.model.algorithm)
    for k, v in e.model.params.items():
        row(f"  {k}", str(v))
    section("quantization")
    row("  fractional_bits", _value(e.quantization.fractional_bits))
    row("  input_range", _value(e.quantization.input_range))
    section("zk")
    row("  samples", "all" if e.zk.samples is None else str(e.zk.samples))
    row("  proofs", str(e.zk.proofs))
    row("  inputs/output", f"{e.zk.inputs} / {e.zk.output}")
    row("  compiler", e.zk.compiler)
    if e.zk.endpoint:
        row("  endpoint", e.zk.endpoint)
    head = [Text(e.name, style="bold")] + ([Text(e.description, style="italic")] if e.description else [])
    return Group(*head, grid)


class ExperimentsScreen(Screen[None]):
    """List experiments; show the highlighted one; run, copy-and-edit or open another."""

    CSS_PATH = "experiments.tcss"
    BINDINGS = [
        Binding("r", "run", "Run"),
        Binding("R", "run_with", "Run with…", show=False),
        Binding("n", "new", "New"),
        Binding("o", "open", "Open"),
        Binding("f5", "reload", "Reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[Entry] = []
        self.extra_paths: list[Path] = []  # opened with `o`, outside the experiments directory
        self._highlighted_at = 0.0
        self._mouse_at = -1.0

    @property
    def wb(self) -> "WorkbenchApp":
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield OptionList(id="experiment-list")
            with VerticalScroll(id="detail-pane"):
                yield Static(id="detail")
        yield WorkbenchFooter()

    def on_mount(self) -> None:
        self.sub_title = str(self.wb.experiments_dir)
        # Reading the files imports scikit-learn (seconds on a cold start): paint first.
        self.query_one("#detail", Static).update(Text("loading experiments …", style="dim"))
        self.call_after_refresh(self.action_reload)

    def action_reload(self, select: Path | None = None) -> None:
        """Re-read every experiment file (keeping the highlighted one when possible)."""
        ol = self.query_one(OptionList)
        current = self.current.path if self.current else None
        paths = sorted(self.wb.experiments_dir.glob("*.toml")) if self.wb.experiments_dir.is_dir() else []
        resolved = {p.resolve() for p in paths}
        paths += [p for p in self.extra_paths if p.resolve() not in resolved]
        self.entries = [Entry.load(p) for p in paths]
        ol.clear_options()
        for e in self.entries:
            mark = Text("✓ ", style="green") if e.experiment else Text("✗ ", style="bold red")
            ol.add_option(Option(Text.assemble(mark, e.path.stem), id=str(e.path)))
        want = select or current
        index = next((i for i, e in enumerate(self.entries) if want and e.path.resolve() == want.resolve()), 0)
        if self.entries:
            ol.highlighted = index
        self._show()
        ol.focus()

    @property
    def current(self) -> Entry | None:
        """The highlighted entry."""
        if not self.is_mounted:
            return None
        i = self.query_one(OptionList).highlighted
        return self.entries[i] if i is not None and i < len(self.entries) else None

    def _show(self) -> None:
        detail = self.query_one("#detail", Static)
        entry = self.current
        if entry is None:
            detail.update(
                Text(f"No experiments in {self.wb.experiments_dir}/.\nPress o to open a TOML file.", style="dim")
            )
        else:
            detail.update(describe(entry))

    @on(OptionList.OptionHighlighted)
    def _highlighted(self) -> None:
        self._highlighted_at = monotonic()
        self._show()

    def on_mouse_down(self) -> None:
        self._mouse_at = monotonic()

    @on(OptionList.OptionSelected)
    def _selected(self) -> None:
        # A click highlights and selects in one go; a proof run should not start from a
        # single click on another entry. So a click picks, a second click (or Enter) runs.
        click_moved_highlight = monotonic() - self._mouse_at < 1.0 and self._highlighted_at >= self._mouse_at
        if not click_moved_highlight:
            self.action_run()

    def action_run(self) -> None:
        """Run the highlighted experiment (if it is valid)."""
        from workbench.tui.screens.run import RunScreen

        entry = self.current
        if entry is None:
            return
        if entry.experiment is None:
            self.notify("Fix the problems shown before running.", title="invalid experiment", severity="error")
            return
        self.app.push_screen(RunScreen(entry.experiment))

    def action_run_with(self) -> None:
        """Run the highlighted experiment with other samples/proofs than its file says."""
        from workbench.tui.screens.run import RunScreen
        from workbench.tui.screens.run_options import RunOptions, RunOptionsScreen

        entry = self.current
        if entry is None or entry.experiment is None:
            self.notify("Fix the problems shown before running.", title="invalid experiment", severity="error")
            return
        exp = entry.experiment

        def chosen(options: RunOptions | None) -> None:
            if options is not None:
                self.app.push_screen(RunScreen(exp, samples=options.samples, proofs=options.proofs))

        self.app.push_screen(RunOptionsScreen(exp), chosen)

    def action_new(self) -> None:
        """Copy the highlighted experiment into the edit form."""
        from workbench.tui.screens.edit import EditScreen

        entry = self.current
        if entry is None or entry.experiment is None:
            self.notify("Pick a valid experiment to copy.", severity="warning")
            return

        def saved(path: Path | None) -> None:
            if path is not None:
                self.action_reload(select=path)
                self.notify(f"saved {path}", title="new experiment")

        self.app.push_screen(EditScreen(entry.experiment, self.wb.experiments_dir), saved)

    def action_open(self) -> None:
        """Ask for a TOML path anywhere on disk and add it to the list."""
        from workbench.tui.screens.open_path import OpenPathScreen

        def opened(path: Path | None) -> None:
            if path is None:
                return
            if path.resolve() not in {p.resolve() for p in self.extra_paths}:
                self.extra_paths.append(path)
            self.action_reload(select=path)

        self.app.push_screen(OpenPathScreen(), opened)
