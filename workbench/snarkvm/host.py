"""The snarkVM backend in a lean child process of its own (the "prover host").

A run's process holds numpy, scikit-learn and the data (about 140 MB before any snarkVM
work); snarkVM's first authorization adds about 160 MB of static parameters, a function's
keys and a proof's working memory about 150 MB more. Together they cannot stay under the
memory budget (docs/performance.md, "Memory"), so every snarkVM call of a one-program
model (topology CALL) runs in this child, which imports aleo-sdk and the workbench's
snarkVM side only (no numpy, no scikit-learn). `HostedProver` implements the `Prover`
protocol by forwarding each call over a pipe to a `SnarkVMProver` (prover.py) in the child.

- snarkVM objects never leave the child: an execution's trace and a proof's execution stay
  there, and the parent's `Executed.handle` / `Proof.handle` is a token (an int) naming
  them. Proving drops the trace, verifying the execution (a proof without a known token is
  verified from its JSON).
- The child resets its peak-memory mark at the start of each call and returns its peak
  with each reply; `memory()` reports the largest since the last call of `memory()`, so a
  run records the child's peak per stage (result.json `memory_mb.prover_process`).
- Errors raised in the child (ZkError, CircuitTooLarge, UserError...) are raised here as
  the same class with the same message. A child that dies (killed, out of memory) raises
  ZkError, never a hang.
- Ctrl-C reaches the whole process group: the child ignores it, and the parent stops the
  child when it closes the backend (the pipeline's `finally`).

Started with the "spawn" context, not fork: a forked child's resident set would count the
pages it shares with the parent, and it would inherit the parent's threads' locks.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
from dataclasses import replace
from typing import Any, Callable, Iterator, Sequence

from workbench.errors import ZkError
from workbench.kinds import ProverKind
from workbench.limits import CircuitShape
from workbench.prover import BackendMemory, Executed, FunctionKey, Proof, ProverRequest, Synthesis, Verification

# Seconds between checks that the child is alive while waiting for its reply.
POLL_SECONDS = 0.5
# Seconds the child gets to exit after being asked (then it is terminated, then killed).
EXIT_SECONDS = 10.0


class _Host:
    """The child's side: a SnarkVMProver and the snarkVM objects the parent holds tokens of."""

    def __init__(self, request: ProverRequest) -> None:
        from workbench.snarkvm.prover import SnarkVMProver

        self.prover = SnarkVMProver.open(request)
        self.objects: dict[int, Any] = {}
        self.next_token = 0

    def _keep(self, obj: Any) -> int:
        self.next_token += 1
        self.objects[self.next_token] = obj
        return self.next_token

    def _tokenized(self, e: Executed) -> Executed:
        return replace(e, handle=self._keep(e.handle)) if e.handle is not None else e

    def call(self, method: str, args: tuple) -> Any:
        from workbench import memory

        if method == "synthesize":
            s = self.prover.synthesize(*args)
            s = replace(s, first=replace(s.first, handle=None))  # the first trace is freed
            memory.release()
            return s
        if method == "execute":
            return self._tokenized(self.prover.execute(*args))
        if method == "execute_many":
            batches, workers = args
            done: list[tuple[int, Executed]] = []
            used = self.prover.execute_many(batches, workers, lambda i, e: done.append((i, e)))
            memory.release()
            return used, done
        if method == "prove":
            token, outputs, endpoint = args
            trace = self.objects.pop(token, None)
            if trace is None:
                raise ZkError("only an execution made by this backend, and not proven yet, can be proven")
            proof = self.prover.prove(Executed(outputs, 0.0, 0.0, 0, trace), endpoint)
            del trace  # the prover released what the proof freed; the trace goes with it
            return replace(proof, handle=self._keep(proof.handle))
        if method == "verify":
            token, execution_json = args
            execution = self.objects.pop(token, None) if token is not None else None
            return self.prover.verify(Proof(execution_json, 0.0, execution))
        if method == "drop":
            self.objects.pop(args[0], None)
            return None
        if method in ("functions", "constraints", "shape", "overhead", "memory"):
            return getattr(self.prover, method)(*args)
        raise ZkError(f"the prover host has no call {method!r}")


