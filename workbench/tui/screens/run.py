"""The run screen: stages, per-sample progress and the log of one run in a worker process."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Header, Label, ProgressBar, RichLog, Static
from textual.worker import get_current_worker

from workbench.experiment import Experiment
from workbench.results import RunResult
from workbench.tui.messages import (
    RunCancelled,
    RunFailed,
    RunFinished,
    RunLog,
    StageFinished,
    StageProgress,
    StageStarted,
)
from workbench.events import PER_SAMPLE_STAGES, STAGES, Event, EventKind
from workbench.tui.widgets.footer import WorkbenchFooter
from workbench.tui.widgets.stage_list import StageList
from workbench.tui.worker import Failed, Finished, RunProcess

if TYPE_CHECKING:
    from workbench.tui.app import WorkbenchApp

# Seconds a cancelled worker may take to unwind (an aleo-sdk call cannot be interrupted)
# before it is killed outright.
CANCEL_GRACE = 15.0


class RunScreen(Screen[None]):
    """Runs one experiment; opens its result when it finishes."""

    CSS_PATH = "run.tcss"
    BINDINGS = [
        Binding("escape", "cancel_or_back", "Cancel / back"),
        Binding("enter", "open_result", "Result", show=False),
    ]

    # idle -> running -> finished | failed | cancelling -> cancelled
    state: reactive[str] = reactive("idle")

    def __init__(
        self,
        experiment: Experiment,
        samples: int | None = None,
        proofs: int | None = None,
        open_result: bool = True,
    ) -> None:
        super().__init__()
        self.experiment = experiment
        self.samples = samples
        self.proofs = proofs
        self.open_result_when_done = open_result
        self.run_dir: Path | None = None
        self.result: RunResult | None = None  # an unsaved (reference backend) run's result
        self.error: tuple[str, str] | None = None
        self.process: RunProcess | None = None
        self._t0 = 0.0

    @property
    def wb(self) -> "WorkbenchApp":
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        e = self.experiment
        samples = e.zk.samples if self.samples is None else self.samples
        n = "all" if samples is None else str(samples)
        p = e.zk.proofs if self.proofs is None else self.proofs
        yield Header()
        yield Static(
            Text.assemble(
                (e.name, "bold"), f"  {e.model.algorithm} on {e.dataset.name}", (f"  samples {n}, proofs {p}", "dim")
            ),
            id="run-title",
        )
        with Horizontal(id="run-body"):
            with Vertical(id="left"):
                yield StageList(STAGES, id="stages")
                yield Label("", id="progress-label")
                yield ProgressBar(total=None, show_eta=False, id="progress")
            yield RichLog(id="log", wrap=True, markup=False, highlight=False, min_width=20)
        yield Static(id="status")
        yield WorkbenchFooter()

    def on_mount(self) -> None:
        self.sub_title = f"run {self.experiment.name}"
        self.query_one("#log", RichLog).border_title = "log"
        # After the first refresh: the log then knows its width and wraps lines to it.
        self.call_after_refresh(self.start)

    def start(self) -> None:
        """Start the worker process and the pump that forwards its events."""
        self.process = RunProcess(
            self.experiment.path, self.experiment.name, self.wb.results_dir, self.samples, self.proofs, self.wb.prover
        )
        self.process.start()
        self._t0 = time.monotonic()
        self.state = "running"
        self._log(f"worker process {self.process.pid} started")
        self._pump(self.process)

    @work(thread=True, exclusive=True, group="run-pump")
    def _pump(self, process: RunProcess) -> None:
        """Read the child's queue and post Messages until the run ends (a thread worker:
        it only blocks on the queue; the heavy work is in the child process)."""
        worker = get_current_worker()
        while True:
            item = process.get(timeout=0.1)
            if item is not None:
                if isinstance(item, Event):
                    if item.kind == EventKind.STAGE_STARTED:
                        self.post_message(StageStarted(item.stage))
                    elif item.kind == EventKind.STAGE_PROGRESS:
                        self.post_message(StageProgress(item.stage, item.done, item.total, item.message))
                    elif item.kind == EventKind.STAGE_FINISHED:
                        self.post_message(StageFinished(item.stage, item.elapsed))
                    else:
                        self.post_message(RunLog(item.stage, item.message))
                elif isinstance(item, Finished):
                    process.join(10)
                    self.post_message(RunFinished(None if item.run_dir is None else Path(item.run_dir), item.result))
                    return
                elif isinstance(item, Failed):
                    process.join(10)
                    process.remove_partials()
                    self.post_message(RunFailed(item.title, item.message, item.detail))
                    return
                # Cancelled: the child unwound; wait for it to exit below.
                continue
            if not process.alive:
                removed = process.remove_partials()
                if process.cancel_requested_at is not None:
                    self.post_message(RunCancelled(removed))
                else:
                    self.post_message(
                        RunFailed("worker process died", f"the run's process exited with code {process.exitcode}")
                    )
                return
            if process.cancel_requested_at is not None and time.monotonic() - process.cancel_requested_at > CANCEL_GRACE:
                process.kill()
            if worker.is_cancelled:  # the screen is going away; stop the child with it
                process.stop(grace=5.0)
                return

    def _log(self, text: str, style: str = "") -> None:
        # No timestamps: the stage list shows the times.
        self.query_one("#log", RichLog).write(Text(text, style=style))

    @on(StageStarted)
    def _stage_started(self, m: StageStarted) -> None:
        self.query_one(StageList).start(m.stage)
        self._log(f"{m.stage} ...")
        if m.stage in PER_SAMPLE_STAGES:
            # A fresh (indeterminate) bar until the stage reports its first count.
            self.query_one("#progress", ProgressBar).update(total=None, progress=0)
            self.query_one("#progress-label", Label).update(f"{m.stage} …")

    @on(StageProgress)
    def _stage_progress(self, m: StageProgress) -> None:
        self.query_one(StageList).set_progress(m.stage, m.done, m.total)
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=m.total, progress=m.done)
        self.query_one("#progress-label", Label).update(f"{m.stage}: {m.done}/{m.total}")

    @on(StageFinished)
    def _stage_finished(self, m: StageFinished) -> None:
        self.query_one(StageList).finish(m.stage, m.elapsed)
        self._log(f"{m.stage} done ({m.elapsed:.2f} s)")

    @on(RunLog)
    def _run_log(self, m: RunLog) -> None:
        self._log(f"  {m.text}", "cyan")

    @on(RunFinished)
    def _run_finished(self, m: RunFinished) -> None:
        self.state = "finished"
        self.run_dir = m.run_dir
        self.result = m.result
        seconds = time.monotonic() - self._t0
        if m.run_dir is None:
            self._log("reference backend: not a ZK result; nothing was saved", "yellow")
            self._status(Text(f"✓ finished in {seconds:.1f} s with the reference backend: NOT A ZK RESULT, "
                              "nothing saved", style="yellow"))
        else:
            self._log(f"saved to {m.run_dir}", "green")
            self._status(Text(f"✓ finished in {seconds:.1f} s; saved to {m.run_dir}", style="green"))
        if self.open_result_when_done:
            self.action_open_result()

    @on(RunFailed)
    def _run_failed(self, m: RunFailed) -> None:
        """The one place a failed run becomes an on-screen error."""
        self.state = "failed"
        self._stop_progress()
        self.error = (m.title, m.text)
        self.query_one(StageList).stop_running("failed")
        self._log(f"{m.title}: {m.text}", "bold red")
        if m.detail:
            self._log(m.detail, "red")
        self._status(Text.assemble(("✗ ", "bold red"), (m.title, "bold red"), ("\n" + m.text, "red")), error=True)

    @on(RunCancelled)
    def _run_cancelled(self, m: RunCancelled) -> None:
        self.state = "cancelled"
        self._stop_progress()
        self.query_one(StageList).stop_running("cancelled")
        cleaned = f"; removed {len(m.removed)} staging dir(s)" if m.removed else ""
        self._log(f"cancelled; nothing was saved{cleaned}", "yellow")
        self._status(Text("■ cancelled; nothing was saved", style="yellow"))

    def _stop_progress(self) -> None:
        # An indeterminate bar keeps animating; after the run it should stand still.
        bar = self.query_one("#progress", ProgressBar)
        if bar.total is None:
            bar.update(total=1, progress=0)

    def _status(self, text: Text, error: bool = False) -> None:
        status = self.query_one("#status", Static)
        status.update(text)
        status.set_class(error, "error-box")
        status.add_class("shown")

    def action_cancel_or_back(self) -> None:
        """Cancel a running run; otherwise leave the screen."""
        if self.state == "running" and self.process is not None:
            self.state = "cancelling"
            self.process.cancel()
            self._log("cancelling: waiting for the worker to stop ...", "yellow")
            self._status(Text("cancelling ...", style="yellow"))
        elif self.state != "cancelling":
            self.dismiss(None)

    def action_open_result(self) -> None:
        """Replace this screen with the result of the finished run."""
        from workbench.tui.screens.result import ResultScreen

        if self.run_dir is not None:
            self.app.switch_screen(ResultScreen(self.run_dir))
        elif self.result is not None:
            self.app.switch_screen(ResultScreen(result=self.result))

    def on_unmount(self) -> None:
        # Leaving (or quitting) mid-run must not orphan the child or leave a staging dir.
        if self.process is not None and self.process.alive:
            self.process.stop(grace=5.0)
