"""App-wide behaviour: help, themes, modes, the CLI entry, and the import boundaries."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from textual.widgets import Markdown
from tui_helpers import sync, widget_text

from workbench import cli
from workbench.tui.app import WorkbenchApp, make_app
from workbench.tui.screens.experiments import ExperimentsScreen
from workbench.tui.screens.help import HelpScreen
from workbench.tui.screens.history import HistoryScreen

PACKAGE = Path(__file__).resolve().parents[2] / "workbench"


@sync
async def test_help_theme_and_modes(dirs: tuple[Path, Path]) -> None:
    app = make_app(*dirs)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_text = app.screen.query_one(Markdown).source
        for key in ("ctrl+p", "space", "escape", "enter"):
            assert key in help_text
        await pilot.press("escape")
        assert isinstance(app.screen, ExperimentsScreen)

        assert app.current_theme.dark
        await pilot.press("t")
        assert not app.current_theme.dark
        await pilot.press("t")
        assert app.current_theme.dark

        await pilot.press("h")
        assert isinstance(app.screen, HistoryScreen)
        await pilot.press("e")
        assert isinstance(app.screen, ExperimentsScreen)
        await pilot.press("q")
    assert app.return_code == 0


@sync
async def test_mouse_click_selects_an_experiment(dirs: tuple[Path, Path]) -> None:
    app = make_app(*dirs)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, ExperimentsScreen)
        # Row 2 of the list (inside its border) is iris_decision_tree.
        await pilot.click("#experiment-list", offset=(5, 2))
        assert screen.current is not None and screen.current.path.name == "iris_decision_tree.toml"
        assert app.screen is screen  # one click picks; it does not start a proof run
        assert "decision_tree_classifier" in widget_text(screen.query_one("#detail"))


def test_cli_without_arguments_runs_the_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[WorkbenchApp] = []
    monkeypatch.setattr(WorkbenchApp, "run", lambda self, *a, **k: seen.append(self))
    assert cli.main(["--experiments", str(tmp_path / "e"), "--results", str(tmp_path / "r")]) == 0
    assert len(seen) == 1
    assert seen[0].experiments_dir == tmp_path / "e" and seen[0].results_dir == tmp_path / "r"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_import_boundaries() -> None:
    # The core never imports Textual; the TUI never imports snarkVM or the pipeline
    # (it talks to the pipeline through the worker process's events only).
    for path in PACKAGE.rglob("*.py"):
        names = _imports(path)
        if "tui" in path.relative_to(PACKAGE).parts:
            bad = {n for n in names if n.split(".")[0] == "aleo" or n.startswith(("workbench.snarkvm", "workbench.pipeline"))}
            if path.name == "worker.py":  # the child side imports the pipeline, inside the child only
                bad -= {"workbench.pipeline"}
        elif path.name == "cli.py":
            bad = set()  # the CLI starts the TUI
        else:
            bad = {n for n in names if n.split(".")[0] == "textual"}
        assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}"
