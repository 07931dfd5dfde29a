"""The result screen: metrics side by side, costs, Leo and Aleo source, plots across runs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static, TabbedContent, TabPane

from workbench.errors import WorkbenchError
from workbench.results import RunResult, list_runs, load_result
from workbench.tui.widgets.footer import WorkbenchFooter
from workbench.tui.widgets.result_views import aleo_source, cost_table, leo_source, summary
from workbench.tui.widgets.runs_plot import RunsPlot

if TYPE_CHECKING:
    from workbench.tui.app import WorkbenchApp


def source_files(run_dir: Path, programs: list[str] | None = None) -> list[tuple[Path | None, Path]]:
    """Each program's Leo source (None if not saved) and compiled Aleo instructions.

    `programs` is result.json's `circuit.programs` (dependencies first, the main program
    last); they are listed from the main program down the chain of calls. Without it,
    every `.aleo` file of the run directory, sorted.
    """
    if programs:
        files = [run_dir / p for p in reversed(programs)]
    else:
        files = sorted(run_dir.glob("*.aleo"))
    out: list[tuple[Path | None, Path]] = []
    for aleo in files:
        if aleo.is_file():
            # Each program's Leo project is saved as leo/<program>/ (results/README.md).
            leo = run_dir / "leo" / aleo.stem / "src" / "main.leo"
            out.append((leo if leo.is_file() else None, aleo))
    return out


def _sources(
    run_dir: Path | None, files: list[Path | None], render: Callable[[str], RenderableType], missing: str
) -> RenderableType:
    """One source, or each program's under its path when a model spans several programs."""
    present = [f for f in files if f is not None]
    if not present:
        return Text(missing, style="dim")
    if len(files) == 1:
        return render(present[0].read_text())
    parts: list[RenderableType] = []
    for f in present:
        parts += [Text(str(f.relative_to(run_dir)), style="bold"), render(f.read_text()), Text("")]
    return Group(*parts)


class ResultScreen(Screen[None]):
    """One saved run, in tabs."""

    CSS_PATH = "result.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("1", "tab('summary')", "Summary", show=False),
        Binding("2", "tab('costs')", "Costs", show=False),
        Binding("3", "tab('leo')", "Leo", show=False),
        Binding("4", "tab('aleo')", "Aleo", show=False),
        Binding("5", "tab('plots')", "Plots", show=False),
    ]

    def __init__(self, run_dir: Path | None = None, result: RunResult | None = None) -> None:
        """A saved run (`run_dir`), or a result that was not saved (the reference backend's)."""
        super().__init__()
        self.run_dir = None if run_dir is None else Path(run_dir)
        self.result: RunResult | None = result
        self.error: WorkbenchError | None = None
        if self.run_dir is not None:
            try:
                self.result = load_result(self.run_dir)
            except WorkbenchError as exc:
                self.error = exc

    @property
    def wb(self) -> "WorkbenchApp":
        return self.app  # type: ignore[return-value]

    def _history(self) -> list[RunResult]:
        """Every saved run of this experiment (oldest first), for the plots."""
        assert self.result is not None
        if self.run_dir is None:
            return [self.result]
        runs: list[RunResult] = []
        for d in list_runs(self.run_dir.parent.parent, self.result.experiment.name):
            try:
                runs.append(load_result(d))
            except WorkbenchError:
                continue  # a damaged neighbour should not hide this run
        return runs or [self.result]

    def compose(self) -> ComposeResult:
        yield Header()
        if self.result is None:
            assert self.error is not None
            yield Static(Text.assemble((f"✗ {self.error.title}\n", "bold red"), str(self.error)), id="load-error")
            yield WorkbenchFooter()
            return
        r = self.result
        files = source_files(self.run_dir, list(r.circuit.programs)) if self.run_dir is not None else []
        where = "in this run" if self.run_dir is not None else "(nothing is saved for a reference-backend run)"
        with TabbedContent(initial="summary"):
            with TabPane("Summary", id="summary"):
                with VerticalScroll():
                    yield Static(summary(r), id="summary-view")
            with TabPane("Costs", id="costs"):
                with VerticalScroll():
                    yield Static(cost_table(r), id="costs-view")
            with TabPane("Leo", id="leo"):
                with VerticalScroll(classes="source"):
                    yield Static(
                        _sources(self.run_dir, [leo for leo, _ in files], leo_source,
                                 f"no Leo source (leo/<program>/src/main.leo) {where}"),
                        id="leo-view",
                        expand=True,
                    )
            with TabPane("Aleo", id="aleo"):
                with VerticalScroll(classes="source"):
                    yield Static(
                        _sources(self.run_dir, [aleo for _, aleo in files], aleo_source, f"no .aleo file {where}"),
                        id="aleo-view",
                        expand=True,
                    )
            with TabPane("Plots", id="plots"):
                history = self._history()
                with Horizontal():
                    yield RunsPlot(history, "metric", id="plot-metric")
                    yield RunsPlot(history, "prove", id="plot-prove")
        yield WorkbenchFooter()

    def on_mount(self) -> None:
        self.sub_title = f"result {self.run_dir.name}" if self.run_dir is not None else "result (not saved)"

    def action_tab(self, tab: str) -> None:
        """Show one of the tabs."""
        if self.result is not None:
            self.query_one(TabbedContent).active = tab

    def action_back(self) -> None:
        """Back to where the result was opened from."""
        self.dismiss(None)
