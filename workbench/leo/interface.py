"""What an importing program sees of a compiled program: its entry functions' types.

A program that writes ``import shard_a.aleo;`` is checked against the ``ProgramSignature``
of ``shard_a.aleo``, derived from compiling the dependency's own Leo source (the compiler
never reads signatures back out of ``.aleo`` text). Visibilities are left out on purpose:
snarkVM passes values between transitions whatever the callee declares, so they do not
affect a caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from workbench.limits import MAX_IMPORTS, MAX_TRANSITIONS  # noqa: F401 - re-exported for the passes

from .ltypes import ArrayType, StructType, TupleType, Type


@dataclass(frozen=True)
class EntrySignature:
    """Types of one entry function, and how many transitions one call of it runs."""

    inputs: tuple[Type, ...]
    outputs: tuple[Type, ...]
    transitions: int = 1  # itself plus every transition its own calls run

    @property
    def return_type(self) -> Type:
        """The Leo type of a call: nothing, the single output, or a tuple of outputs."""
        if len(self.outputs) == 1:
            return self.outputs[0]
        return TupleType(self.outputs)


@dataclass(frozen=True)
class ProgramSignature:
    """A program id (``"shard_a.aleo"``) and its entry functions by name."""

    program_id: str
    functions: Mapping[str, EntrySignature] = field(default_factory=dict)


def struct_in(t: Type) -> StructType | None:
    """The first struct type inside ``t``: structs of another program cannot be named here."""
    if isinstance(t, StructType):
        return t
    if isinstance(t, ArrayType):
        return struct_in(t.element)
    if isinstance(t, TupleType):
        for e in t.elements:
            found = struct_in(e)
            if found is not None:
                return found
    return None
