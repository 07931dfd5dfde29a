"""Execute many rows at once on every core: worker processes, each with its own snarkVM.

aleo-sdk holds the GIL, so threads would run one at a time; processes do not. Each worker
loads the program once, and the proving keys from the files they were cached in (a call
chain's); a model of one transition caches none (keycache.py), so each worker synthesizes
its own on its first row (a few seconds, and under 350 MB: what serializing the key in the
process that made it would exceed). Then it executes chunks of rows. Results come back in
row order whatever order the workers finish in.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Callable, Sequence

from workbench.errors import ZkError
from workbench.memory import release
from workbench.prover import Executed, FunctionKey, FunctionKeys

# Fewer rows than this per worker are not worth a worker's start-up (about 2 s to import
# aleo-sdk, load the process and the keys; more when it synthesizes them).
MIN_ROWS_PER_WORKER = 8
CHUNK = 4


_prover = None  # the worker's own SnarkVMProcess
_executed = False  # whether it executed a row yet (the first may synthesize the keys)


PR_SET_PDEATHSIG = 1  # prctl(2) option: the signal this process gets when its parent dies


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Linux: have the kernel send `sig` to this process when its parent
    dies. A worker of a killed prover host would otherwise run on, orphaned, holding the
    run's output pipes open; elsewhere this does nothing."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, sig)
    except (OSError, AttributeError):
        pass


def _init(aleo_sources: list[str], function: str, keys: dict[FunctionKey, FunctionKeys]) -> None:
    global _prover

    # Ctrl-C reaches every process of the group: the parent handles it and stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
    from workbench.snarkvm.process import SnarkVMProcess

    _prover = SnarkVMProcess(aleo_sources, function)
    # Keys given as files (a call chain's, cached) are read; otherwise (or unreadable) the
    # first execution synthesizes them.
    if all(isinstance(k.prover, Path) for k in keys.values()):
        _prover.insert_keys(keys)


def _run_chunk(chunk: list[tuple[int, Sequence[str]]]) -> list[tuple[int, Executed]]:
    global _executed
    assert _prover is not None
    out = []
    for index, inputs in chunk:
        e = _prover.execute(inputs)
        if not _executed:
            _executed = True
            release()  # what synthesizing the keys freed goes back before the next rows
        # Traces cannot leave this process; the parent gets outputs and timings.
        out.append((index, Executed(e.outputs, e.authorize_seconds, e.execute_seconds, e.transitions)))
    return out


def worker_count(rows: int, cores: int | None = None) -> int:
    """How many worker processes `rows` rows deserve on this machine (0: run in-process)."""
    cores = cores or os.cpu_count() or 1
    return min(cores, rows // MIN_ROWS_PER_WORKER)


def execute_rows(
    aleo_sources: list[str],
    function: str,
    keys: dict[FunctionKey, FunctionKeys],
    rows: list[tuple[int, Sequence[str]]],
    workers: int,
    on_row: Callable[[int, Executed], None] | None = None,
) -> list[Executed]:
    """Execute `rows` (index, Aleo inputs) in `workers` processes; outcomes in row order.

    `keys` maps (program, function) to the keys of every function: proving keys given as
    files are read by each worker, else each synthesizes its own.

    `on_row(index, executed)` is called in the parent as each row completes (for progress).
    A halt in any row raises the worker's error here, and the pool is terminated.
    """
    chunks = [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]
    done: dict[int, Executed] = {}
    # An executor, not multiprocessing.Pool: a worker that dies (killed, out of memory)
    # breaks the executor and raises here, where a Pool would wait forever for its rows.
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init,
        initargs=(aleo_sources, function, keys),
    )
    finished_all = False
    try:
        pending = {pool.submit(_run_chunk, chunk) for chunk in chunks}
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                for index, executed in future.result():
                    done[index] = executed
                    if on_row:
                        on_row(index, executed)
        finished_all = True
    except BrokenProcessPool:
        raise ZkError(
            f"a worker process executing rows died ({len(done)} of {len(rows)} executions done); nothing was saved. "
            "Run again, or with --workers 1 to execute in one process"
        ) from None
    finally:
        if finished_all:
            pool.shutdown(wait=True)
        else:
            stop_pool(pool)
    return [done[index] for index, _ in rows]


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Shut the pool down now: queued work cancelled, its running workers terminated (an
    interrupt or an error must not wait for results nobody will read). Only the pool's own
    processes: another pool of this process (the linked prover's) is left alone."""
    workers = list((getattr(pool, "_processes", None) or {}).values())  # private: no public accessor
    pool.shutdown(wait=False, cancel_futures=True)
    for w in workers:
        if w.is_alive():
            w.terminate()
    for w in workers:
        w.join(timeout=5)
