"""The snarkVM backend for a model split across executions linked by commitments.

The programs are the links in order, independent of each other (no imports); the last
is the main program and outputs the prediction (workbench/leo_templates/_linked.leo.j2).
`execute` runs every link on one row with a fresh random 128-bit salt per handoff; what each link receives is
computed from the row by the integer reference (workbench/leo/carries.py), and each
link's commitment to it is checked against the one the link before made as soon as both
exist (a mismatch is a bug, reported at once rather than after proving). `prove` proves
every link's execution and bundles them (workbench/linked.py); `verify` verifies each
link's proof and the chain of commitments.

Links run one after the other in this process.
"""

from __future__ import annotations

import secrets
import time
from typing import Any, Callable, Sequence


from workbench import linked
from workbench.errors import ZkError
from workbench.leo import codec
from workbench.leo.carries import carry_literal, link_features, reads_a_slice
from workbench.prover import Executed, Proof, ProverRequest, Verification
from workbench.snarkvm.keycache import KeyCache
from workbench.snarkvm.process import sdk_version
from workbench.snarkvm.prover import SnarkVMProver
from workbench.snarkvm.verifier import execution_failure


class LinkedProver(SnarkVMProver):
    """Executes, proves and verifies the links of a chain linked by commitments."""

    @classmethod
    def open(cls, request: ProverRequest) -> "LinkedProver":  # type: ignore[override]
        """The `ProverFactory` of this backend (`request.model` and `request.cuts` are needed)."""
        cache = KeyCache(list(request.sources), sdk_version()) if request.use_key_cache else None
        return cls(request.sources, request.function, cache, request.model, request.cuts)

    def __init__(
        self, sources: Sequence[str], function: str, key_cache: KeyCache | None, model: Any, cuts: tuple[int, ...]
    ) -> None:
        super().__init__(sources, function, key_cache)
        if model is None or len(cuts) != len(sources) - 1:
            raise ZkError("links by commitments need the quantized model and one cut per link after the first")
        self.form = model.form
        self.cuts = tuple(cuts)

    @property
    def links(self) -> list[str]:
        """The links' program ids, in link order (the main program last)."""
        return [str(p.id) for p in self.vm.programs]

    def execute(self, inputs: Sequence[str]) -> Executed:
        """Run every link on one row (`inputs`: the row's features literal)."""
        if len(inputs) != 1:
            raise ZkError("a model linked by commitments evaluates one row per execution")
        row = codec.parse_int_literals(inputs[0])
        items = codec.split_array_literal(inputs[0])
        links = self.links
        n = len(links)
        bounds = [0, *self.cuts, len(items)]  # the end only matters to a split by features
        salts = [secrets.randbits(128) for _ in range(n - 1)]  # one per handoff, never reused
        done: list[tuple[str, Executed]] = []
        handed = ""
        for k, program in enumerate(links):
            mine = salts[max(k - 1, 0): k + 1]  # the handoff received, then the one handed on
            x = link_features(self.form, items, bounds[k], bounds[k + 1])
            apart = reads_a_slice(self.form)  # the features as an input of their own
            members = [] if apart else [f"x: {x}"]
            if k > 0:
                members.append(f"carry: {carry_literal(self.form, row, self.cuts[k - 1])}")
            members.append("salts: [" + ", ".join(f"{v}u128" for v in mine) + "]")
            struct = "{ " + ", ".join(members) + " }"
            e = self.vm.execute([x, struct] if apart else [struct], program)
            commitments = codec.split_array_literal(e.outputs[0])
            if k > 0 and commitments[0] != handed:
                raise ZkError(f"link {k + 1} of {n} ({program}) received values other than those the link before handed on")
            handed = commitments[-1]
            done.append((program, e))
        return Executed(
            outputs=tuple(done[-1][1].outputs[1:]),
            authorize_seconds=sum(e.authorize_seconds for _, e in done),
            execute_seconds=sum(e.execute_seconds for _, e in done),
            transitions=n,
            handle=done,
        )

    def execute_many(
        self, batches: Sequence[tuple[int, Sequence[str]]], workers: int, on_done: Callable[[int, Executed], None]
    ) -> int:
        # The worker processes run one program's entry function; links run here, in order.
        return super().execute_many(batches, 1, on_done)

    def prove(self, executed: Executed, endpoint: str | None) -> Proof:
        """Prove every link's execution; the proof is their bundle."""
        url = self._endpoint(endpoint)
        t0 = time.perf_counter()
        proofs = [self.vm.prove(e, url, program) for program, e in executed.handle]
        return Proof(
            execution_json=linked.make_bundle([p.execution_json for p in proofs]),
            prove_seconds=time.perf_counter() - t0,
            handle=[p.handle for p in proofs],
        )

    def verify(self, proof: Proof) -> Verification:
        """Verify every link's proof, then that the commitments chain."""
        t0 = time.perf_counter()
        handles = proof.handle if isinstance(proof.handle, list) else None
        failure = execution_failure(self.vm.process, proof.execution_json, handles)
        return Verification(failure is None, time.perf_counter() - t0, failure)
