"""The pipeline in a child process, with its events forwarded over a queue.

aleo-sdk holds the GIL while it synthesizes keys and proves, so a thread in the TUI
process would freeze the screen. The run happens in a process started with the "spawn"
context (a fresh interpreter: no inherited Textual state, no fork of a threaded process).

This module must stay free of Textual *and* of aleo: the child imports it to find
`_child_main`, and the TUI process imports it to start and watch the child. Only the
child imports the pipeline's snarkVM side.

Queue items are frozen dataclasses, pickled across the process boundary: the pipeline's
own `Event`s as they are, then one of `Finished`, `Failed` or `Cancelled`.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import pickle
import queue
import shutil
import signal
import sys
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Union

from workbench.events import Event, EventKind
from workbench.kinds import ProverKind
from workbench.results import STAGING_PREFIX, RunResult


@dataclass(frozen=True)
class Finished:
    """The run completed: saved in `run_dir`, or (the reference backend) not saved at all."""

    run_dir: str | None
    result: RunResult | None = None  # sent only when nothing was saved


@dataclass(frozen=True)
class Failed:
    """The run failed: a title and a message for the screen (never a traceback).

    `detail` holds the traceback of an internal error when WORKBENCH_DEBUG is set.
    """

    title: str
    message: str
    detail: str = ""


@dataclass(frozen=True)
class Cancelled:
    """The run stopped at the user's request; nothing was saved."""


Item = Union[Event, Finished, Failed, Cancelled]


def _interrupt(signum: int, frame: object) -> None:
    # SIGTERM becomes KeyboardInterrupt so the pipeline discards its staging directory and
    # stops its ledger stub on the way out. A Python handler only runs between bytecodes,
    # so during a long aleo-sdk call it takes effect when that call returns.
    raise KeyboardInterrupt


def _silence_output() -> None:
    # The child inherits the terminal the TUI draws on; anything written to fd 1 or 2
    # (library warnings, native code in aleo-sdk, the ledger stub) would scribble over the
    # screen. Python warnings are forwarded as log events instead (see _child_main).
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)


def _child_main(
    experiment_path: str, results_dir: str, samples: int | None, proofs: int | None, prover: str, q: Any
) -> None:
    """Entry point of the worker process: run one experiment, report over `q`."""
    signal.signal(signal.SIGTERM, _interrupt)
    if hasattr(os, "setpgrp"):
        # Its own process group: the pipeline may start processes of its own (execution
        # workers, the ledger stub), and a hard kill must take them down too.
        os.setpgrp()
    _silence_output()
    try:
        from workbench.errors import WorkbenchError
        from workbench.experiment import load_experiment
        from workbench.pipeline import run_experiment

        def on_warning(message: Any, category: type, filename: str, lineno: int, *_: Any) -> None:
            q.put(Event(EventKind.LOG, "", f"{category.__name__}: {message}"))

        warnings.showwarning = on_warning

        try:
            exp = load_experiment(experiment_path)
            if prover == ProverKind.REFERENCE:
                from workbench.reference_prover import ReferenceProver

                result, _ = run_experiment(
                    exp, None, on_event=q.put, samples=samples, proofs=proofs, prover=ReferenceProver.factory()
                )
                q.put(Finished(None, result))
            else:
                _, run_dir = run_experiment(exp, Path(results_dir), on_event=q.put, samples=samples, proofs=proofs)
                q.put(Finished(str(run_dir)))
        except WorkbenchError as exc:
            q.put(Failed(exc.title, str(exc)))
    except KeyboardInterrupt:
        q.put(Cancelled())
    except Exception as exc:  # a bug, not a user error: one line on screen, the traceback on request
        first = str(exc).splitlines()[0] if str(exc) else ""
        q.put(
            Failed(
                f"internal error ({type(exc).__name__})",
                f"{first}\nThis is a bug in the workbench; set WORKBENCH_DEBUG=1 to see where it happened.",
                traceback.format_exc() if os.environ.get("WORKBENCH_DEBUG") else "",
            )
        )
    finally:
        q.close()
        q.join_thread()


