"""History: saved runs, filter by experiment, select and compare; opening a result."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Select, Static, TabbedContent
from tui_helpers import sync, widget_text

from workbench.atomic import write_json_atomic
from workbench.report import comparison_table
from workbench.results import list_runs, load_result
from workbench.tui.app import make_app
from workbench.tui.screens.compare import CompareScreen
from workbench.tui.screens.history import HistoryScreen
from workbench.tui.screens.result import ResultScreen
from workbench.tui.widgets.runs_plot import RunsPlot


@sync
async def test_filter_select_and_compare_two_runs(dirs: tuple[Path, Path]) -> None:
    _, res_dir = dirs
    app = make_app(*dirs)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("h")
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        table = screen.query_one("#runs", DataTable)
        assert table.row_count == 3
        # Newest first.
        assert table.get_row_at(0)[1] == "20260103-120000-cccc"

        screen.query_one("#filter", Select).value = "iris_decision_tree"
        await pilot.pause()
        assert table.row_count == 2
        assert {table.get_row_at(i)[2] for i in range(2)} == {"iris_decision_tree"}

        # Comparing needs two runs: with one selected it only warns.
        await pilot.press("space", "c")
        assert isinstance(app.screen, HistoryScreen)
        await pilot.press("down", "space")
        assert len(screen.selected) == 2
        assert "2 selected" in widget_text(screen.query_one("#history-status", Static))
        await pilot.press("c")
        compare = app.screen
        assert isinstance(compare, CompareScreen)

        # The table is results.comparison_table of the two runs, one column per run.
        runs = [load_result(p) for p in reversed(list_runs(res_dir, "iris_decision_tree"))]
        headers, rows = comparison_table(runs)
        ctable = compare.query_one(DataTable)
        assert [str(c.label) for c in ctable.columns.values()][1:] == [r[0] for r in rows]
        assert ctable.row_count == len(headers) - 1
        zk = ctable.get_row("zk")
        assert zk[1:] == ["0.9667", "1.0000"]  # in the order selected: newest first
        assert ctable.get_row("bits")[1:] == ["3", "5"]

        await pilot.press("escape")
        assert app.screen is screen
        # Space again unselects.
        await pilot.press("space")
        assert len(screen.selected) == 1


@sync
async def test_open_result_tabs_show_metrics_costs_and_sources(dirs: tuple[Path, Path]) -> None:
    app = make_app(*dirs)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("h", "down", "enter")  # the run with a disagreement
        screen = app.screen
        assert isinstance(screen, ResultScreen)
        assert screen.result is not None and screen.result.run_id == "20260102-120000-bbbb"
        summary = widget_text(screen.query_one("#summary-view", Static))
        assert "float quantized ZK (snarkVM)" in summary.replace("┃", "").replace("  ", " ")
        assert "0.9333" in summary and "0.9000" in summary and "0.9667" in summary
        assert "1 disagreements" in summary and "12" in summary

        await pilot.press("2")
        assert screen.query_one(TabbedContent).active == "costs"
        costs = widget_text(screen.query_one("#costs-view", Static))
        assert "11,650" in costs and "4.21" in costs and "2,437" in costs and "transitions" in costs

        await pilot.press("3")
        leo = widget_text(screen.query_one("#leo-view", Static))
        assert "program iris_decision_tree.aleo {" in leo and "@noupgrade" in leo

        await pilot.press("4")
        aleo = widget_text(screen.query_one("#aleo-view", Static))
        assert "program iris_decision_tree.aleo;" in aleo and "function main:" in aleo

        await pilot.press("5")
        await pilot.pause()
        plots = list(screen.query(RunsPlot))
        assert len(plots) == 2
        # Both runs of this experiment, oldest first: ZK accuracy 1.0 then 0.9667.
        assert [v[2] for v in plots[0].values()] == [1.0, 0.9667]
        assert [v[0] for v in plots[1].values()] == [6.6215, 4.21]

        await pilot.press("escape")
        assert isinstance(app.screen, HistoryScreen)


@sync
async def test_unreadable_result_is_an_error_on_screen(dirs: tuple[Path, Path]) -> None:
    _, res_dir = dirs
    bad = res_dir / "iris_decision_tree" / "20260104-120000-dddd"
    bad.mkdir()
    (bad / "result.json").write_text("{not json")
    app = make_app(*dirs)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("h")
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        assert screen.query_one(DataTable).row_count == 3
        assert "1 unreadable" in widget_text(screen.query_one("#history-status", Static))
        app.push_screen(ResultScreen(bad))
        await pilot.pause()
        text = widget_text(app.screen.query_one("#load-error", Static))
        assert "cannot read result" in text and "corrupt JSON" in text


@sync
async def test_empty_results_directory(tmp_path: Path) -> None:
    app = make_app(tmp_path / "experiments", tmp_path / "results")
    async with app.run_test(size=(80, 24)) as pilot:
        assert "No experiments" in widget_text(app.screen.query_one("#detail", Static))
        await pilot.press("h", "c", "enter", "space")
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        assert "no saved runs" in widget_text(screen.query_one("#history-status", Static))


def test_sources_of_a_chain_are_shown_from_the_main_program_down(tmp_path: Path) -> None:
    from rich.console import Console

    from workbench.tui.screens.result import _sources, source_files
    from workbench.tui.widgets.result_views import leo_source

    for name in ("model", "model_p3"):
        (tmp_path / f"{name}.aleo").write_text(f"program {name}.aleo;\n")
        src = tmp_path / "leo" / name / "src"
        src.mkdir(parents=True)
        (src / "main.leo").write_text(f"program {name}.aleo {{}}\n")
    # result.json lists programs dependencies first: the link, then the main program.
    files = source_files(tmp_path, ["model_p3.aleo", "model.aleo"])
    assert [aleo.name for _, aleo in files] == ["model.aleo", "model_p3.aleo"]
    console = Console(width=80, record=True)
    console.print(_sources(tmp_path, [leo for leo, _ in files], leo_source, "none"))
    text = console.export_text()
    assert text.index("leo/model/src/main.leo") < text.index("leo/model_p3/src/main.leo")
    assert "program model_p3.aleo {}" in text


@sync
async def test_costs_tab_shows_each_size_against_the_setup_limit(dirs: tuple[Path, Path]) -> None:
    # A schema-4 result records the six sizes of each function's verifying key and their
    # estimates; the costs tab shows them next to the degree-16 setup's limits.
    _, res_dir = dirs
    run = res_dir / "iris_decision_tree" / "20260102-120000-bbbb"
    d = load_result(run).to_dict()
    shape = {"public_inputs": 16, "variables": 11759, "constraints": 11752,
             "nonzero_a": 27150, "nonzero_b": 37298, "nonzero_c": 15779}
    d["circuit"]["functions"][0] |= {"shape": shape, "estimated_shape": {**shape, "nonzero_b": 38004}}
    write_json_atomic(run / "result.json", d)
    app = make_app(*dirs)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("h", "down", "enter", "2")
        costs = widget_text(app.screen.query_one("#costs-view", Static))
        assert "circuit sizes" in costs and "nnz B" in costs
        assert "37,298" in costs and "38,004" in costs and "65,536" in costs and "16,384" in costs
