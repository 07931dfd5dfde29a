"""The snarkVM backend for a model split across executions linked by commitments.

The programs are the links in order, independent of each other (no imports); the last
is the main program and outputs the prediction (workbench/leo_templates/_linked.leo.j2).
What each link receives is computed from the row by the integer reference
(workbench/leo/carries.py), with a fresh random 128-bit salt per handoff, so every link's
input is known before any link runs: links are independent executions, run in any order.

Memory: each link runs in a snarkVM process of its own, created for it and dropped after
(workbench/snarkvm/link_pool.py), so a process holds at most one link's keys, never the
whole chain's. Keys live on disk: in the key cache, or in a temporary directory removed by
`close` when the cache is off. This process holds the programs and the verifying keys only
(to verify, and to read each link's sizes); `Synthesis.keys` gives each proving key as the
path of its file, not its bytes.

Where the work happens and how it is timed (worker processes: one per two cores, at most
one per link; spawned, since aleo-sdk holds the GIL):

- `synthesize` runs every link once on the first row in workers that exit when it ends,
  each synthesizing its link's keys (or loading them from the cache) and storing them.
  `first` is timed by the wall clock of that phase (workers started, keys made and
  stored): the links' own times overlap, and on shared cores slow each other down, so
  their sum would overstate it.
- `execute` runs a row's links in the workers, which stay up for the proofs, and then
  checks every handoff (a mismatch is a bug). It is timed by the wall clock too (reading
  each link's keys from disk included): its authorize seconds are the links' own, summed,
  its execute seconds the rest.
- `prove` proves a row's links in the workers, in parallel. A trace cannot leave its
  process, so each worker executes its link again on the same input (same salts, hence the
  same commitments) and proves that execution. Its seconds are the wall clock of the whole
  phase (reading keys and executing again included). The proofs are checked after the
  fact: the links output what `execute` saw (so every handoff's commitments chain, and the
  prediction is the one reported), then bundled (workbench/linked.py).
- `execute_many` (rows that are not proven) runs each link once over all the rows, in the
  link workers when the stage asks for workers (`workers` >= 2), else in this process; a
  row's seconds there are its links' own, summed (the rows' links overlap, so no wall clock
  is a row's own; the stage's wall clock is recorded besides).
- `verify` verifies each link's proof and the chain here; the workers exit first
  (verification needs none, and their peak memory is counted once they have exited).

With fewer than four cores, or one link, everything runs in this process (`link_workers`:
snarkVM's prover already uses every core), still one link's keys at a time.
"""

from __future__ import annotations

import dataclasses
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from workbench import linked
from workbench.errors import ZkError
from workbench.kinds import KeyCacheState
from workbench.leo import codec
from workbench.leo.carries import carry_literal, link_features, reads_a_slice
from workbench.prover import Executed, FunctionKey, FunctionKeys, Proof, ProverRequest, Synthesis, Verification
from workbench.snarkvm.keycache import KeyCache
from workbench.snarkvm.link_pool import LinkDone, LinkJob, LinkPool, link_workers
from workbench.snarkvm.process import sdk_version
from workbench.snarkvm.prover import SnarkVMProver
from workbench.snarkvm.verifier import execution_failure


@dataclass(frozen=True)
class LinkedRow:
    """The `Executed.handle` of one row: each link's input literals, and the commitments
    each link output, in link order (what `prove` must reproduce)."""

    inputs: tuple[tuple[str, ...], ...]
    commitments: tuple[tuple[str, ...], ...]


