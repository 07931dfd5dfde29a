"""The list of pipeline stages with a state and an elapsed time each."""

from __future__ import annotations

from time import monotonic

from rich.text import Text
from textual.widgets import DataTable

# State -> (symbol, style). Symbols make the state readable without colour.
_STATES = {
    "pending": ("·", "dim"),
    "running": ("▶", "bold $accent"),
    "done": ("✓", "green"),
    "failed": ("✗", "bold red"),
    "cancelled": ("■", "yellow"),
    "skipped": ("-", "dim"),
}


class StageList(DataTable[Text]):
    """One row per stage: name, state, elapsed seconds (live while running)."""

    DEFAULT_CSS = """
    StageList { height: auto; width: auto; }
    """

    def __init__(self, stages: tuple[str, ...], **kwargs: object) -> None:
        super().__init__(cursor_type="none", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self.stages = stages
        self.states: dict[str, str] = {s: "pending" for s in stages}
        self.elapsed: dict[str, float] = {}
        self.progress: dict[str, str] = {}
        self._started: dict[str, float] = {}

    def on_mount(self) -> None:
        self.add_column("stage", key="stage", width=15)
        self.add_column("state", key="state", width=11)
        self.add_column("sec", key="time", width=6)
        for s in self.stages:
            self.add_row(*self._cells(s), key=s)
        self.set_interval(0.5, self._tick)

    def _cells(self, stage: str) -> tuple[Text, Text, Text]:
        state = self.states[stage]
        symbol, style = _STATES[state]
        style = style.replace("$accent", "cyan")
        label = self.progress.get(stage, "") if state == "running" else ""
        if stage in self.elapsed:
            t = f"{self.elapsed[stage]:.1f}"
        elif stage in self._started:
            t = f"{monotonic() - self._started[stage]:.1f}"
        else:
            t = ""
        return (
            Text(stage, style="bold" if state == "running" else ""),
            Text(f"{symbol} {label or state}", style=style),
            Text(t, justify="right"),
        )

    def _refresh_row(self, stage: str) -> None:
        if not self.is_mounted or stage not in self.states:
            return
        for col, cell in zip(("stage", "state", "time"), self._cells(stage)):
            self.update_cell(stage, col, cell)

    def _tick(self) -> None:
        for s, state in self.states.items():
            if state == "running":
                self._refresh_row(s)

    def start(self, stage: str) -> None:
        """Mark a stage running and start its clock."""
        self.states[stage] = "running"
        self._started[stage] = monotonic()
        self._refresh_row(stage)

    def set_progress(self, stage: str, done: int, total: int) -> None:
        """Show `done/total` in a running stage's state cell."""
        self.progress[stage] = f"{done}/{total}"
        self._refresh_row(stage)

    def finish(self, stage: str, elapsed: float) -> None:
        """Mark a stage done with the elapsed time the pipeline measured."""
        self.states[stage] = "done"
        self.elapsed[stage] = elapsed
        self._refresh_row(stage)

    def stop_running(self, state: str) -> None:
        """Mark the running stage (if any) failed or cancelled and freeze its clock."""
        for s, st in list(self.states.items()):
            if st == "running":
                self.states[s] = state
                self.elapsed[s] = monotonic() - self._started[s]
                self._refresh_row(s)

    @property
    def running(self) -> str | None:
        """The stage currently running, if any."""
        return next((s for s, st in self.states.items() if st == "running"), None)
