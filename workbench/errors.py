"""Error types shared by every stage, and the exit codes the CLI maps them to."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit status of `workbench` commands."""

    OK = 0
    FAILURE = 1  # the work itself failed (a proof did not verify, snarkVM halted, ...)
    USER_ERROR = 2  # a mistake in the user's input: bad TOML, missing file, model too big


class WorkbenchError(Exception):
    """An error the user should see as a message, never as a traceback.

    `title` is a short heading; `str(err)` is the full message.
    """

    title = "error"
    exit_code = ExitCode.FAILURE


class UserError(WorkbenchError):
    """A mistake in what the user asked for (file, key, value, size)."""

    title = "invalid input"
    exit_code = ExitCode.USER_ERROR


class ZkError(WorkbenchError):
    """snarkVM refused, halted or failed on something the workbench generated."""

    title = "snarkVM"
