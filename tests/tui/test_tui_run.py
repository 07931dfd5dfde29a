"""Runs through the worker process: a real proof to the end, a failure, and cancels."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from textual.message import Message
from textual.widgets import Static
from tui_helpers import Posted, sync, wait_for, widget_text

from workbench.kinds import ProverKind
from workbench.results import STAGING_PREFIX, list_runs, load_result
from workbench.tui.worker import Failed
from workbench.tui import messages as M
from workbench.tui.app import make_app
from workbench.tui.screens import run as run_module
from workbench.tui.screens.experiments import ExperimentsScreen
from workbench.tui.screens.result import ResultScreen
from workbench.tui.screens.run import STAGES, RunScreen
from workbench.tui.widgets.stage_list import StageList


def _select(app, name: str) -> None:  # type: ignore[no-untyped-def]
    screen = app.screen
    assert isinstance(screen, ExperimentsScreen)
    screen.action_reload(select=screen.wb.experiments_dir / name)


async def _result_screen(pilot, timeout: float) -> ResultScreen:  # type: ignore[no-untyped-def]
    """Wait for the run's result screen and its summary; return the screen."""
    app = pilot.app
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, ResultScreen) and bool(app.screen.query("#summary-view")),
        timeout=timeout,
        what="the result screen",
    )
    await pilot.pause()
    assert isinstance(app.screen, ResultScreen)
    return app.screen


@pytest.mark.slow
@sync
async def test_run_to_the_end_with_a_real_proof(dirs: tuple[Path, Path]) -> None:
    exp_dir, res_dir = dirs
    posted = Posted()
    app = make_app(exp_dir, res_dir)
    async with app.run_test(size=(80, 24), message_hook=posted) as pilot:
        _select(app, "iris_quick.toml")
        await pilot.press("r")
        run = app.screen
        assert isinstance(run, RunScreen)
        await wait_for(pilot, lambda: run.state == "running", timeout=10, what="the worker to start")
        assert run.process is not None
        pid = run.process.pid
        result_screen = await _result_screen(pilot, timeout=240)
        summary = widget_text(result_screen.query_one("#summary-view", Static))
        assert "ZK (snarkVM)" in summary and "proofs: 1/1 verified" in summary
        assert "agreement quantized = ZK: 1.0000" in summary
        # The source tabs find the files of a real run directory.
        await pilot.press("3")
        assert "fn predict_row" in widget_text(result_screen.query_one("#leo-view", Static))
        await pilot.press("4")
        assert "function main:" in widget_text(result_screen.query_one("#aleo-view", Static))

    # Every stage started and finished, in order; progress came for executions and proofs.
    started = [m.stage for m in posted if isinstance(m, M.StageStarted)]
    finished = [m.stage for m in posted if isinstance(m, M.StageFinished)]
    assert started == list(STAGES) and finished == list(STAGES)
    progress = {(m.stage, m.done, m.total) for m in posted if isinstance(m, M.StageProgress)}
    assert ("execute samples", 3, 3) in progress and ("prove", 1, 1) in progress
    assert not any(isinstance(m, M.RunFailed) for m in posted)

    # One run saved, complete, nothing hidden beside it; the worker process is gone.
    runs = list_runs(res_dir, "iris_quick")
    assert len(runs) == 1 and [p.name for p in (res_dir / "iris_quick").iterdir()] == [runs[0].name]
    r = load_result(runs[0])
    assert r.zk_samples == 3 and len(r.proofs) == 1 and r.proofs[0].verified
    assert pid is not None and not Path(f"/proc/{pid}").exists()


