"""Execute, prove and verify one Aleo program with snarkVM (aleo-sdk), timing each step.

This is the only module that imports aleo-sdk. Its calls hold the GIL for their whole
duration, so callers with a UI run this in a worker process (see DESIGN.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from aleo import mainnet as avm

from workbench.errors import UserError, ZkError
from workbench.snarkvm import params
from workbench.snarkvm.keycache import CachedKeys, KeyCache


@dataclass(frozen=True)
class Executed:
    """One execution of a function: its outputs and what it took."""

    outputs: list[str]
    authorize_seconds: float
    execute_seconds: float
    trace: Any  # aleo.mainnet.Trace, needed to prove this execution


@dataclass(frozen=True)
class Proof:
    """A proof of one execution (the Execution object and its JSON form)."""

    execution: Any  # aleo.mainnet.Execution
    execution_json: str
    prove_seconds: float


@dataclass(frozen=True)
class Verification:
    """The outcome of verifying one proof."""

    verified: bool
    verify_seconds: float
    error: str | None


class CircuitTooLarge(UserError):
    """The circuit needs a universal setup larger than the one shipped (offline)."""

    title = "model too large for the offline setup"


def _needs_larger_setup(message: str) -> bool:
    # snarkVM asks for a larger universal setup, and tries to download it, when a circuit
    # exceeds the shipped degree; offline the download fails with a network error.
    lowered = message.lower()
    return any(s in lowered for s in ("powers-of-beta", "download", "ureq", "failed to lookup address"))


def _too_large(function: str) -> CircuitTooLarge:
    return CircuitTooLarge(
        f"{function} needs a universal setup of degree 2^17 or more; offline you have 2^{params.SRS_DEGREE} "
        f"(about 16,000 constraints per transition, of which about 10,400 are the fixed cost of any "
        f"transition). Shrink the model (fewer nodes or features, fewer fractional bits) or shard it."
    )


class Prover:
    """A loaded snarkVM process holding one program and a throwaway signing key."""

    def __init__(self, aleo_source: str, key_cache: KeyCache | None = None) -> None:
        params.ensure_installed()
        self.key_cache = key_cache
        self.source = aleo_source
        try:
            self.program = avm.Program.from_source(aleo_source)
        except (RuntimeError, ValueError) as exc:
            raise ZkError(f"snarkVM rejected the compiled program: {exc}") from None
        self.process = avm.Process.load()
        self.process.add_program(self.program)
        # A fresh key per run: the signer of an inference request is not what is proven,
        # and nothing is spent, so the key is never saved.
        self._key = avm.PrivateKey.random()

    @property
    def program_id(self) -> str:
        return str(self.program.id)

    def load_cached_keys(self, function: str) -> CachedKeys | None:
        """Insert the function's keys from the cache; None when they are not cached."""
        if self.key_cache is None:
            return None
        cached = self.key_cache.load(self.program_id, function)
        return cached if cached is not None and self.insert_keys(function, cached) else None

    def insert_keys(self, function: str, keys: CachedKeys) -> bool:
        """Use these key bytes for `function` instead of synthesizing; False if unreadable."""
        name = avm.Identifier.from_string(function)
        try:
            prover = avm.ProvingKey.from_bytes(keys.prover)
            verifier = avm.VerifyingKey.from_bytes(keys.verifier)
        except (RuntimeError, ValueError):
            return False  # e.g. a corrupt cache entry: synthesize again (and overwrite it)
        self.process.insert_proving_key(self.program.id, name, prover)
        self.process.insert_verifying_key(self.program.id, name, verifier)
        return True

    def key_bytes(self, function: str) -> CachedKeys:
        """The function's synthesized keys as bytes (after its first execution)."""
        name = avm.Identifier.from_string(function)
        prover = bytes(self.process.get_proving_key(self.program.id, name).bytes())
        return CachedKeys(prover=prover, verifier=self.verifying_key_bytes(function))

    def store_keys(self, function: str, keys: CachedKeys) -> None:
        """Save the function's keys into the cache (if there is one)."""
        if self.key_cache is not None:
            self.key_cache.store(self.program_id, function, keys)

    def execute(self, function: str, inputs: list[str]) -> Executed:
        """Authorize and execute `function` on Aleo input literals; no proof yet.

        The first execution of a function also synthesizes its proving and verifying keys.
        """
        values = [avm.Value.parse(v) for v in inputs]
        name = avm.Identifier.from_string(function)
        t0 = time.perf_counter()
        try:
            auth = self.process.authorize(self._key, self.program.id, name, values)
            t1 = time.perf_counter()
            response, trace = self.process.execute(auth)
        except RuntimeError as exc:
            message = str(exc).splitlines()[0]
            if _needs_larger_setup(str(exc)):
                raise _too_large(f"{self.program_id}/{function}") from None
            raise ZkError(f"snarkVM halted executing {self.program_id}/{function} on {inputs}: {message}") from None
        t2 = time.perf_counter()
        return Executed(
            outputs=[str(o) for o in response.outputs],
            authorize_seconds=t1 - t0,
            execute_seconds=t2 - t1,
            trace=trace,
        )

    def constraints(self, function: str) -> int:
        """The function's constraint count, from its synthesized verifying key."""
        return int(self._verifying_key(function).num_constraints())

    def verifying_key_bytes(self, function: str) -> bytes:
        return bytes(self._verifying_key(function).bytes())

    def _verifying_key(self, function: str) -> Any:
        return self.process.get_verifying_key(self.program.id, avm.Identifier.from_string(function))

    def prove(self, executed: Executed, function: str, ledger_url: str) -> Proof:
        """Prove an execution; the ledger query (height, state root) is read from `ledger_url`."""
        t0 = time.perf_counter()
        try:
            executed.trace.prepare(avm.Query.rest(ledger_url))
            execution = executed.trace.prove_execution(f"{self.program_id}/{function}")
        except RuntimeError as exc:
            if _needs_larger_setup(str(exc)):
                raise _too_large(f"{self.program_id}/{function}") from None
            raise ZkError(f"proving {self.program_id}/{function} failed: {str(exc).splitlines()[0]}") from None
        return Proof(execution=execution, execution_json=execution.to_json(), prove_seconds=time.perf_counter() - t0)

    def verify(self, proof: Proof) -> Verification:
        """Verify a proof against this process's verifying keys."""
        t0 = time.perf_counter()
        try:
            self.process.verify_execution(proof.execution)
        except RuntimeError as exc:
            return Verification(False, time.perf_counter() - t0, str(exc).splitlines()[0])
        return Verification(True, time.perf_counter() - t0, None)


def sdk_version() -> str:
    """The installed aleo-sdk version."""
    from importlib.metadata import version

    return version("aleo-sdk")
