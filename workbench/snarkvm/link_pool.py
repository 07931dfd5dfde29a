"""Run the links of a model linked by commitments, each in a snarkVM process of its own.

A link's job (`LinkJob`) loads one program into a fresh `SnarkVMProcess`, inserts its keys
from a key directory (or synthesizes them on the first execution and stores them there),
executes the link on each input it is given, optionally proves each execution, and drops
the process: a process never holds more than one link's keys. The inputs of every link are
known before any link runs (workbench/leo/carries.py), so jobs are independent.

`LinkPool` runs jobs in worker processes (spawn; aleo-sdk holds the GIL, so threads would
not run in parallel), or in this process when it has fewer than two workers. A trace
cannot leave its process, so a job that proves also executes: what comes back is outputs,
timings and execution JSON.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from workbench.errors import ZkError
from workbench.prover import Executed
from workbench.snarkvm.keycache import KeyCache
from workbench.snarkvm.parallel import stop_pool


@dataclass(frozen=True)
class LinkJob:
    """One link's work: execute its program on each input (and prove each when `ledger_url`)."""

    position: int  # the link's place in the chain, from 0
    source: str  # the link's Aleo program
    function: str  # its entry function
    key_dir: str  # where its keys are read from, or stored after synthesis (`KeyCache.dir`)
    # Per execution, the link's input literals: its struct, or (a linear model's links,
    # workbench/leo/carries.py `reads_a_slice`) its features and its struct.
    inputs: tuple[tuple[str, ...], ...]
    ledger_url: str | None = None  # prove each execution against this ledger API


@dataclass(frozen=True)
class LinkDone:
    """What a link's job returns: per input, the execution (no handle) and, when proven, its JSON."""

    position: int
    program: str
    executions: tuple[Executed, ...]
    proofs: tuple[str, ...] = ()  # execution JSON, one per input, when the job proved
    prove_seconds: tuple[float, ...] = ()
    synthesized: bool = False  # the keys were synthesized by this job (not read from key_dir)


def run_link(job: LinkJob) -> LinkDone:
    """Do one link's job in a fresh snarkVM process, dropped when the job ends."""
    from workbench.snarkvm.process import SnarkVMProcess

    vm = SnarkVMProcess([job.source], job.function)
    program = vm.program_id
    store = KeyCache.at(Path(job.key_dir))
    cached = store.load_lazily(program, job.function)
    synthesized = cached is None or not vm.insert_keys({(program, job.function): cached})
    executions, proofs, prove_seconds = [], [], []
    for literals in job.inputs:
        e = vm.execute(list(literals), program)  # the first one synthesizes the keys unless inserted
        if synthesized and not executions:
            vm.store_keys(store)
        executions.append(Executed(e.outputs, e.authorize_seconds, e.execute_seconds, e.transitions))
        if job.ledger_url is not None:
            proof = vm.prove(e, job.ledger_url, program)
            proofs.append(proof.execution_json)
            prove_seconds.append(proof.prove_seconds)
    return LinkDone(job.position, program, tuple(executions), tuple(proofs), tuple(prove_seconds), synthesized)


def _init_worker() -> None:
    import signal

    from workbench.snarkvm.parallel import die_with_parent

    # Ctrl-C reaches every process of the group: the parent handles it and stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()


# Cores per link worker. snarkVM's prover already spreads one proof over every core, so
# links proven side by side only pay where one proof leaves cores idle. Measured on 2 cores
# (docs/algorithms.md, "Memory and processes"): two link workers proved iris_knn_120 10%
# slower than one process, and the parent plus two workers held more memory than one
# process with one link's keys at a time. So 2 cores run links in-process; larger machines
# get one worker per two cores (not measured here).
CORES_PER_LINK_WORKER = 2


def link_workers(links: int, cores: int | None = None) -> int:
    """How many worker processes the links of a chain deserve (below 2: run in-process)."""
    return max(1, min((cores or os.cpu_count() or 1) // CORES_PER_LINK_WORKER, links))


class LinkPool:
    """Runs link jobs in `workers` spawned processes, kept until `close` (or in this process)."""

    def __init__(self, workers: int, runner: Callable[[LinkJob], LinkDone] = run_link) -> None:
        """`runner` does one job (a module-level function: workers import it by name)."""
        self.workers = workers
        self.runner = runner
        self._pool: ProcessPoolExecutor | None = None

    def run(self, jobs: Sequence[LinkJob], on_done: Callable[[LinkDone], None] | None = None) -> list[LinkDone]:
        """Every job's outcome, in job order; `on_done` runs here as each finishes.

        A job's error (snarkVM halting, a circuit too large) is raised here; a worker that
        dies (killed, out of memory) raises ZkError and the pool is stopped.
        """
        if self.workers < 2:
            return [self._report(self.runner(job), on_done) for job in jobs]
        pool = self._started()
        done: dict[int, LinkDone] = {}
        try:
            pending: set[Future[LinkDone]] = {pool.submit(self.runner, job) for job in jobs}
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    result = self._report(future.result(), on_done)
                    done[result.position] = result
        except BrokenProcessPool:
            self.stop()
            raise ZkError(
                f"a worker process running links died ({len(done)} of {len(jobs)} links done; killed, or out of "
                "memory?); nothing was saved. Run again, or with --workers 1 to run the links in one process"
            ) from None
        except BaseException:
            self.stop()  # an error or an interrupt must not wait for links nobody will read
            raise
        return [done[job.position] for job in jobs]

    @staticmethod
    def _report(result: LinkDone, on_done: Callable[[LinkDone], None] | None) -> LinkDone:
        if on_done is not None:
            on_done(result)
        return result

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # An executor, not multiprocessing.Pool: a worker that dies breaks the executor
            # and raises, where a Pool would wait forever for its result.
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker
            )
        return self._pool

    def close(self) -> None:
        """Let the workers finish and exit (waited for, so their peak memory is counted)."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=True)

    def stop(self) -> None:
        """Terminate this pool's workers now (never other processes)."""
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        stop_pool(pool)
