"""The prover host: snarkVM calls forwarded to a child process, errors and deaths surfaced."""

from __future__ import annotations

import os
import pickle
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from workbench.errors import UserError, ZkError
from workbench.prover import ProverRequest
from workbench.snarkvm.errors import CircuitTooLarge
from workbench.snarkvm.host import HostedProver

TINY = """program hosttiny.aleo;

function main:
    input r0 as u8.private;
    add r0 1u8 into r1;
    output r1 as u8.public;

constructor:
    assert.eq edition 0u16;
"""


def _request(source: str = TINY) -> ProverRequest:
    return ProverRequest((source,), "main", use_key_cache=False)


def _fake(conn: Any, request: ProverRequest) -> None:
    """A child standing in for the host: each call's name says what it does."""
    from workbench.snarkvm.host import _reply_error

    conn.send(("ok", None, 12.5))
    while True:
        method, args = conn.recv()
        if method == "close":
            return
        if method == "functions":
            conn.send(("ok", [("hosttiny.aleo", "main")], 20.0))
        elif method == "constraints":
            _reply_error(conn, CircuitTooLarge("hosttiny.aleo/main needs a universal setup of degree 2^17"))
        elif method == "shape":
            _reply_error(conn, UserError("a user's mistake"))
        elif method == "overhead":
            os.kill(os.getpid(), signal.SIGKILL)  # dies mid-call (as killed, or out of memory)
        elif method == "execute":
            time.sleep(600)  # hangs: only closing the backend ends it


def test_errors_in_the_child_are_raised_here_as_their_own_class() -> None:
    prover = HostedProver(_request(), target=_fake)
    try:
        assert prover.functions() == [("hosttiny.aleo", "main")]
        with pytest.raises(CircuitTooLarge, match="degree 2\\^17"):
            prover.constraints("hosttiny.aleo", "main")
        with pytest.raises(UserError, match="a user's mistake"):
            prover.shape("hosttiny.aleo", "main")
        assert prover.functions() == [("hosttiny.aleo", "main")]  # still serving after an error
        assert prover.memory().host == 20.0  # the largest peak the child reported since the start
        assert prover.memory().host is None
    finally:
        prover.close()
    assert not prover._process.is_alive()


def test_a_child_that_dies_is_a_zk_error_not_a_hang() -> None:
    prover = HostedProver(_request(), target=_fake)
    try:
        t0 = time.monotonic()
        with pytest.raises(ZkError, match="killed by signal 9 during overhead"):
            prover.overhead("hosttiny.aleo", "main")
        assert time.monotonic() - t0 < 30
        with pytest.raises(ZkError, match="closed"):
            prover.functions()
    finally:
        prover.close()


def test_closing_mid_call_stops_the_child(monkeypatch: pytest.MonkeyPatch) -> None:
    import workbench.snarkvm.host as host

    monkeypatch.setattr(host, "EXIT_SECONDS", 2.0)
    monkeypatch.setattr(host, "POLL_SECONDS", 0.2)
    prover = HostedProver(_request(), target=_fake)
    conn = prover._conn
    polls = []

    class Interrupted:
        """The pipe, whose wait for a reply is interrupted (Ctrl-C) after a second."""

        def poll(self, timeout: float) -> bool:
            polls.append(timeout)
            if len(polls) * timeout >= 1.0:
                raise KeyboardInterrupt
            return conn.poll(timeout)

        def __getattr__(self, name: str) -> Any:
            return getattr(conn, name)

    prover._conn = Interrupted()  # type: ignore[assignment]
    with pytest.raises(KeyboardInterrupt):
        prover.execute(["1u8"])  # the child hangs in this call
    t0 = time.monotonic()
    prover.close()
    assert time.monotonic() - t0 < 10 and not prover._process.is_alive()


def test_snarkvm_errors_in_the_real_host_are_zk_errors() -> None:
    with pytest.raises(ZkError, match="snarkVM rejected the compiled program"):
        HostedProver(_request("program broken.aleo;\n\nfunction main:\n    nonsense;\n"))


def test_only_the_workbench_s_and_python_s_exceptions_cross_as_themselves() -> None:
    from workbench.snarkvm.host import _reply_error

    class Conn:
        sent: Any = None

        def send(self, item: Any) -> None:
            self.sent = item

    class Foreign(BaseException):  # like pyo3's PanicException: a class the parent may not import
        pass

    Foreign.__module__ = "pyo3_runtime"
    conn = Conn()
    _reply_error(conn, Foreign("overflow in add\nbacktrace..."))
    exc = pickle.loads(conn.sent[1])
    assert type(exc) is ZkError and str(exc) == "Foreign: overflow in add"
    _reply_error(conn, ValueError("bad"))
    assert type(pickle.loads(conn.sent[1])) is ValueError


def test_the_host_imports_neither_numpy_nor_scikit_learn(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys, workbench.snarkvm.host, workbench.snarkvm.prover, workbench.snarkvm.ledger\n"
        "print(sorted(m for m in ('numpy', 'sklearn', 'textual', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
