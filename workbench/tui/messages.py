"""Messages the run pump posts to the screen, one small dataclass each."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.message import Message

from workbench.results import RunResult


@dataclass
class StageStarted(Message):
    """A pipeline stage began."""

    stage: str


@dataclass
class StageProgress(Message):
    """Per-sample progress within a stage (execute samples, prove, verify)."""

    stage: str
    done: int
    total: int
    message: str = ""

    def can_replace(self, message: Message) -> bool:
        # A newer count for the same stage makes an unprocessed older one pointless.
        return isinstance(message, StageProgress) and message.stage == self.stage


@dataclass
class StageFinished(Message):
    """A pipeline stage finished after `elapsed` seconds."""

    stage: str
    elapsed: float


@dataclass
class RunLog(Message):
    """A log line from the pipeline."""

    stage: str
    text: str


@dataclass
class RunFinished(Message):
    """The run completed and was saved in `run_dir` (None: a reference-backend run, not saved)."""

    run_dir: Path | None
    result: RunResult | None = None


@dataclass
class RunFailed(Message):
    """The run failed; `title` and `text` are shown on screen, `detail` (a traceback of an
    internal error, with WORKBENCH_DEBUG set) goes to the log."""

    title: str
    text: str
    detail: str = ""


@dataclass
class RunCancelled(Message):
    """The run was cancelled; `removed` lists staging directories cleaned up."""

    removed: list[Path]
