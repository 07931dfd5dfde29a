"""Errors of the snarkVM side that callers handle without importing aleo-sdk."""

from __future__ import annotations

from workbench.errors import UserError


class CircuitTooLarge(UserError):
    """The circuit needs a universal setup larger than the one planned against (or installed)."""

    title = "model too large for the setup"
