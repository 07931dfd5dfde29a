"""Progress events of a run: the only thing the pipeline tells its callers while it works.

Kept free of heavy imports so the TUI process can use it without loading the pipeline,
scikit-learn or aleo-sdk. Events are frozen dataclasses of enums and plain values, so they
cross a process boundary by pickling (the TUI's worker sends them as they are).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Stage(StrEnum):
    """The stages of a run, in order (the value is the name shown to users)."""

    LOAD_DATA = "load data"
    TRAIN = "train"
    QUANTIZE = "quantize"
    PLAN = "plan"
    GENERATE = "generate Leo"
    COMPILE = "compile"
    SYNTHESIZE = "synthesize keys"
    EXECUTE = "execute samples"
    PROVE = "prove"
    VERIFY = "verify"
    SAVE = "save"


STAGES = tuple(s.value for s in Stage)
# Stages that report per-sample progress (done/total).
PER_SAMPLE_STAGES = (Stage.EXECUTE.value, Stage.PROVE.value, Stage.VERIFY.value)


class EventKind(StrEnum):
    """What an event says about its stage."""

    STAGE_STARTED = "stage_started"
    STAGE_PROGRESS = "stage_progress"
    STAGE_FINISHED = "stage_finished"
    LOG = "log"


@dataclass(frozen=True)
class Event:
    """A progress event of one stage."""

    kind: EventKind
    stage: str  # a Stage value ("" for a log line of no stage)
    message: str = ""
    done: int = 0
    total: int = 0
    elapsed: float = 0.0
