"""The experiments screen: listing, inline validation errors, opening a path, copy-and-edit."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, OptionList, Static, TextArea

from tui_helpers import sync, widget_text

from workbench.experiment import load_experiment
from workbench.tui.app import make_app
from workbench.tui.screens.edit import EditScreen
from workbench.tui.screens.experiments import ExperimentsScreen
from workbench.tui.screens.open_path import OpenPathScreen


def detail_text(app) -> str:  # type: ignore[no-untyped-def]
    """The experiments screen's detail pane as plain text."""
    return widget_text(app.screen.query_one("#detail", Static))


@sync
async def test_lists_experiments_and_shows_problems_inline(dirs: tuple[Path, Path]) -> None:
    app = make_app(*dirs)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, ExperimentsScreen)
        assert [e.path.name for e in screen.entries] == ["broken.toml", "iris_decision_tree.toml", "iris_quick.toml"]
        # The invalid file is listed, not fatal: its problems replace the settings.
        assert screen.entries[0].experiment is None
        text = detail_text(app)
        assert "invalid experiment" in text
        assert "[dataset] name" in text and 'did you mean "iris"?' in text
        assert "[model] max_dept" in text
        # Running it is refused with a message instead of starting a worker.
        await pilot.press("r")
        assert isinstance(app.screen, ExperimentsScreen)

        await pilot.press("down")
        text = detail_text(app)
        assert "iris_decision_tree" in text and "decision_tree_classifier" in text
        assert "max_depth" in text and "fractional_bits" in text and "samples" in text


@sync
async def test_open_any_toml_path(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    other = elsewhere / "wine_tree.toml"
    other.write_text(
        (dirs[0] / "iris_quick.toml").read_text().replace('"iris_quick"', '"wine_tree"').replace('"iris"', '"wine"')
    )
    app = make_app(*dirs)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        assert isinstance(app.screen, OpenPathScreen)
        app.screen.query_one(Input).value = str(tmp_path / "missing.toml")
        await pilot.press("enter")
        assert isinstance(app.screen, OpenPathScreen)  # stays open, says why
        assert "not a file" in widget_text(app.screen.query_one("#hint"))
        app.screen.query_one(Input).value = str(other)
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ExperimentsScreen)
        assert screen.current is not None and screen.current.path == other
        assert screen.query_one(OptionList).option_count == 4
        assert "wine" in detail_text(app)


@sync
async def test_new_experiment_from_copy_is_validated_and_saved(dirs: tuple[Path, Path]) -> None:
    exp_dir, _ = dirs
    app = make_app(*dirs)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down", "n")
        form = app.screen
        assert isinstance(form, EditScreen)
        assert form.query_one("#name", Input).value == "iris_decision_tree_copy"

        # An invalid value is reported inline and nothing is written.
        form.query_one("#proofs", Input).value = "-2"
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, EditScreen)
        errors = widget_text(form.query_one("#errors", Static))
        assert "[zk] proofs" in errors and "integer >= 0" in errors
        assert sorted(p.name for p in exp_dir.glob("*.toml")) == ["broken.toml", "iris_decision_tree.toml", "iris_quick.toml"]
        assert not list(exp_dir.glob(".*"))  # no temporary file left behind

        # An existing file name is refused.
        form.query_one("#proofs", Input).value = "0"
        form.query_one("#file", Input).value = "iris_quick.toml"
        await pilot.press("ctrl+s")
        assert "already exists" in widget_text(form.query_one("#errors", Static))

        form.query_one("#file", Input).value = "wine_deeper"
        form.query_one("#name", Input).value = "wine_deeper"
        form.query_one("#hyper", TextArea).text = "max_depth = 6\ncriterion = \"entropy\""
        form.query_one("#samples", Input).value = "5"
        form.query_one("#input_range", Input).value = "[-3.0, 3.0]"
        from textual.widgets import Select

        form.query_one("#dataset", Select).value = "wine"
        await pilot.press("ctrl+s")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ExperimentsScreen)
        saved = exp_dir / "wine_deeper.toml"
        assert screen.current is not None and screen.current.path == saved

    exp = load_experiment(saved)
    assert exp.name == "wine_deeper" and exp.dataset.name == "wine"
    assert exp.model.params == {"max_depth": 6, "criterion": "entropy"}
    assert exp.zk.samples == 5 and exp.zk.proofs == 0
    assert exp.quantization.input_range == (-3.0, 3.0)
    assert exp.seed == 7 and exp.dataset.scaling == "standard"  # carried over from the source


@sync
async def test_edit_cancel_writes_nothing(dirs: tuple[Path, Path]) -> None:
    exp_dir, _ = dirs
    before = sorted(exp_dir.iterdir())
    app = make_app(*dirs)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down", "n")
        assert isinstance(app.screen, EditScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, ExperimentsScreen)
    assert sorted(exp_dir.iterdir()) == before
