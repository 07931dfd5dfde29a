"""Execute, prove and verify one Aleo program with snarkVM (aleo-sdk), timing each step.

This is the only module that imports aleo-sdk. Its calls hold the GIL for their whole
duration, so callers with a UI run this in a worker process (see DESIGN.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from aleo import mainnet as avm

from workbench.errors import ZkError
from workbench.snarkvm import params
from workbench.snarkvm.errors import CircuitTooLarge
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


def is_vm_failure(exc: BaseException) -> bool:
    """Whether an exception is snarkVM refusing or halting (not an interrupt or a bug of ours).

    aleo-sdk raises RuntimeError for most failures, but a halting instruction (overflow,
    failed assert, bad cast) surfaces as pyo3's PanicException, which derives from
    BaseException, not Exception.
    """
    return isinstance(exc, (RuntimeError, ValueError)) or type(exc).__name__ == "PanicException"


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


FunctionKey = tuple[str, str]  # (program id, function name)


class Prover:
    """A loaded snarkVM process holding a model's programs and a throwaway signing key.

    `sources` are Aleo programs in dependency order; the last is the main program, whose
    `main`-style entry function is executed (it may `call` functions of the others).
    """

    def __init__(self, sources: list[str], key_cache: KeyCache | None = None) -> None:
        params.ensure_installed()
        self.key_cache = key_cache
        self.sources = list(sources)
        self.process = avm.Process.load()
        self.programs = []
        for source in self.sources:
            try:
                program = avm.Program.from_source(source)
                self.process.add_program(program)
            except (RuntimeError, ValueError) as exc:
                raise ZkError(f"snarkVM rejected the compiled program: {str(exc).splitlines()[0]}") from None
            self.programs.append(program)
        self.main = self.programs[-1]
        # A fresh key per run: the signer of an inference request is not what is proven,
        # and nothing is spent, so the key is never saved.
        self._key = avm.PrivateKey.random()

    @property
    def program_id(self) -> str:
        """The main program's id."""
        return str(self.main.id)

    def functions(self) -> list[FunctionKey]:
        """Every entry function of every program, in dependency order."""
        return [(str(p.id), str(f)) for p in self.programs for f in p.functions]

    def load_cached_keys(self) -> dict[FunctionKey, CachedKeys] | None:
        """Insert every function's keys from the cache; None unless all are cached and readable."""
        if self.key_cache is None:
            return None
        keys = {}
        for program, function in self.functions():
            cached = self.key_cache.load(program, function)
            if cached is None:
                return None
            keys[(program, function)] = cached
        return keys if self.insert_keys(keys) else None

    def insert_keys(self, keys: dict[FunctionKey, CachedKeys]) -> bool:
        """Use these key bytes instead of synthesizing; False if any is unreadable."""
        try:
            parsed = [
                (program, function, avm.ProvingKey.from_bytes(k.prover), avm.VerifyingKey.from_bytes(k.verifier))
                for (program, function), k in keys.items()
            ]
        except (RuntimeError, ValueError):
            return False  # e.g. a corrupt cache entry: synthesize again (and overwrite it)
        for program, function, prover, verifier in parsed:
            pid, name = avm.ProgramID.from_string(program), avm.Identifier.from_string(function)
            self.process.insert_proving_key(pid, name, prover)
            self.process.insert_verifying_key(pid, name, verifier)
        return True

    def key_bytes(self) -> dict[FunctionKey, CachedKeys]:
        """Every function's synthesized keys as bytes (after the first execution)."""
        out = {}
        for program, function in self.functions():
            pid, name = avm.ProgramID.from_string(program), avm.Identifier.from_string(function)
            out[(program, function)] = CachedKeys(
                prover=bytes(self.process.get_proving_key(pid, name).bytes()),
                verifier=bytes(self.process.get_verifying_key(pid, name).bytes()),
            )
        return out

    def store_keys(self, keys: dict[FunctionKey, CachedKeys]) -> None:
        """Save keys into the cache (if there is one)."""
        if self.key_cache is not None:
            for (program, function), k in keys.items():
                self.key_cache.store(program, function, k)

    def execute(self, function: str, inputs: list[str]) -> Executed:
        """Authorize and execute the main program's `function` on Aleo input literals.

        No proof yet. The first execution also synthesizes the keys of every function it
        runs (the main one and those it calls).
        """
        values = [avm.Value.parse(v) for v in inputs]
        name = avm.Identifier.from_string(function)
        t0 = time.perf_counter()
        try:
            auth = self.process.authorize(self._key, self.main.id, name, values)
            t1 = time.perf_counter()
            response, trace = self.process.execute(auth)
        except BaseException as exc:
            if not is_vm_failure(exc):
                raise
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

    def constraints(self, program: str, function: str) -> int:
        """A function's constraint count, from its synthesized verifying key."""
        vk = self.process.get_verifying_key(avm.ProgramID.from_string(program), avm.Identifier.from_string(function))
        return int(vk.num_constraints())

    def prove(self, executed: Executed, function: str, ledger_url: str) -> Proof:
        """Prove an execution; the ledger query (height, state root) is read from `ledger_url`."""
        t0 = time.perf_counter()
        try:
            executed.trace.prepare(avm.Query.rest(ledger_url))
            execution = executed.trace.prove_execution(f"{self.program_id}/{function}")
        except BaseException as exc:
            if not is_vm_failure(exc):
                raise
            if _needs_larger_setup(str(exc)):
                raise _too_large(f"{self.program_id}/{function}") from None
            raise ZkError(f"proving {self.program_id}/{function} failed: {str(exc).splitlines()[0]}") from None
        return Proof(execution=execution, execution_json=execution.to_json(), prove_seconds=time.perf_counter() - t0)

    def verify(self, proof: Proof) -> Verification:
        """Verify a proof against this process's verifying keys."""
        t0 = time.perf_counter()
        try:
            self.process.verify_execution(proof.execution)
        except BaseException as exc:
            if not is_vm_failure(exc):
                raise
            return Verification(False, time.perf_counter() - t0, str(exc).splitlines()[0])
        return Verification(True, time.perf_counter() - t0, None)


def sdk_version() -> str:
    """The installed aleo-sdk version."""
    from importlib.metadata import version

    return version("aleo-sdk")