class LinkedProver(SnarkVMProver):
    """Executes, proves and verifies the links of a chain linked by commitments."""

    @classmethod
    def open(cls, request: ProverRequest) -> "LinkedProver":  # type: ignore[override]
        """The `ProverFactory` of this backend (`request.model` and `request.cuts` are needed)."""
        cache = KeyCache(list(request.sources), sdk_version()) if request.use_key_cache else None
        workers = None if request.workers is None else max(1, min(request.workers, len(request.sources)))
        return cls(request.sources, request.function, cache, request.model, request.cuts, workers)

    def __init__(
        self, sources: Sequence[str], function: str, key_cache: KeyCache | None, model: Any, cuts: tuple[int, ...],
        workers: int | None = None,
    ) -> None:
        """`workers`: processes proving a row's links (None: `link_workers`, one per two cores, at most one per link)."""
        super().__init__(sources, function, key_cache)  # the programs only: no keys in this process
        if model is None or len(cuts) != len(sources) - 1:
            raise ZkError("links by commitments need the quantized model and one cut per link after the first")
        self.form = model.form
        self.cuts = tuple(cuts)
        self.workers = link_workers(len(sources)) if workers is None else workers
        # Keys live on disk, one link's in memory at a time: in the cache, else in a
        # directory of our own that `close` removes.
        self._tmp: str | None = None
        if key_cache is None:
            self._tmp = tempfile.mkdtemp(prefix="workbench-links-")
            self._store = KeyCache(list(sources), sdk_version(), root=Path(self._tmp))
        else:
            self._store = key_cache
        # Started by the first row executed, kept for the rows and proofs after.
        self._workers = LinkPool(self.workers)

    @property
    def links(self) -> list[str]:
        """The links' program ids, in link order (the main program last)."""
        return [str(p.id) for p in self.vm.programs]

    def _literals(self, inputs: Sequence[str]) -> list[tuple[str, ...]]:
        """Each link's input literals for one row (`inputs`: the row's features literal)."""
        if len(inputs) != 1:
            raise ZkError("a model linked by commitments evaluates one row per execution")
        row = codec.parse_int_literals(inputs[0])
        items = codec.split_array_literal(inputs[0])
        n = len(self.vm.sources)
        bounds = [0, *self.cuts, len(items)]  # the end only matters to a split by features
        apart = reads_a_slice(self.form)  # the features as an input of their own
        salts = [secrets.randbits(128) for _ in range(n - 1)]  # one per handoff, never reused
        out = []
        for k in range(n):
            mine = salts[max(k - 1, 0): k + 1]  # the handoff received, then the one handed on
            x = link_features(self.form, items, bounds[k], bounds[k + 1])
            members = [] if apart else [f"x: {x}"]
            if k > 0:
                members.append(f"carry: {carry_literal(self.form, row, self.cuts[k - 1])}")
            members.append("salts: [" + ", ".join(f"{v}u128" for v in mine) + "]")
            struct = "{ " + ", ".join(members) + " }"
            out.append((x, struct) if apart else (struct,))
        return out

    def _job(self, k: int, inputs: Sequence[tuple[str, ...]], ledger_url: str | None = None) -> LinkJob:
        return LinkJob(k, self.vm.sources[k], self.vm.function, str(self._store.dir), tuple(inputs), ledger_url)

    def _check_handoff(self, k: int, received: str, handed: str) -> None:
        """Link k (from 0) must have received what link k - 1 handed on (a mismatch is a bug)."""
        if received != handed:
            n = len(self.vm.sources)
            raise ZkError(
                f"link {k + 1} of {n} ({self.links[k]}) received values other than those the link before handed on"
            )

    def _row(self, literals: list[tuple[str, ...]], links: list[Executed]) -> Executed:
        """One row's execution from its links' (in order), checking every handoff."""
        commitments = [tuple(codec.split_array_literal(e.outputs[0])) for e in links]
        for k in range(1, len(links)):
            self._check_handoff(k, commitments[k][0], commitments[k - 1][-1])
        return Executed(
            outputs=tuple(links[-1].outputs[1:]),
            authorize_seconds=sum(e.authorize_seconds for e in links),
            execute_seconds=sum(e.execute_seconds for e in links),
            transitions=len(links),
            handle=LinkedRow(tuple(literals), tuple(commitments)),
        )

    def synthesize(self, inputs: Sequence[str]) -> Synthesis:
        """Make (or load) every link's keys while running each once on the first row, in
        worker processes; keep the verifying keys here and the proving keys on disk."""
        literals = self._literals(inputs)
        pool = LinkPool(self.workers)
        t0 = time.perf_counter()
        try:
            done = pool.run([self._job(k, [lit]) for k, lit in enumerate(literals)])
        finally:
            pool.close()  # its workers exit now, so their peak memory is counted
        first = _wall_clock(self._row(literals, [d.executions[0] for d in done]), time.perf_counter() - t0)
        keys: dict[FunctionKey, FunctionKeys] = {}
        for program, function in self.functions():
            stored = self._store.load_lazily(program, function)
            if stored is None:
                raise ZkError(f"the keys of {program}/{function} were not found where they were stored ({self._store.dir})")
            keys[(program, function)] = stored
        self.vm.insert_verifying_keys({k: v.verifier for k, v in keys.items()})
        self._keys = keys
        if self.key_cache is None:
            state = KeyCacheState.OFF
        else:
            state = KeyCacheState.MISS if any(d.synthesized for d in done) else KeyCacheState.HIT
        return Synthesis(Executed(first.outputs, first.authorize_seconds, first.execute_seconds, first.transitions), keys, state)

    def execute(self, inputs: Sequence[str]) -> Executed:
        """Run every link on one row, in the link workers (here with fewer than two), then
        check every handoff; the workers are kept for the proofs that follow."""
        literals = self._literals(inputs)
        t0 = time.perf_counter()
        done = self._workers.run([self._job(k, [lit]) for k, lit in enumerate(literals)])
        return _wall_clock(self._row(literals, [d.executions[0] for d in done]), time.perf_counter() - t0)

    def execute_many(
        self, batches: Sequence[tuple[int, Sequence[str]]], workers: int, on_done: Callable[[int, Executed], None]
    ) -> int:
        """Run the rows link by link (each link once over every row): in the link workers
        when `workers` >= 2, else in this process."""
        rows = [(index, self._literals(inputs)) for index, inputs in batches]
        # The link workers, not more processes: they are up for the proofs anyway.
        pool = self._workers if workers >= 2 else LinkPool(1)
        done = pool.run([self._job(k, [lits[k] for _, lits in rows]) for k in range(len(self.vm.sources))])
        for r, (index, literals) in enumerate(rows):
            e = self._row(literals, [d.executions[r] for d in done])
            on_done(index, Executed(e.outputs, e.authorize_seconds, e.execute_seconds, e.transitions))
        return pool.workers

    def prove(self, executed: Executed, endpoint: str | None) -> Proof:
        """Prove a row's links in parallel processes, then check and bundle the proofs."""
        row = executed.handle
        if not isinstance(row, LinkedRow):
            raise ZkError("only an execution made by this process's `execute` can be proven")
        url = self._endpoint(endpoint)
        t0 = time.perf_counter()
        done = self._workers.run([self._job(k, [lit], url) for k, lit in enumerate(row.inputs)])
        seconds = time.perf_counter() - t0
        self._check_proven(row, executed, done)
        return Proof(execution_json=linked.make_bundle([d.proofs[0] for d in done]), prove_seconds=seconds)

    def _check_proven(self, row: LinkedRow, executed: Executed, done: list[LinkDone]) -> None:
        """The proven executions must be the executed ones: same commitments (hence the chain
        holds) and the same prediction."""
        proven = self._row(list(row.inputs), [d.executions[0] for d in done])
        assert isinstance(proven.handle, LinkedRow)
        if proven.handle.commitments != row.commitments or proven.outputs != executed.outputs:
            raise ZkError("the proven links output other values than the same links executed on the same inputs")

    def verify(self, proof: Proof) -> Verification:
        """Verify every link's proof, then that the commitments chain."""
        # Proving is over for now: the workers exit, so their peak memory is counted (a
        # later row starts them again).
        self._workers.close()
        t0 = time.perf_counter()
        failure = execution_failure(self.vm.process, proof.execution_json)
        return Verification(failure is None, time.perf_counter() - t0, failure)

    def close(self) -> None:
        self._workers.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        super().close()


def _wall_clock(row: Executed, wall: float) -> Executed:
    """A row timed by the wall clock of its links' parallel run: its authorize seconds are
    the links' own, summed (they run before each link's execution), and its execute seconds
    the rest of the wall clock. Summing the links' own times instead would count the time
    they overlapped, and the time they slowed each other down sharing the cores, twice."""
    authorize = min(row.authorize_seconds, wall)
    return dataclasses.replace(row, authorize_seconds=authorize, execute_seconds=wall - authorize)
