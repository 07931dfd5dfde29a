"""The history screen: saved runs from results/, filterable, selectable for comparison."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Header, Label, Select, Static

from workbench.errors import WorkbenchError
from workbench.report import comparison_row
from workbench.results import RunResult, list_runs, load_result
from workbench.tui.widgets.footer import WorkbenchFooter

if TYPE_CHECKING:
    from workbench.tui.app import WorkbenchApp

ALL = "*"


def _num(v: object, digits: int = 4) -> str:
    return "-" if v is None else f"{v:.{digits}f}" if isinstance(v, float) else str(v)


class HistoryScreen(Screen[None]):
    """Every saved run; space selects, c compares the selection, enter opens one."""

    CSS_PATH = "history.tcss"
    BINDINGS = [
        Binding("space", "toggle", "Select"),
        Binding("c", "compare", "Compare"),
        Binding("enter", "open", "Open", show=False),
        Binding("f", "filter", "Filter"),
        Binding("f5", "reload", "Reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.runs: dict[str, tuple[Path, RunResult]] = {}  # row key -> run
        self.selected: list[str] = []  # row keys, in the order picked
        self.unreadable: list[str] = []

    @property
    def wb(self) -> "WorkbenchApp":
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="filter-bar"):
            yield Label("experiment ", id="filter-label")
            yield Select([], prompt="all experiments", id="filter", compact=True)
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Static(id="history-status", classes="muted")
        yield WorkbenchFooter()

    def on_mount(self) -> None:
        self.sub_title = f"history ({self.wb.results_dir})"
        table = self.query_one(DataTable)
        for label, key, width in (
            ("", "sel", 1),
            ("run", "run", 20),
            ("experiment", "experiment", 18),
            ("ZK", "zk", 6),
            ("agree", "agreement", 6),
            ("prove s", "prove_s", 7),
            ("constr.", "constraints", 7),
        ):
            table.add_column(label, key=key, width=width)
        self.action_reload()
        table.focus()

    def on_screen_resume(self) -> None:
        # Runs finished elsewhere in the app appear when the screen is shown again.
        if self.is_mounted:
            self.action_reload()

    def _experiments(self) -> list[str]:
        root = self.wb.results_dir
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))

    def action_reload(self) -> None:
        """Re-read results/ (keeping the filter and the selection)."""
        select = self.query_one("#filter", Select)
        names = self._experiments()
        current = select.value if select.value in names else Select.NULL
        with self.prevent(Select.Changed):
            select.set_options([(n, n) for n in names])
            select.value = current
        self._fill()

    @property
    def experiment_filter(self) -> str | None:
        """The experiment shown, or None for all."""
        v = self.query_one("#filter", Select).value
        return v if isinstance(v, str) else None

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        self.runs.clear()
        self.unreadable = []
        for run_dir in reversed(list_runs(self.wb.results_dir, self.experiment_filter)):  # newest first
            try:
                r = load_result(run_dir)
            except WorkbenchError:
                self.unreadable.append(str(run_dir))
                continue
            key = str(run_dir)
            self.runs[key] = (run_dir, r)
            row = comparison_row(r)
            table.add_row(
                self._mark(key),
                row["run"],
                row["experiment"],
                _num(row["zk"]),
                _num(row["agreement"]),
                _num(row["prove_s"], 2),
                str(row["constraints_max"]),
                key=key,
            )
        self.selected = [k for k in self.selected if k in self.runs]
        for k in self.selected:
            table.update_cell(k, "sel", self._mark(k))
        self._status()

    def _mark(self, key: str) -> Text:
        return Text("●", style="bold green") if key in self.selected else Text("·", style="dim")

    def _status(self) -> None:
        n = len(self.runs)
        parts = [f"{n} run{'s' if n != 1 else ''}"]
        if self.selected:
            parts.append(f"{len(self.selected)} selected")
        if self.unreadable:
            parts.append(f"{len(self.unreadable)} unreadable (skipped)")
        if n == 0:
            parts.append(f"no saved runs in {self.wb.results_dir}/; run an experiment first")
        else:
            parts.append("space select · c compare · enter open")
        self.query_one("#history-status", Static).update(" · ".join(parts))

    @on(Select.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._fill()

    def _cursor_key(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def action_toggle(self) -> None:
        """Select or unselect the run under the cursor."""
        key = self._cursor_key()
        if key is None:
            return
        if key in self.selected:
            self.selected.remove(key)
        else:
            self.selected.append(key)
        self.query_one(DataTable).update_cell(key, "sel", self._mark(key))
        self._status()

    def action_compare(self) -> None:
        """Compare the selected runs (two or more) in one table."""
        from workbench.tui.screens.compare import CompareScreen

        if len(self.selected) < 2:
            self.notify("Select two or more runs with space first.", severity="warning")
            return
        self.app.push_screen(CompareScreen([self.runs[k][1] for k in self.selected]))

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        """Open the run under the cursor."""
        from workbench.tui.screens.result import ResultScreen

        key = self._cursor_key()
        if key is not None:
            self.app.push_screen(ResultScreen(self.runs[key][0]))

    def action_filter(self) -> None:
        """Focus the experiment filter."""
        self.query_one("#filter", Select).focus()
