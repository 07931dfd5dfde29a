"""Progress events of a run: the only thing the pipeline tells its callers while it works.

Kept free of heavy imports so the TUI process can use it without loading the pipeline,
scikit-learn or aleo-sdk.
"""

from __future__ import annotations

from dataclasses import dataclass

STAGES = (
    "load data",
    "train",
    "quantize",
    "generate Leo",
    "compile",
    "synthesize keys",
    "execute samples",
    "prove",
    "verify",
    "save",
)
# Stages that report per-sample progress (done/total).
PER_SAMPLE_STAGES = ("execute samples", "prove", "verify")


@dataclass(frozen=True)
class Event:
    """A progress event. kind: stage_started | stage_progress | stage_finished | log."""

    kind: str
    stage: str
    message: str = ""
    done: int = 0
    total: int = 0
    elapsed: float = 0.0
