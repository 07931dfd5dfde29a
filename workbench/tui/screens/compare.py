"""Two or more runs in one table (the rows of `results.comparison_table`, transposed)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header

from workbench.report import comparison_table
from workbench.results import RunResult
from workbench.tui.widgets.footer import WorkbenchFooter


class CompareScreen(Screen[None]):
    """One column per run, one row per measure, so a few runs fit 80 columns."""

    CSS_PATH = "compare.tcss"
    BINDINGS = [Binding("escape", "back", "Back")]

    def __init__(self, results: list[RunResult]) -> None:
        super().__init__()
        self.results = results
        # The same table the CLI's `compare` prints, shown with runs as columns.
        self.headers, self.rows = comparison_table(results)

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="compare", cursor_type="row", zebra_stripes=True)
        yield WorkbenchFooter()

    def on_mount(self) -> None:
        self.sub_title = f"compare {len(self.results)} runs"
        table = self.query_one(DataTable)
        table.add_column("", key="field")
        for i, row in enumerate(self.rows):
            table.add_column(row[0], key=f"run{i}")
        for j, header in enumerate(self.headers[1:], start=1):
            cells = [row[j] for row in self.rows]
            # Highlight measures that differ between the runs.
            differs = len(set(cells)) > 1
            table.add_row(Text(header, style="bold" if differs else "dim"), *cells, key=header)
        table.focus()

    def action_back(self) -> None:
        """Back to the history."""
        self.dismiss(None)