def _reply_error(conn: Any, exc: BaseException) -> None:
    """Send an exception: the workbench's and Python's own as themselves (when they can
    cross the pipe), any other (aleo-sdk's) as a ZkError naming it, which the parent can
    read without importing aleo-sdk."""
    payload = None
    if type(exc).__module__.split(".")[0] in ("workbench", "builtins"):
        try:
            payload = pickle.dumps(exc)
            pickle.loads(payload)
        except Exception:
            payload = None
    if payload is None:
        payload = pickle.dumps(ZkError(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"))
    conn.send(("error", payload, 0.0))


def _exit(signum: int, frame: Any) -> None:
    raise SystemExit(1)


def _serve(conn: Any, request: ProverRequest) -> None:
    """The child's main loop: one call per message, until "close" or the parent is gone."""
    # Ctrl-C reaches every process of the group: the parent handles it and stops this one.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Terminated (the parent closing it mid-call): exit through the `finally` below, which
    # stops the ledger stand-in; a call in progress stops its worker processes on the way.
    signal.signal(signal.SIGTERM, _exit)
    from workbench import memory
    from workbench.snarkvm.parallel import die_with_parent

    # A killed run takes its host down (through the SIGTERM handler, which stops the host's
    # own workers and ledger stand-in; they die with the host in any case).
    die_with_parent(signal.SIGTERM)

    host: _Host | None = None
    try:
        memory.reset_peak()
        try:
            host = _Host(request)
        except Exception as exc:
            _reply_error(conn, exc)
            return
        conn.send(("ok", None, round(memory.peak_mb(), 1)))
        while True:
            try:
                method, args = conn.recv()
            except (EOFError, OSError):
                return  # the parent is gone
            if method == "close":
                return
            memory.reset_peak()
            try:
                result = host.call(method, args)
            except SystemExit:
                raise
            except BaseException as exc:  # a halt surfaces as pyo3's PanicException (a BaseException)
                _reply_error(conn, exc)
                continue
            conn.send(("ok", result, round(memory.peak_mb(), 1)))
    finally:
        if host is not None:
            host.prover.close()
        conn.close()


# glibc gives each thread that allocates (snarkVM's prover runs one per core) its own arena,
# and each arena keeps what it freed: with one arena, measured on the auto-batch iris logistic
# program, key synthesis peaked 313 MB instead of 321 and a proof 315 instead of 342, for no
# visible change in time. Applies to the host and the workers it starts (they inherit it).
MALLOC_ARENAS = "1"


@contextlib.contextmanager
def _one_malloc_arena() -> Iterator[None]:
    """Set MALLOC_ARENA_MAX (unless the user set it) while a child process is started."""
    if "MALLOC_ARENA_MAX" in os.environ:
        yield
        return
    os.environ["MALLOC_ARENA_MAX"] = MALLOC_ARENAS
    try:
        yield
    finally:
        os.environ.pop("MALLOC_ARENA_MAX", None)


class HostedProver:
    """The `Prover` protocol, run by a `SnarkVMProver` in a child process (module docstring)."""

    kind = ProverKind.SNARKVM

    def __init__(self, request: ProverRequest, target: Callable[[Any, ProverRequest], None] = _serve) -> None:
        """Start the child and open the backend there (its errors are raised here).
        `target` is the child's main function (tests substitute one)."""
        ctx = multiprocessing.get_context("spawn")
        self._conn, child_conn = ctx.Pipe()
        # The quantized model and the input packing are for the reference and the linked
        # backends only: not sent (unpickling them would import numpy into the host).
        self._process = ctx.Process(target=target, args=(child_conn, replace(request, model=None, packing=None)),
                                    name="workbench-prover-host")
        with _one_malloc_arena():
            self._process.start()
        child_conn.close()  # only the child holds its end now: its death ends our reads
        self._peak: float | None = None
        self._workers_peak: float | None = None
        self._busy = False
        self._closed = False
        try:
            self._receive("start")
        except BaseException:
            self.close()
            raise

    @classmethod
    def open(cls, request: ProverRequest) -> "HostedProver":
        """The `ProverFactory` of this backend."""
        return cls(request)

    @property
    def pid(self) -> int | None:
        """The child's process id."""
        return self._process.pid

    def _receive(self, what: str) -> Any:
        self._busy = True
        while not self._conn.poll(POLL_SECONDS):
            if not self._process.is_alive():
                self._died(what)
        try:
            status, payload, peak = self._conn.recv()
        except (EOFError, OSError):
            self._died(what)
        self._busy = False
        if peak:
            self._peak = max(self._peak or 0.0, peak)
        if status == "error":
            raise pickle.loads(payload)
        return payload

    def _died(self, what: str) -> None:
        self._process.join(timeout=1)
        code = self._process.exitcode
        self._closed = True
        how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited (status {code})"
        raise ZkError(
            f"the snarkVM process (the prover host) {how} during {what}: killed, or out of memory? Nothing was saved; "
            "run again"
        ) from None

    def _call(self, method: str, *args: Any) -> Any:
        if self._closed:
            raise ZkError("the snarkVM process (the prover host) is closed")
        try:
            self._conn.send((method, args))
        except (BrokenPipeError, OSError):
            self._died(method)
        return self._receive(method)

    def functions(self) -> list[FunctionKey]:
        return self._call("functions")

    def synthesize(self, inputs: Sequence[str]) -> Synthesis:
        return self._call("synthesize", tuple(inputs))

    def execute(self, inputs: Sequence[str]) -> Executed:
        return self._call("execute", tuple(inputs))

    def execute_many(
        self, batches: Sequence[tuple[int, Sequence[str]]], workers: int, on_done: Callable[[int, Executed], None]
    ) -> int:
        # One reply for all the rows: progress shows when they are all done (executions
        # of rows not proven take well under a second each).
        used, done = self._call("execute_many", [(i, tuple(b)) for i, b in batches], workers)
        for index, executed in done:
            on_done(index, executed)
        if used >= 2:
            m = self._call("memory")
            if m.workers is not None:
                self._workers_peak = max(self._workers_peak or 0.0, m.workers)
        return used

    def constraints(self, program: str, function: str) -> int:
        return self._call("constraints", program, function)

    def shape(self, program: str, function: str) -> CircuitShape:
        return self._call("shape", program, function)

    def overhead(self, program: str, function: str) -> int | None:
        return self._call("overhead", program, function)

    def prove(self, executed: Executed, endpoint: str | None) -> Proof:
        if not isinstance(executed.handle, int):
            raise ZkError("only an execution made by this backend's `execute` can be proven")
        return self._call("prove", executed.handle, executed.outputs, endpoint)

    def verify(self, proof: Proof) -> Verification:
        token = proof.handle if isinstance(proof.handle, int) else None
        return self._call("verify", token, proof.execution_json)

    def memory(self) -> BackendMemory:
        """The child's peak since the last call, and the largest worker's it started."""
        host, workers = self._peak, self._workers_peak
        self._peak = self._workers_peak = None
        return BackendMemory(host=host, workers=workers)

    def close(self) -> None:
        """Stop the child: asked to exit when idle (it closes the ledger stand-in), else
        (an interrupt or an error mid-call) terminated, then killed if it does not exit."""
        if not self._closed and not self._busy:
            try:
                self._conn.send(("close", ()))
            except (BrokenPipeError, OSError):
                pass
        self._closed = True
        p = self._process
        p.join(timeout=EXIT_SECONDS if not self._busy else 0.1)
        if p.is_alive():
            p.terminate()
            p.join(timeout=EXIT_SECONDS)
        if p.is_alive():
            p.kill()
            p.join()
        self._conn.close()
