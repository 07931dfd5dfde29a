"""A `Prover` that evaluates the integer reference instead of snarkVM: a test double.

It reads each execution's Aleo inputs back into integers (workbench/leo/codec.py), runs the
quantized model's numpy reference on them and encodes the outputs as the program would
return them, so the stages around it (planning, retries, decoding, result assembly,
comparison) run as they do with snarkVM, in milliseconds. Its "constraints" are the cost
model's estimates of the compiled programs, and it can be told to refuse key synthesis
above a limit, as the offline setup refuses a circuit too large for it.

Nothing it produces is a ZK result: results say `prover: reference`, tables label its
column as such, and `workbench.stages.save` refuses to save them.
"""

from __future__ import annotations

import json
import time
from typing import Callable, Sequence

import numpy as np

from workbench.kinds import KeyCacheState, ProverKind
from workbench.leo import codec, thresholds
from workbench.limits import CircuitShape
from workbench.prover import BackendMemory, Executed, FunctionKey, FunctionKeys, Proof, ProverRequest, Synthesis, Verification
from workbench.snarkvm.costs import estimate_constraints, estimate_shapes
from workbench.snarkvm.errors import CircuitTooLarge

_PROGRAM = "program "


def _program_id(source: str) -> str:
    first = next(line for line in source.splitlines() if line.startswith(_PROGRAM))
    return first.removeprefix(_PROGRAM).rstrip(";").strip()


def _rows(inputs: Sequence[str], packing: codec.Packing | None = None, n_features: int = 0) -> np.ndarray:
    """The quantized rows of one execution's single array input: `[..]` or `[[..], ..]`, or
    the u128 words `packing` packed them into."""
    text = inputs[0].strip()
    values = codec.parse_int_literals(text)
    if packing is not None:
        return np.asarray(packing.unpack(values), dtype=np.int64).reshape(-1, n_features)
    if text.startswith("[["):
        n_rows = text.count("[") - 1
        return np.asarray(values, dtype=np.int64).reshape(n_rows, -1)
    return np.asarray([values], dtype=np.int64)


class ReferenceProver:
    """Evaluates the request's quantized model in numpy; refuses functions estimated above `limit`."""

    kind = ProverKind.REFERENCE

    def __init__(self, request: ProverRequest, limit: int | None = None) -> None:
        if request.model is None:
            raise ValueError("the reference backend needs the quantized model")
        self.request = request
        self.limit = limit
        self._estimates: dict[FunctionKey, int] = {}
        self._shapes: dict[FunctionKey, CircuitShape] = {}
        for i, source in enumerate(request.sources):
            program = _program_id(source)
            for function, n in estimate_constraints(source, list(request.sources[:i])).items():
                self._estimates[(program, function)] = n
            for function, shape in estimate_shapes(source, list(request.sources[:i])).items():
                self._shapes[(program, function)] = shape
        self._proofs: set[str] = set()

    @classmethod
    def factory(cls, limit: int | None = None) -> Callable[[ProverRequest], "ReferenceProver"]:
        """A `ProverFactory` opening reference backends with this refusal limit."""
        return lambda request: cls(request, limit)

    def functions(self) -> list[FunctionKey]:
        return list(self._estimates)

    def synthesize(self, inputs: Sequence[str]) -> Synthesis:
        if self.limit is not None:
            over = {k: n for k, n in self._estimates.items() if n > self.limit}
            if over:
                (program, function), n = max(over.items(), key=lambda kv: kv[1])
                raise CircuitTooLarge(
                    f"{program}/{function} needs a universal setup larger than the reference backend's limit "
                    f"({n:,} estimated constraints > {self.limit:,})"
                )
        keys = {k: FunctionKeys(None, b"") for k in self._estimates}
        return Synthesis(self.execute(inputs), keys, KeyCacheState.OFF)

    def execute(self, inputs: Sequence[str]) -> Executed:
        t0 = time.perf_counter()
        model = self.request.model
        if self.request.tree_inputs == "thresholds":
            # Threshold bits: any row answering every test the same way predicts the same.
            order = thresholds.tests(model.form)
            rows = thresholds.representative(order, _rows(inputs, self.request.packing, len(order)), model.form.io.n_features)
        else:
            rows = _rows(inputs, self.request.packing, model.form.io.n_features)
        predictions = model.predict_int(rows)
        info = model.revealed_scores() if self.request.scores else None
        scores = model.revealed_scores_int(rows) if info else None
        outputs = codec.encode_outputs(predictions, model.output_type_, scores, info.type if info else None)
        return Executed(tuple(outputs), 0.0, time.perf_counter() - t0, transitions=len(self.request.sources))

    def execute_many(
        self, batches: Sequence[tuple[int, Sequence[str]]], workers: int, on_done: Callable[[int, Executed], None]
    ) -> int:
        for index, inputs in batches:
            on_done(index, self.execute(inputs))
        return 1

    def constraints(self, program: str, function: str) -> int:
        return self._estimates[(program, function)]

    def shape(self, program: str, function: str) -> CircuitShape:
        # No key exists: the estimator's six sizes stand in (this backend is for tests).
        return self._shapes[(program, function)]

    def overhead(self, program: str, function: str) -> int | None:
        return None

    def prove(self, executed: Executed, endpoint: str | None) -> Proof:
        text = json.dumps({"reference": True, "outputs": list(executed.outputs)})
        self._proofs.add(text)
        return Proof(execution_json=text, prove_seconds=0.0)

    def verify(self, proof: Proof) -> Verification:
        ok = proof.execution_json in self._proofs
        return Verification(ok, 0.0, None if ok else "not a proof this reference backend made")

    def memory(self) -> BackendMemory:
        return BackendMemory()

    def close(self) -> None:
        pass
