"""Resident memory of this process: its peak per stage, and handing freed memory back.

Linux only; elsewhere the peak is the process's peak so far (getrusage) and the rest does
nothing. Imported by the run's process (`StageClock`) and by the snarkVM host process
(workbench/snarkvm/host.py), so it imports nothing heavy.
"""

from __future__ import annotations

import ctypes
import gc
import resource
from pathlib import Path


def reset_peak() -> None:
    """Reset the kernel's peak-RSS mark (VmHWM) of this process, so the next `peak_mb` is
    the peak since now, not since the process started."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_mb() -> float:
    """Peak resident memory of this process since the last `reset_peak`, in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_mb() -> float:
    """The largest peak resident memory of this process's exited (and waited for) children, in MB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


_libc: ctypes.CDLL | None | bool = None


def release() -> None:
    """Collect garbage and give the C heap's free pages back to the system (glibc's
    `malloc_trim`): after key synthesis or a proof, snarkVM's freed buffers would otherwise
    stay resident and add to the next stage's peak."""
    global _libc
    gc.collect()
    if _libc is None:
        try:
            _libc = ctypes.CDLL("libc.so.6")
            _libc.malloc_trim  # noqa: B018 - glibc only
        except (OSError, AttributeError):
            _libc = False
    if _libc:
        _libc.malloc_trim(0)  # type: ignore[union-attr]
