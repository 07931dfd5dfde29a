"""The snarkVM backend of the `Prover` protocol (workbench/prover.py), through aleo-sdk.

This package is the only place that imports aleo-sdk. Its calls hold the GIL for their
whole duration, so callers with a UI run this in a worker process (see docs/architecture.md).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Sequence

from aleo import mainnet as avm

from workbench.errors import ZkError
from workbench.kinds import KeyCacheState, ProverKind
from workbench.limits import SRS_DEGREE
from workbench.prover import Executed, FunctionKey, FunctionKeys, Proof, ProverRequest, Synthesis, Verification
from workbench.snarkvm import params
from workbench.snarkvm.errors import CircuitTooLarge
from workbench.snarkvm.keycache import KeyCache


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
        f"{function} needs a universal setup of degree 2^17 or more; offline you have 2^{SRS_DEGREE} "
        f"(about 16,000 constraints per transition, of which about 10,400 are the fixed cost of any "
        f"transition). Shrink the model (fewer nodes or features, fewer fractional bits) or shard it."
    )


def sdk_version() -> str:
    """The installed aleo-sdk version."""
    from importlib.metadata import version

    return version("aleo-sdk")


class SnarkVMProver:
    """A snarkVM process holding a model's programs and a throwaway signing key.

    The programs are the request's sources, in dependency order; the last is the main
    program, whose entry function is executed (it may `call` functions of the others).
    """

    kind = ProverKind.SNARKVM

    def __init__(self, sources: Sequence[str], function: str = "main", key_cache: KeyCache | None = None) -> None:
        params.ensure_installed()
        self.key_cache = key_cache
        self.sources = list(sources)
        self.function = function
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
        self._keys: dict[FunctionKey, FunctionKeys] = {}
        self._ledger: Any = None  # the local ledger stand-in, started by the first proof

    @classmethod
    def open(cls, request: ProverRequest) -> "SnarkVMProver":
        """The `ProverFactory` of this backend."""
        cache = KeyCache(list(request.sources), sdk_version()) if request.use_key_cache else None
        return cls(request.sources, request.function, cache)

    @property
    def program_id(self) -> str:
        """The main program's id."""
        return str(self.main.id)

    def functions(self) -> list[FunctionKey]:
        return [(str(p.id), str(f)) for p in self.programs for f in p.functions]

    # -- keys -------------------------------------------------------------------------------
    def _load_cached_keys(self) -> dict[FunctionKey, FunctionKeys] | None:
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

    def insert_keys(self, keys: dict[FunctionKey, FunctionKeys]) -> bool:
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
        self._keys = dict(keys)
        return True

    def _key_bytes(self) -> dict[FunctionKey, FunctionKeys]:
        out = {}
        for program, function in self.functions():
            pid, name = avm.ProgramID.from_string(program), avm.Identifier.from_string(function)
            out[(program, function)] = FunctionKeys(
                prover=bytes(self.process.get_proving_key(pid, name).bytes()),
                verifier=bytes(self.process.get_verifying_key(pid, name).bytes()),
            )
        return out

    def synthesize(self, inputs: Sequence[str]) -> Synthesis:
        cached = self._load_cached_keys()
        first = self.execute(inputs)  # synthesizes every function it runs, unless inserted
        if cached is not None:
            return Synthesis(first, cached, KeyCacheState.HIT)
        self._keys = self._key_bytes()
        if self.key_cache is None:
            return Synthesis(first, self._keys, KeyCacheState.OFF)
        for (program, function), k in self._keys.items():
            self.key_cache.store(program, function, k)
        return Synthesis(first, self._keys, KeyCacheState.MISS)

    def constraints(self, program: str, function: str) -> int:
        vk = self.process.get_verifying_key(avm.ProgramID.from_string(program), avm.Identifier.from_string(function))
        return int(vk.num_constraints())

    def overhead(self, program: str, function: str) -> int | None:
        from workbench.snarkvm import overhead

        source = self.sources[[str(p.id) for p in self.programs].index(program)]
        return overhead.measure(self, source, function, sdk_version())

    # -- execution ----------------------------------------------------------------------------
    def execute(self, inputs: Sequence[str]) -> Executed:
        """Authorize and execute the entry function on Aleo input literals (no proof yet).

        The first execution also synthesizes the keys of every function it runs (the main
        one and those it calls), unless they were inserted.
        """
        values = [avm.Value.parse(v) for v in inputs]
        name = avm.Identifier.from_string(self.function)
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
                raise _too_large(f"{self.program_id}/{self.function}") from None
            raise ZkError(f"snarkVM halted executing {self.program_id}/{self.function} on {list(inputs)}: {message}") from None
        t2 = time.perf_counter()
        return Executed(
            outputs=tuple(str(o) for o in response.outputs),
            authorize_seconds=t1 - t0,
            execute_seconds=t2 - t1,
            transitions=len(trace.transitions()),
            handle=trace,
        )

    def execute_many(
        self, batches: Sequence[tuple[int, Sequence[str]]], workers: int, on_done: Callable[[int, Executed], None]
    ) -> int:
        if workers >= 2:
            from workbench.snarkvm import parallel

            parallel.execute_rows(self.sources, self.function, self._keys, list(batches), workers, on_done)
            return workers
        for index, inputs in batches:
            e = self.execute(inputs)
            on_done(index, Executed(e.outputs, e.authorize_seconds, e.execute_seconds, e.transitions))
        return 1

    # -- proofs -------------------------------------------------------------------------------
    def prove(self, executed: Executed, endpoint: str | None) -> Proof:
        """Prove an execution; the ledger query (height, state root) is read from `endpoint`
        or, without one, from a local stand-in process started on first use."""
        if endpoint is None:
            if self._ledger is None:
                from workbench.snarkvm.ledger import LedgerStub

                self._ledger = LedgerStub().__enter__()
            endpoint = self._ledger.url
        t0 = time.perf_counter()
        try:
            executed.handle.prepare(avm.Query.rest(endpoint))
            execution = executed.handle.prove_execution(f"{self.program_id}/{self.function}")
        except BaseException as exc:
            if not is_vm_failure(exc):
                raise
            if _needs_larger_setup(str(exc)):
                raise _too_large(f"{self.program_id}/{self.function}") from None
            raise ZkError(f"proving {self.program_id}/{self.function} failed: {str(exc).splitlines()[0]}") from None
        return Proof(execution_json=execution.to_json(), prove_seconds=time.perf_counter() - t0, handle=execution)

    def verify(self, proof: Proof) -> Verification:
        """Verify a proof against this process's verifying keys."""
        t0 = time.perf_counter()
        try:
            execution = proof.handle if proof.handle is not None else avm.Execution.from_json(proof.execution_json)
            self.process.verify_execution(execution)
        except BaseException as exc:
            if not is_vm_failure(exc):
                raise
            return Verification(False, time.perf_counter() - t0, str(exc).splitlines()[0])
        return Verification(True, time.perf_counter() - t0, None)

    def close(self) -> None:
        if self._ledger is not None:
            ledger, self._ledger = self._ledger, None
            ledger.__exit__(None, None, None)