@sync
async def test_run_to_the_end_with_the_reference_backend(dirs: tuple[Path, Path]) -> None:
    """The whole flow, worker process included, in seconds: every stage but save, then the
    result on screen, labelled as not a ZK result, and nothing saved."""
    exp_dir, res_dir = dirs
    posted = Posted()
    app = make_app(exp_dir, res_dir, prover=ProverKind.REFERENCE)
    async with app.run_test(size=(80, 24), message_hook=posted) as pilot:
        _select(app, "iris_quick.toml")
        await pilot.press("r")
        assert isinstance(app.screen, RunScreen)
        result_screen = await _result_screen(pilot, timeout=60)
        assert result_screen.run_dir is None
        summary = widget_text(result_screen.query_one("#summary-view", Static))
        assert "NOT A ZK RESULT: outputs from the integer reference backend" in summary and "ZK (snarkVM)" not in summary
        assert "agreement quantized = ZK: 1.0000" in summary and "proofs: 1/1 verified" in summary
        await pilot.press("3")
        assert "nothing is saved for a reference-backend run" in widget_text(result_screen.query_one("#leo-view", Static))
    started = [m.stage for m in posted if isinstance(m, M.StageStarted)]
    assert started == [s for s in STAGES if s != "save"]
    progress = {(m.stage, m.done, m.total) for m in posted if isinstance(m, M.StageProgress)}
    assert ("execute samples", 3, 3) in progress and ("prove", 1, 1) in progress
    (finished,) = [m for m in posted if isinstance(m, M.RunFinished)]
    assert finished.run_dir is None and finished.result is not None and not finished.result.is_zk
    assert list_runs(res_dir, "iris_quick") == [] and not (res_dir / "iris_quick").exists()


@sync
async def test_a_failing_run_shows_its_error(dirs: tuple[Path, Path]) -> None:
    exp_dir, res_dir = dirs
    # Valid as a file, but scikit-learn refuses the value when training starts.
    (exp_dir / "iris_quick.toml").write_text(
        (exp_dir / "iris_quick.toml").read_text().replace("max_depth = 3", "max_depth = -1")
    )
    posted = Posted()
    app = make_app(exp_dir, res_dir)
    async with app.run_test(size=(80, 24), message_hook=posted) as pilot:
        _select(app, "iris_quick.toml")
        await pilot.press("r")
        run = app.screen
        assert isinstance(run, RunScreen)
        await wait_for(pilot, lambda: run.state == "failed", timeout=60, what="the failure")
        await pilot.pause()  # let the status box lay out before reading it
        stages = run.query_one(StageList)
        assert stages.states["load data"] == "done" and stages.states["train"] == "failed"
        assert stages.states["quantize"] == "pending"
        status = widget_text(run.query_one("#status", Static))
        assert "invalid input" in status and "max_depth" in status
        assert isinstance(app.screen, RunScreen)  # stays to be read
        await pilot.press("escape")
        assert isinstance(app.screen, ExperimentsScreen)
    failed = [m for m in posted if isinstance(m, M.RunFailed)]
    assert len(failed) == 1 and failed[0].title == "invalid input"
    assert not (res_dir / "iris_quick").exists() or not any((res_dir / "iris_quick").iterdir())


async def _cancel_midway(dirs: tuple[Path, Path], stage: str) -> tuple[RunScreen, list[Message], Path]:
    exp_dir, res_dir = dirs
    posted = Posted()
    app = make_app(exp_dir, res_dir)
    async with app.run_test(size=(80, 24), message_hook=posted) as pilot:
        _select(app, "iris_quick.toml")
        await pilot.press("r")
        run = app.screen
        assert isinstance(run, RunScreen)
        await wait_for(
            pilot,
            lambda: any(isinstance(m, M.StageStarted) and m.stage == stage for m in posted),
            timeout=60,
            what=f"stage {stage}",
        )
        # Midway: the run is being assembled in its hidden staging directory.
        exp_results = res_dir / "iris_quick"
        assert [p.name.startswith(STAGING_PREFIX) for p in exp_results.iterdir()] == [True]
        await pilot.press("escape")
        assert run.state in ("cancelling", "cancelled")  # "cancelled" already if killed at once
        await wait_for(pilot, lambda: run.state == "cancelled", timeout=60, what="the cancel")
        await pilot.pause()
        assert "cancelled" in widget_text(run.query_one("#status", Static))
        assert run.process is not None and not run.process.alive
        assert run.query_one(StageList).states["save"] == "pending"
        await pilot.press("escape")
        assert isinstance(app.screen, ExperimentsScreen)
    return run, posted, exp_results


@sync
async def test_cancel_midway_leaves_nothing(dirs: tuple[Path, Path]) -> None:
    run, posted, exp_results = await _cancel_midway(dirs, "synthesize keys")
    assert not exp_results.exists()  # neither the staging directory nor an empty experiment directory
    assert any(isinstance(m, M.RunCancelled) for m in posted)
    assert not any(isinstance(m, (M.RunFinished, M.RunFailed)) for m in posted)


