"""The snarkVM backend for a model split across executions linked by commitments.

The programs are the links in order, independent of each other (no imports); the last
is the main program and outputs the prediction (workbench/leo_templates/_linked.leo.j2).
`execute` runs every link on one row: fresh random salts, the features to each link, each
link's private carry to the next; it checks each commitment as soon as the next link
recomputes it (a mismatch is a bug, reported at once rather than after proving). `prove`
proves every link's execution and saves them as one bundle (workbench/linked.py);
`verify` verifies each link's proof and the chain of commitments.

Links run one after the other in this process: each needs the carry of the one before.
"""

from __future__ import annotations

import secrets
import time
from typing import Callable, Sequence

from aleo import mainnet as avm

from workbench import linked
from workbench.errors import ZkError
from workbench.prover import Executed, Proof, Verification
from workbench.snarkvm.process import is_vm_failure
from workbench.snarkvm.prover import SnarkVMProver

def random_salt() -> str:
    """A fresh secret 256-bit salt: two u128 literals (as a commitment's struct holds it)."""
    return f"{secrets.randbits(128)}u128, {secrets.randbits(128)}u128"


class LinkedProver(SnarkVMProver):
    """Executes, proves and verifies the links of a chain linked by commitments."""

    @property
    def links(self) -> list[str]:
        """The links' program ids, in link order (the main program last)."""
        return [str(p.id) for p in self.vm.programs]

    def execute(self, inputs: Sequence[str]) -> Executed:
        """Run every link on one row (`inputs`: the row's features literal)."""
        if len(inputs) != 1:
            raise ZkError("a model linked by commitments evaluates one row per execution")
        links = self.links
        n = len(links)
        # salts[0]: the features' (every link); salts[k]: the carry link k receives.
        salts = [random_salt() for _ in range(n)]
        done: list[tuple[str, Executed]] = []
        carry: str | None = None
        features_commitment = ""
        handed = ""
        for k, program in enumerate(links):
            mine = [salts[0]] + ([salts[k]] if k > 0 else []) + ([salts[k + 1]] if k < n - 1 else [])
            args = [inputs[0]] + ([carry or ""] if k > 0 else []) + [f"[{', '.join(mine)}]"]
            e = self.vm.execute(args, program)
            out = list(e.outputs)
            if k == 0:
                features_commitment = out[0]
            elif out[0] != features_commitment or out[1] != handed:
                raise ZkError(f"link {k + 1} of {n} ({program}) recomputed a commitment other than the one handed on")
            if k < n - 1:
                handed, carry = out[linked.commitments_in(k, n) - 1], out[-1]
            done.append((program, e))
        last = done[-1][1]
        return Executed(
            outputs=tuple(last.outputs[linked.commitments_in(n - 1, n):]),
            authorize_seconds=sum(e.authorize_seconds for _, e in done),
            execute_seconds=sum(e.execute_seconds for _, e in done),
            transitions=n,
            handle=done,
        )

    def execute_many(
        self, batches: Sequence[tuple[int, Sequence[str]]], workers: int, on_done: Callable[[int, Executed], None]
    ) -> int:
        for index, inputs in batches:
            e = self.execute(inputs)
            on_done(index, Executed(e.outputs, e.authorize_seconds, e.execute_seconds, e.transitions))
        return 1

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
        texts = linked.link_executions(proof.execution_json)
        handles = proof.handle if isinstance(proof.handle, list) else [None] * len(texts)
        for k, (text, handle) in enumerate(zip(texts, handles)):
            try:
                execution = handle if handle is not None else avm.Execution.from_json(text)
                self.vm.process.verify_execution(execution)
            except BaseException as exc:
                if not is_vm_failure(exc):
                    raise
                return Verification(False, time.perf_counter() - t0, f"link {k + 1}: {str(exc).splitlines()[0]}")
        problems = linked.chain_problems(proof.execution_json)
        return Verification(not problems, time.perf_counter() - t0, "; ".join(problems) or None)
