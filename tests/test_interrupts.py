"""Interruptions of a real `workbench run`: signals, a dead execution worker, a dead ledger
helper. Each ends with one line on stderr (no traceback), and nothing under results/: no
staging directory and no empty experiment directory; the next run works."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.snarkvm.ledger import LedgerStub

ROOT = Path(__file__).resolve().parent.parent
IRIS = ROOT / "experiments" / "iris_decision_tree.toml"


def _terminal_signals() -> None:
    # As in a terminal: a test suite started in the background by a shell without job
    # control inherits SIGINT ignored, and so would the run, which Ctrl-C then never reaches.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(results: Path, *flags: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "workbench", "run", str(IRIS), "--results", str(results), *flags],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,  # its own process group
        preexec_fn=_terminal_signals,
    )


def _wait_for(proc: subprocess.Popen[str], line: str, seen: list[str]) -> None:
    assert proc.stderr is not None
    for text in proc.stderr:
        seen.append(text)
        if line in text:
            return
    raise AssertionError(f"the run ended before {line!r}:\n{''.join(seen)}")


def _finish(proc: subprocess.Popen[str], seen: list[str]) -> tuple[int, str]:
    _, rest = proc.communicate(timeout=300)
    return proc.returncode, "".join(seen) + rest


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the direct children of `pid`."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            out.append((int(entry.name), cmd))
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "at"), [(signal.SIGTERM, "execute samples ..."), (signal.SIGHUP, "execute samples ..."),
                                         (signal.SIGINT, "prove ...")])
def test_a_signal_leaves_nothing_and_prints_one_line(tmp_path: Path, sig: signal.Signals, at: str) -> None:
    results = tmp_path / "results"
    # Three proofs: under a loaded test run the line may reach us late, and one proof
    # (about 4 s) could be over before the signal is sent.
    proc = _start(results, "--samples", "6", "--proofs", "3", "--workers", "1")
    seen: list[str] = []
    _wait_for(proc, at, seen)
    time.sleep(0.5)
    # Ctrl-C reaches the whole process group (the ledger helper too); kill(1) the run alone.
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    code, err = _finish(proc, seen)
    assert code == 130, err
    assert "Traceback" not in err
    assert err.rstrip().splitlines()[-1] == "workbench: interrupted; nothing was saved for this run"
    assert not results.exists() or list(results.iterdir()) == []


@pytest.mark.slow
def test_a_dead_execution_worker_fails_the_run_cleanly(tmp_path: Path) -> None:
    results = tmp_path / "results"
    proc = _start(results, "--samples", "30", "--proofs", "0", "--workers", "2")
    seen: list[str] = []
    _wait_for(proc, "execute samples ...", seen)
    deadline = time.monotonic() + 60
    workers: list[int] = []

    def spawned(pid: int) -> list[int]:
        return [c for c, cmd in _children(pid) if "multiprocessing" in cmd and "resource_tracker" not in cmd]

    # snarkVM runs in the prover host (the run's spawned child); the execution workers are its children.
    while not workers and time.monotonic() < deadline:
        workers = [w for host in spawned(proc.pid) for w in spawned(host)]
        time.sleep(0.2)
    assert workers, "no execution worker started"
    time.sleep(3)  # loaded its programs and keys, executing rows
    os.kill(workers[0], signal.SIGKILL)
    code, err = _finish(proc, seen)
    assert code == 1, err
    assert "a worker process executing rows died" in err and "Traceback" not in err
    assert not results.exists() or list(results.iterdir()) == []
    # The next run works.
    again = subprocess.run(
        [sys.executable, "-m", "workbench", "run", str(IRIS), "--results", str(results), "--samples", "2",
         "--proofs", "0", "-q"], capture_output=True, text=True, timeout=300,
    )
    assert again.returncode == 0, again.stderr
    assert [p.name for p in results.iterdir()] == ["iris_decision_tree"]


def test_a_dead_ledger_helper_is_noticed_and_replaced() -> None:
    from workbench.snarkvm.prover import SnarkVMProver

    class Recorder:
        endpoints: list[str] = []

        def prove(self, executed: object, endpoint: str) -> str:
            self.endpoints.append(endpoint)
            return "proof"

    prover = object.__new__(SnarkVMProver)  # no snarkVM process: only the ledger plumbing is under test
    prover.vm = Recorder()  # type: ignore[assignment]
    prover._ledger = None
    try:
        prover.prove(None, None)  # type: ignore[arg-type]
        first: LedgerStub = prover._ledger
        assert first.alive()
        first._proc.kill()  # type: ignore[union-attr]
        first._proc.wait()  # type: ignore[union-attr]
        assert not first.alive()
        prover.prove(None, None)  # type: ignore[arg-type]
        assert prover._ledger is not first and prover._ledger.alive()
        assert len(prover.vm.endpoints) == 2 and all(e.startswith("http://127.0.0.1:") for e in prover.vm.endpoints)  # type: ignore[attr-defined]
    finally:
        prover.close()