@sync
async def test_cancel_that_must_kill_still_leaves_nothing(
    dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # No grace: the worker is SIGKILLed at once, cannot clean up after itself, and the
    # TUI removes the staging directory it left.
    monkeypatch.setattr(run_module, "CANCEL_GRACE", 0.0)
    run, posted, exp_results = await _cancel_midway(dirs, "compile")
    cancelled = [m for m in posted if isinstance(m, M.RunCancelled)]
    assert len(cancelled) == 1
    assert not exp_results.exists()


def test_the_tui_process_never_imports_aleo(dirs: tuple[Path, Path]) -> None:
    # In a fresh interpreter (other tests load aleo into this one): drive the app through
    # a run in the worker process, the history and a result, then look at sys.modules.
    script = f"""
import asyncio, sys
from pathlib import Path
sys.path.insert(0, {str(Path(__file__).parent)!r})
from tui_helpers import wait_for
from workbench.tui.app import make_app

async def main():
    exp_dir, res_dir = Path({str(dirs[0])!r}), Path({str(dirs[1])!r})
    (exp_dir / "iris_quick.toml").write_text(
        (exp_dir / "iris_quick.toml").read_text().replace("max_depth = 3", "max_depth = -1"))
    app = make_app(exp_dir, res_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        app.screen.action_reload(select=exp_dir / "iris_quick.toml")
        await pilot.press("r")
        run = app.screen
        await wait_for(pilot, lambda: run.state == "failed", timeout=60)
        await pilot.press("escape", "h", "enter", "5", "escape")
    print(sorted(m for m in sys.modules if m.split(".")[0] == "aleo" or m.startswith(("workbench.snarkvm", "workbench.pipeline"))))
    print("ok")

asyncio.run(main())
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-2:] == ["[]", "ok"]


class RecordingProcess:
    """Stands in for RunProcess: records how it was started, then fails at once."""

    started: list[tuple[object, ...]] = []

    def __init__(self, *args: object) -> None:
        RecordingProcess.started.append(args)
        self.pid, self.alive, self.exitcode, self.cancel_requested_at = 1, True, None, None
        self.items = [Failed("test", "stopped before starting")]

    def start(self) -> None:
        pass

    def get(self, timeout: float = 0.1) -> object:
        return self.items.pop(0) if self.items else None

    def join(self, timeout: float | None = None) -> None:
        self.alive = False

    def remove_partials(self) -> list[Path]:
        return []

    def stop(self, grace: float = 0) -> None:
        self.alive = False


@sync
async def test_run_with_overrides(dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.widgets import Input

    from workbench.tui.screens.run_options import RunOptionsScreen

    monkeypatch.setattr(run_module, "RunProcess", RecordingProcess)
    RecordingProcess.started = []
    app = make_app(*dirs)
    async with app.run_test(size=(80, 24)) as pilot:
        _select(app, "iris_decision_tree.toml")
        await pilot.press("R")
        dialog = app.screen
        assert isinstance(dialog, RunOptionsScreen)
        dialog.query_one("#samples", Input).value = "0"
        await pilot.press("enter")
        assert app.screen is dialog  # 0 samples refused
        assert "samples" in widget_text(dialog.query_one("#hint"))
        dialog.query_one("#samples", Input).value = "2"
        dialog.query_one("#proofs", Input).value = "0"
        await pilot.press("enter")
        run = app.screen
        assert isinstance(run, RunScreen)
        await wait_for(pilot, lambda: run.state == "failed", timeout=10)
        await pilot.pause()
        assert "samples 2, proofs 0" in widget_text(run.query_one("#run-title"))
    (args,) = RecordingProcess.started
    assert args[3:] == (2, 0, ProverKind.SNARKVM)  # RunProcess(path, name, results_dir, samples, proofs, prover)


def test_cleanup_removes_only_the_runs_own_staging_directories(tmp_path: Path) -> None:
    from workbench.tui.worker import RunProcess

    exp_results = tmp_path / "iris_quick"
    exp_results.mkdir()
    other = exp_results / f"{STAGING_PREFIX}someone-elses-run"  # e.g. a CLI run in progress
    other.mkdir()
    proc = RunProcess(tmp_path / "x.toml", "iris_quick", tmp_path)
    ours = exp_results / f"{STAGING_PREFIX}20260101-000000-abcd"
    (ours / "leo").mkdir(parents=True)
    assert proc.remove_partials() == [ours]
    assert other.is_dir() and not ours.exists()
    proc.stop()  # never started: nothing to stop, no error
