"""The run as stage functions over frozen records (see docs/architecture.md).

In order, each taking and returning the records of `workbench/stages/records.py`:

    load_data -> train -> quantize -> plan -> generate_leo -> compile_programs
      -> synthesize_keys -> execute -> prove -> verify -> record -> save

The CLI, the TUI's worker and the Python API reach them through `workbench.pipeline`,
whose `run_experiment` is the driver; a caller that does not start from a TOML file may
call them one by one.
"""

from workbench.stages.build import compile_programs, generate_leo, plan_packing
from workbench.stages.model import load_data, quantize, train
from workbench.stages.plan import plan, shrink
from workbench.stages.proving import batch_rows, execute, prove, synthesize_keys, verify
from workbench.stages.record import metrics_for, record, save

__all__ = [
    "load_data",
    "train",
    "quantize",
    "plan",
    "shrink",
    "generate_leo",
    "compile_programs",
    "batch_rows",
    "plan_packing",
    "synthesize_keys",
    "execute",
    "prove",
    "verify",
    "record",
    "save",
    "metrics_for",
]
