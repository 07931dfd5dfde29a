"""A small dialog asking for the path of an experiment TOML file."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class OpenPathScreen(ModalScreen[Path | None]):
    """Returns the typed path (must be an existing file) or None on escape."""

    CSS_PATH = "open_path.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Open an experiment TOML file", classes="title")
            yield Input(placeholder="path/to/experiment.toml", id="path")
            yield Label("Enter to open, Esc to cancel", id="hint", classes="muted")

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        path = Path(event.value.strip()).expanduser()
        if not path.is_file():
            self.query_one("#hint", Label).update(f"[red]not a file: {path}[/]")
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
