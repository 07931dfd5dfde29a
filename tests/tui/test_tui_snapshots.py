"""Snapshots of the main screens at 80x24 (and one larger), from the fixture files.

Update after an intended change with `pytest tests/tui --snapshot-update` and review the
SVGs under __snapshots__/.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from workbench.events import Event, EventKind
from workbench.tui.app import WorkbenchApp, make_app
from workbench.tui.screens import run as run_module
from workbench.tui.widgets import stage_list
from workbench.tui.worker import Failed

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> WorkbenchApp:
    # Relative paths, so the screens show the same text wherever the repository lives.
    # Nothing in these tests writes to the fixture directories.
    monkeypatch.chdir(FIXTURES)
    return make_app(Path("experiments"), Path("results"))


def test_experiments_invalid(app: WorkbenchApp, snap_compare: Any) -> None:
    assert snap_compare(app, terminal_size=(80, 24))


def test_experiments_valid(app: WorkbenchApp, snap_compare: Any) -> None:
    assert snap_compare(app, press=["down"], terminal_size=(80, 24))


def test_experiments_light_theme(app: WorkbenchApp, snap_compare: Any) -> None:
    assert snap_compare(app, press=["down", "t"], terminal_size=(80, 24))


def test_help(app: WorkbenchApp, snap_compare: Any) -> None:
    assert snap_compare(app, press=["question_mark"], terminal_size=(80, 24))


async def _no_blink(pilot: Pilot) -> None:
    # A focused Input blinks its cursor; a screenshot must not depend on the phase.
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    await pilot.pause()


def test_edit_form(app: WorkbenchApp, snap_compare: Any) -> None:
    async def open_form(pilot: Pilot) -> None:
        await pilot.press("down", "n")
        await _no_blink(pilot)

    assert snap_compare(app, run_before=open_form, terminal_size=(80, 24))


def test_edit_form_with_problems(app: WorkbenchApp, snap_compare: Any) -> None:
    async def invalid(pilot: Pilot) -> None:
        await pilot.press("down", "n")
        pilot.app.screen.query_one("#fractional_bits", Input).value = "99"
        pilot.app.screen.query_one("#name", Input).value = "Bad Name"
        await pilot.press("ctrl+s")
        await _no_blink(pilot)

    assert snap_compare(app, run_before=invalid, terminal_size=(80, 24))


class ScriptedProcess:
    """Stands in for RunProcess: replays a fixed run that fails while proving."""

    ITEMS: list[Any] = [
        *[
            item
            for stage, secs in (("load data", 0.01), ("train", 0.01), ("quantize", 0.0), ("plan", 0.02),
                                ("generate Leo", 0.01), ("compile", 0.4), ("synthesize keys", 5.87))
            for item in (Event(EventKind.STAGE_STARTED, stage), Event(EventKind.STAGE_FINISHED, stage, elapsed=secs))
        ],
        Event(EventKind.LOG, "synthesize keys", "iris_decision_tree.aleo/main: 11752 constraints"),
        Event(EventKind.STAGE_STARTED, "execute samples"),
        *[Event(EventKind.STAGE_PROGRESS, "execute samples", "", i, 3) for i in (1, 2, 3)],
        Event(EventKind.STAGE_FINISHED, "execute samples", elapsed=0.93),
        Event(EventKind.STAGE_STARTED, "prove"),
        Failed("snarkVM", "proving failed: the ledger query at http://127.0.0.1:9/ did not answer"),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.items = list(self.ITEMS)
        self.pid = 4242
        self.alive = True
        self.exitcode: int | None = None
        self.cancel_requested_at: float | None = None

    def start(self) -> None:
        pass

    def get(self, timeout: float = 0.1) -> Any:
        if self.items:
            return self.items.pop(0)
        time.sleep(timeout)
        return None

    def join(self, timeout: float | None = None) -> None:
        self.alive, self.exitcode = False, 0

    def remove_partials(self) -> list[Path]:
        return []

    def stop(self, grace: float = 0) -> None:
        self.alive = False


def test_run_failed(app: WorkbenchApp, snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_module, "RunProcess", ScriptedProcess)
    # A frozen clock for the stage list, so the failed stage's time is the same every run.
    monkeypatch.setattr(stage_list, "monotonic", lambda: 1000.0)

    async def run(pilot: Pilot) -> None:
        await pilot.press("down", "r")
        screen = pilot.app.screen
        for _ in range(100):
            if getattr(screen, "state", "") == "failed":
                break
            await pilot.pause(0.05)
        await pilot.pause()

    assert snap_compare(app, run_before=run, terminal_size=(80, 24))


def test_history(app: WorkbenchApp, snap_compare: Any) -> None:
    assert snap_compare(app, press=["h", "space", "down", "space"], terminal_size=(80, 24))


def test_compare(app: WorkbenchApp, snap_compare: Any) -> None:
    assert snap_compare(app, press=["h", "space", "down", "space", "c"], terminal_size=(80, 24))


def test_result_summary(app: WorkbenchApp, snap_compare: Any) -> None:
    assert snap_compare(app, press=["h", "down", "enter"], terminal_size=(80, 24))


def test_result_costs(app: WorkbenchApp, snap_compare: Any) -> None:
    assert snap_compare(app, press=["h", "down", "enter", "2"], terminal_size=(80, 24))


def test_result_leo(app: WorkbenchApp, snap_compare: Any) -> None:
    assert snap_compare(app, press=["h", "down", "enter", "3"], terminal_size=(80, 24))


def test_result_aleo(app: WorkbenchApp, snap_compare: Any) -> None:
    assert snap_compare(app, press=["h", "down", "enter", "4"], terminal_size=(80, 24))


def test_result_plots(app: WorkbenchApp, snap_compare: Any) -> None:
    assert snap_compare(app, press=["h", "down", "enter", "5"], terminal_size=(80, 24))


def test_result_summary_large(app: WorkbenchApp, snap_compare: Any) -> None:
    assert snap_compare(app, press=["h", "down", "enter"], terminal_size=(120, 36))
