"""The stages that run the compiled programs through a `Prover` (workbench/prover.py).

    synthesize_keys: the first execution makes (or the cache supplies) every function's keys;
                     artefact `verifying_keys/<program>.<function>.verifier`
    execute:         every batch of rows; decoded into prediction integers (and scores)
    prove:           the first executions; artefact `proofs/sample-NNNN.execution.json`
    verify:          each proof against the verifying keys

`batch_rows` (not a stage) cuts the executed rows into batches and encodes their inputs.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from workbench.leo import codec, thresholds
from workbench.prover import Executed, Prover
from workbench.results import FunctionCost, RunDirectory
from workbench.snarkvm.parallel import worker_count
from workbench.stages.records import (
    Batches,
    Compiled,
    Executions,
    Keys,
    Proofs,
    ProvenExecution,
    Quantized,
    Verifications,
)

Progress = Callable[[int, int], None]  # (done, total)


def _no_progress(done: int, total: int) -> None:
    pass


def batch_rows(
    quantized: Quantized, batch: int, n_rows: int, n_proofs: int, packing: codec.Packing | None = None,
    tree_inputs: str = "features",
) -> Batches:
    """The first `n_rows` test rows in consecutive executions of `batch` rows, encoded
    (packed in u128 words when the program takes them so: `stages.plan_packing`; as
    threshold bits with `tree_inputs = "thresholds"`, workbench/leo/thresholds.py).

    A short last batch is padded by repeating its last row (its outputs are dropped).
    `n_proofs` (at most the number of executions) of the first executions will be proven.
    """
    units = tuple(tuple(range(i, min(i + batch, n_rows))) for i in range(0, n_rows, batch))
    feature_type = quantized.model.form.io.feature_type
    rows = quantized.inputs
    if tree_inputs == "thresholds":
        rows = thresholds.encode(thresholds.tests(quantized.model.form), rows)  # type: ignore[arg-type]
    inputs = tuple(
        tuple(codec.encode_rows(rows[list(u) + [u[-1]] * (batch - len(u))], feature_type, packing))
        for u in units
    )
    return Batches(units, inputs, batch, min(n_proofs, len(units)))


def synthesize_keys(prover: Prover, compiled: Compiled, batches: Batches, run: RunDirectory | None = None) -> Keys:
    """Execute the first batch once, which makes every function's keys (or loads them from the
    cache); read each function's constraints, six sizes and fixed transition cost; save the verifying keys."""
    synthesis = prover.synthesize(batches.inputs[0])
    if run is not None:
        root = run.artefact("verifying_keys")
        for (program_id, function), k in synthesis.keys.items():
            (root / f"{program_id.removesuffix('.aleo')}.{function}.verifier").write_bytes(k.verifier)
    costs = tuple(
        FunctionCost(
            p, f, prover.constraints(p, f), prover.overhead(p, f), compiled.estimates.get((p, f)),
            shape=prover.shape(p, f), estimated_shape=compiled.shapes.get((p, f)),
        )
        for p, f in prover.functions()
    )
    return Keys(
        key_cache=synthesis.key_cache,
        first=synthesis.first,
        costs=costs,
        verifiers={k: v.verifier for k, v in synthesis.keys.items()},
        prover=prover.kind,
    )


def execute(
    prover: Prover, quantized: Quantized, batches: Batches, scores: bool = False, workers: int | None = None,
    progress: Progress = _no_progress,
) -> Executions:
    """Execute every batch and decode the outputs.

    Executions to prove run in this process (their traces cannot leave it); the rest may
    go to worker processes, one snarkVM each (`workers`; None: by the rows and cores).
    """
    model = quantized.model
    form = model.form
    info = model.revealed_scores() if scores else None
    n_rows = batches.n_rows
    outputs = np.zeros(n_rows, dtype=np.int64)
    revealed = np.zeros((n_rows, info.count), dtype=np.int64) if info else None
    n_units = len(batches.units)
    auth = [0.0] * n_units
    seconds = [0.0] * n_units
    proven: list[Executed] = []
    transitions = 0
    done = 0

    def record(u: int, e: Executed) -> None:
        nonlocal done, transitions
        rows = list(batches.units[u])
        outputs[rows] = codec.decode_predictions(list(e.outputs), batches.batch, form.io.output_type)[: len(rows)]
        if revealed is not None and info is not None:
            revealed[rows] = codec.decode_scores(list(e.outputs), batches.batch, info.count)[: len(rows)]
        auth[u], seconds[u] = e.authorize_seconds, e.authorize_seconds + e.execute_seconds
        transitions = e.transitions
        done += len(rows)
        progress(done, n_rows)

    t0 = time.perf_counter()
    for u in range(batches.n_proofs):
        e = prover.execute(batches.inputs[u])
        proven.append(e)
        record(u, e)
    rest = list(range(batches.n_proofs, n_units))
    wanted = worker_count(len(rest)) if workers is None else min(workers, len(rest))
    used = prover.execute_many([(u, batches.inputs[u]) for u in rest], wanted, record) if rest else 1
    return Executions(
        outputs=outputs,
        scores=revealed,
        seconds=tuple(seconds),
        authorize_seconds=tuple(auth),
        proven=tuple(proven),
        transitions=transitions,
        workers=max(used, 1),
        wall_seconds=time.perf_counter() - t0,
    )


def prove(
    prover: Prover, executions: Executions, batches: Batches, endpoint: str | None = None,
    run: RunDirectory | None = None, progress: Progress = _no_progress,
) -> Proofs:
    """Prove the first executions; save each proof's execution JSON into the run."""
    root = run.artefact("proofs") if run is not None else None
    items = []
    for i, executed in enumerate(executions.proven):
        proof = prover.prove(executed, endpoint)
        rows = batches.units[i]
        path = None
        if root is not None:
            path = f"proofs/sample-{rows[0]:04d}.execution.json"
            (root / path.removeprefix("proofs/")).write_text(proof.execution_json)
        items.append(ProvenExecution(proof, rows, executed.outputs[0], path))
        progress(i + 1, len(executions.proven))
    return Proofs(tuple(items))


def verify(prover: Prover, proofs: Proofs, progress: Progress = _no_progress) -> Verifications:
    """Verify each proof against the verifying keys (a failed check is a result, not an error)."""
    out = []
    for i, item in enumerate(proofs.items):
        out.append(prover.verify(item.proof))
        progress(i + 1, len(proofs.items))
    return Verifications(tuple(out))
