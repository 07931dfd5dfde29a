"""Shared fixtures for the Leo compiler tests: one snarkVM Process per session."""

from __future__ import annotations

import os
from typing import Iterator

import pytest

# Halting programs make snarkVM print a Rust panic; a backtrace per halt would drown the log.
os.environ.setdefault("RUST_BACKTRACE", "0")


class Runner:
    """Adds compiled programs to one snarkVM Process and executes their functions."""

    def __init__(self) -> None:
        from aleo.mainnet import Identifier, PrivateKey, Process, Program, Value

        self._Identifier, self._Program, self._Value = Identifier, Program, Value
        self.process = Process.load()
        self.key = PrivateKey.random()
        self.loaded: dict[str, object] = {}
        self.last_transitions = 0  # transitions of the last successful execution

    def load(self, aleo_text: str) -> object:
        """Parse (snarkVM validates it here) and add a program; idempotent per program id."""
        program = self._Program.from_source(aleo_text)
        pid = str(program.id)
        if pid not in self.loaded:
            self.process.add_program(program)
            self.loaded[pid] = program
        return self.loaded[pid]

    def execute(self, program: object, function: str, inputs: list[str]) -> list[str] | None:
        """Outputs as strings, or None when snarkVM halts."""
        values = [self._Value.parse(i) for i in inputs]
        try:
            # authorize evaluates the function too, so a halt can surface here already.
            auth = self.process.authorize(self.key, program.id, self._Identifier.from_string(function), values)
            response, trace = self.process.execute(auth)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as err:  # noqa: BLE001 - a halt is pyo3's PanicException (a BaseException)
            if any(w in str(err) for w in ("powers", "ureq", "download")):
                # Not a halt: the circuit outgrew the offline setup (2^16); the test is too big.
                raise AssertionError(f"{function}: circuit too large for the offline SRS: {str(err).splitlines()[0]}") from None
            return None
        # One transition for the function itself and one for every call to another program.
        self.last_transitions = len(trace.transitions())
        return [str(o) for o in response.outputs]


@pytest.fixture(scope="session")
def snarkvm() -> Iterator[Runner]:
    yield Runner()
