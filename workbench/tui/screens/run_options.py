"""Run with overrides: how many test rows to execute in snarkVM and how many to prove.

The same overrides as `workbench run --samples N --proofs M`, without editing the file.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from workbench.experiment import Experiment


@dataclass(frozen=True)
class RunOptions:
    """Overrides of the experiment's [zk] samples and proofs (None: as in the file)."""

    samples: int | None
    proofs: int | None


def parse_count(text: str, minimum: int) -> int | None:
    """An override typed in the dialog: blank means "as in the file"; else an integer >= minimum."""
    text = text.strip()
    if not text:
        return None
    value = int(text)  # ValueError for anything else
    if value < minimum:
        raise ValueError(f"must be >= {minimum}")
    return value


class RunOptionsScreen(ModalScreen[RunOptions | None]):
    """Asks for samples and proofs; returns the overrides, or None when cancelled."""

    CSS_PATH = "run_options.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, experiment: Experiment) -> None:
        super().__init__()
        self.experiment = experiment

    def compose(self) -> ComposeResult:
        zk = self.experiment.zk
        with Vertical(id="dialog"):
            yield Label(f"Run {self.experiment.name} with", classes="title")
            with Horizontal(classes="row"):
                yield Label("samples", classes="label")
                yield Input(placeholder="all" if zk.samples is None else str(zk.samples), id="samples", compact=True)
            with Horizontal(classes="row"):
                yield Label("proofs", classes="label")
                yield Input(placeholder=str(zk.proofs), id="proofs", compact=True)
            yield Label("blank = as in the file · Enter to run · Esc to cancel", id="hint", classes="muted")

    @on(Input.Submitted)
    def _submit(self) -> None:
        try:
            samples = parse_count(self.query_one("#samples", Input).value, 1)
        except ValueError:
            self.query_one("#hint", Label).update("[red]samples: an integer >= 1, or blank[/]")
            return
        try:
            proofs = parse_count(self.query_one("#proofs", Input).value, 0)
        except ValueError:
            self.query_one("#hint", Label).update("[red]proofs: an integer >= 0, or blank[/]")
            return
        self.dismiss(RunOptions(samples, proofs))

    def action_cancel(self) -> None:
        self.dismiss(None)