@contextlib.contextmanager
def _real_stderr() -> Iterator[None]:
    # multiprocessing starts its resource tracker with sys.stderr's file descriptor; inside
    # a running Textual app sys.stderr is a capture object whose fileno() is -1, which makes
    # the spawn fail ("bad value(s) in fds_to_keep"). Use the process's real stderr.
    saved = sys.stderr
    sys.stderr = sys.__stderr__
    try:
        yield
    finally:
        sys.stderr = saved


class RunProcess:
    """One pipeline run in a child process: start, read its items, cancel, clean up."""

    def __init__(
        self,
        experiment_path: Path,
        experiment_name: str,
        results_dir: Path,
        samples: int | None = None,
        proofs: int | None = None,
        prover: ProverKind = ProverKind.SNARKVM,
    ) -> None:
        self.experiment_path = Path(experiment_path)
        self.experiment_name = experiment_name
        self.results_dir = Path(results_dir)
        self.samples = samples
        self.proofs = proofs
        ctx = mp.get_context("spawn")
        with _real_stderr():
            self._queue: Any = ctx.Queue()
        self._process = ctx.Process(
            target=_child_main,
            args=(str(self.experiment_path), str(self.results_dir), samples, proofs, str(prover), self._queue),
            name=f"workbench-run-{experiment_name}",
        )
        self.cancel_requested_at: float | None = None
        # Staging directories that existed before this run belong to someone else (another
        # run, perhaps the CLI's); only new ones are removed after a cancel.
        self._partials_before = set(self._partials())

    def start(self) -> None:
        """Start the child process."""
        with _real_stderr():
            self._process.start()

    @property
    def pid(self) -> int | None:
        """The child's process id (None before `start`)."""
        return self._process.pid

    @property
    def alive(self) -> bool:
        """Whether the child is still running."""
        return self._process.is_alive()

    @property
    def exitcode(self) -> int | None:
        """The child's exit code once it has exited."""
        return self._process.exitcode

    def get(self, timeout: float = 0.1) -> Item | None:
        """The next item from the child, or None if none arrived within `timeout`."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        except (EOFError, OSError, ValueError, pickle.UnpicklingError):
            # A child killed in the middle of a put leaves a torn message; the caller
            # sees the child has exited and reports that instead.
            return None

    def cancel(self) -> None:
        """Ask the child to stop (SIGTERM, turned into KeyboardInterrupt in the child)."""
        if self.cancel_requested_at is None:
            self.cancel_requested_at = time.monotonic()
        if self._process.is_alive():
            self._process.terminate()

    def kill(self) -> None:
        """Stop the child and the processes it started, outright (after it ignored `cancel`)."""
        pid = self._process.pid
        if pid is None:
            return
        try:
            # The child leads its own process group (see _child_main); the group id is its pid.
            os.killpg(pid, signal.SIGKILL)
        except (AttributeError, ProcessLookupError, PermissionError):
            if self._process.is_alive():
                self._process.kill()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the child to exit."""
        self._process.join(timeout)

    def stop(self, grace: float = 10.0) -> None:
        """Cancel, wait up to `grace` seconds, kill if needed, then remove leftovers."""
        if self._process.pid is None:
            return
        self.cancel()
        self._process.join(grace)
        if self._process.is_alive():
            self.kill()
            self._process.join(5)
        self.remove_partials()

    def _partials(self) -> list[Path]:
        exp_dir = self.results_dir / self.experiment_name
        if not exp_dir.is_dir():
            return []
        return [p for p in exp_dir.iterdir() if p.name.startswith(STAGING_PREFIX)]

    def remove_partials(self) -> list[Path]:
        """Remove staging directories this run left behind (a killed child cannot)."""
        removed = []
        for p in self._partials():
            if p not in self._partials_before:
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p)
        if removed:
            try:  # the experiment's directory too, when the killed run created it empty
                (self.results_dir / self.experiment_name).rmdir()
            except OSError:
                pass
        return removed
