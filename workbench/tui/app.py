"""The Textual app and its factory `make_app`, used by the CLI and the tests alike."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.binding import Binding

from workbench.kinds import ProverKind

from workbench.tui.screens.experiments import ExperimentsScreen
from workbench.tui.screens.help import HelpScreen
from workbench.tui.screens.history import HistoryScreen


class WorkbenchApp(App[None]):
    """zkML Workbench: experiments, live runs, results and history."""

    TITLE = "zkML Workbench"
    CSS_PATH = "app.tcss"
    MODES = {"experiments": ExperimentsScreen, "history": HistoryScreen}
    DEFAULT_MODE = "experiments"
    BINDINGS = [
        Binding("e", "switch_mode('experiments')", "Experiments"),
        Binding("h", "switch_mode('history')", "History"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("t", "toggle_theme", "Theme", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, experiments_dir: Path, results_dir: Path, prover: ProverKind = ProverKind.SNARKVM) -> None:
        super().__init__()
        # Configuration is passed in and read by the screens from their app; no globals.
        self.experiments_dir = Path(experiments_dir)
        self.results_dir = Path(results_dir)
        # The backend runs use: snarkVM, or (tests) the reference backend, whose results are
        # shown as not ZK results and never saved.
        self.prover = prover

    def action_help(self) -> None:
        """Show the key bindings and what each screen does."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        """Switch between the light and the dark theme."""
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"


def make_app(
    experiments_dir: Path = Path("experiments"),
    results_dir: Path = Path("results"),
    prover: ProverKind = ProverKind.SNARKVM,
) -> WorkbenchApp:
    """Build the workbench app over an experiments directory and a results directory."""
    return WorkbenchApp(experiments_dir, results_dir, prover)
