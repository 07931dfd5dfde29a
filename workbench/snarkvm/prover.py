"""The snarkVM backend of the `Prover` protocol (workbench/prover.py).

A `SnarkVMProcess` (process.py) holds the programs and makes the keys, executes, proves and
verifies; this class adds what a run needs around it: the key cache, worker processes for
execution (parallel.py), the measured fixed cost of a transition (overhead.py) and the
local ledger stand-in that proving queries (ledger.py), started on first use.

Memory: after key synthesis and after each proof, freed memory is handed back to the
system (`memory.release`), so it does not add to the next stage's peak. A model of one
transition does not cache its proving key (keycache.py, `caches_proving_keys`).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from workbench import memory
from workbench.kinds import KeyCacheState, ProverKind
from workbench.limits import CircuitShape
from workbench.prover import (
    BackendMemory,
    Executed,
    FunctionKey,
    FunctionKeys,
    Proof,
    ProverRequest,
    Synthesis,
    Verification,
)
from workbench.snarkvm import overhead, parallel
from workbench.snarkvm.keycache import KeyCache, caches_proving_keys
from workbench.snarkvm.process import SnarkVMProcess, sdk_version


class SnarkVMProver:
    """Executes, proves and verifies one model's programs with snarkVM."""

    kind = ProverKind.SNARKVM

    def __init__(self, sources: Sequence[str], function: str = "main", key_cache: KeyCache | None = None) -> None:
        self.vm = SnarkVMProcess(sources, function)
        self.key_cache = key_cache
        self._keys: dict[FunctionKey, FunctionKeys] = {}
        self._ledger: Any = None  # the local ledger stand-in, started by the first proof
        self._workers_peak: float | None = None  # the largest worker that executed rows (MB)
        self._overheads: dict[FunctionKey, int] = {}

    @classmethod
    def open(cls, request: ProverRequest) -> "SnarkVMProver":
        """The `ProverFactory` of this backend."""
        cache = KeyCache(list(request.sources), sdk_version()) if request.use_key_cache else None
        return cls(request.sources, request.function, cache)

    def functions(self) -> list[FunctionKey]:
        return self.vm.functions()

    def _load_cached_keys(self) -> dict[FunctionKey, FunctionKeys] | None:
        """Insert every function's keys from the cache (each proving key read from its file
        as it is inserted); None unless all are cached and readable."""
        if self.key_cache is None:
            return None
        keys = {}
        for program, function in self.functions():
            cached = self.key_cache.load_lazily(program, function)
            if cached is None:
                return None
            keys[(program, function)] = cached
        return keys if self.vm.insert_keys(keys) else None

    def synthesize(self, inputs: Sequence[str]) -> Synthesis:
        # The fixed transition costs first, when not cached: measuring one synthesizes an
        # empty function's keys (then dropped), which peaks about 40 MB lower before this
        # model's keys are in memory than after.
        for program, function in self.functions():
            self._overhead_of(program, function)
        cacheable = caches_proving_keys(len(self.functions()))
        cached = self._load_cached_keys() if cacheable else None
        first = self.execute(inputs)  # synthesizes every function it runs, unless inserted
        if cached is not None:
            self._keys = cached
            return Synthesis(first, cached, KeyCacheState.HIT)
        if self.key_cache is None or not cacheable:
            # The proving keys stay in snarkVM's process, never serialized.
            self._keys = self.vm.synthesized_keys()
            memory.release()
            return Synthesis(first, self._keys, KeyCacheState.OFF if self.key_cache is None else KeyCacheState.UNCACHED)
        # One proving key's text at a time: stored, then read from its file when needed.
        self.vm.store_keys(self.key_cache)
        keys = {f: self.key_cache.load_lazily(*f) for f in self.functions()}
        self._keys = {f: k if k is not None else FunctionKeys(None, b"") for f, k in keys.items()}
        return Synthesis(first, self._keys, KeyCacheState.MISS)

    def execute(self, inputs: Sequence[str]) -> Executed:
        return self.vm.execute(inputs)

    def execute_many(
        self, batches: Sequence[tuple[int, Sequence[str]]], workers: int, on_done: Callable[[int, Executed], None]
    ) -> int:
        if workers >= 2:
            # Each worker reads the proving keys from the cache, or synthesizes its own
            # (a one-transition model's are not serialized: parallel.py).
            parallel.execute_rows(self.vm.sources, self.vm.function, self._keys, list(batches), workers, on_done)
            self._workers_peak = max(self._workers_peak or 0.0, round(memory.children_peak_mb(), 1))
            return workers
        for index, inputs in batches:
            e = self.execute(inputs)
            on_done(index, Executed(e.outputs, e.authorize_seconds, e.execute_seconds, e.transitions))
        return 1

    def constraints(self, program: str, function: str) -> int:
        return self.vm.constraints(program, function)

    def shape(self, program: str, function: str) -> CircuitShape:
        return self.vm.shape(program, function)

    def overhead(self, program: str, function: str) -> int | None:
        return self._overhead_of(program, function)

    def _overhead_of(self, program: str, function: str) -> int:
        if (program, function) not in self._overheads:
            self._overheads[(program, function)] = overhead.measure(self.vm.source_of(program), function, sdk_version())
            memory.release()  # the scratch process that measured it is gone
        return self._overheads[(program, function)]

    def prove(self, executed: Executed, endpoint: str | None) -> Proof:
        """Prove an execution against `endpoint`, or the local ledger stand-in without one."""
        proof = self.vm.prove(executed, self._endpoint(endpoint))
        memory.release()
        return proof

    def _endpoint(self, endpoint: str | None) -> str:
        """`endpoint`, or the local ledger stand-in's (started, or restarted, on demand)."""
        if endpoint is None:
            if self._ledger is not None and not self._ledger.alive():
                # The helper died (killed, OOM): a fresh one answers the same two queries.
                self._ledger.__exit__(None, None, None)
                self._ledger = None
            if self._ledger is None:
                from workbench.snarkvm.ledger import LedgerStub

                self._ledger = LedgerStub().__enter__()
            endpoint = self._ledger.url
        return endpoint

    def verify(self, proof: Proof) -> Verification:
        return self.vm.verify(proof)

    def memory(self) -> BackendMemory:
        """snarkVM runs in this process (its peak is the caller's to measure); the workers'."""
        workers, self._workers_peak = self._workers_peak, None
        return BackendMemory(workers=workers)

    def close(self) -> None:
        if self._ledger is not None:
            ledger, self._ledger = self._ledger, None
            ledger.__exit__(None, None, None)
