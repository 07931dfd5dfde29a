"""The help screen (`?`): what each screen does and its keys."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# zkML Workbench

**Global**: `e` experiments · `h` history · `?` help · `t` light/dark theme ·
`ctrl+p` command palette · `q` quit. Mouse clicks work everywhere.

## Experiments
`↑/↓` pick an experiment · `enter`/`r` run it · `R` run with other samples/proofs ·
`n` new experiment from this one
(form, saved as a new TOML) · `o` open any TOML path · `F5` reload files.
Invalid files show their problems instead of settings.

## Run
Stages with state and time, a progress bar for execution and proving, the log.
`escape` cancels a running run (nothing half-written remains) or goes back.
The result opens when the run finishes; a failure shows its message.

## Result
Tabs (`←/→` or click): Summary (float · quantized · ZK), Costs (constraints,
timings, proof size), Leo source, Aleo instructions, Plots across runs.
`escape` goes back.

## History
`f` filter by experiment · `space` select a run · `enter` open it ·
`c` compare the selected runs (two or more) · `F5` reload.
"""


class HelpScreen(ModalScreen[None]):
    """Key bindings and a word on each screen."""

    CSS_PATH = "help.tcss"
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(HELP)

    def action_close(self) -> None:
        self.dismiss(None)
