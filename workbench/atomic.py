"""Atomic file writes: readers see the old file or the new one, never half of either."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable


def _write_atomic(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Let `write` fill a temporary file in the same directory, fsync, then rename it over
    `path`; on any failure the temporary file is removed."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same directory, fsync, then rename over `path`."""
    _write_atomic(path, lambda fh: fh.write(data))


def write_ascii_atomic(path: Path, text: str, chunk: int = 1 << 20) -> None:
    """`write_bytes_atomic` of ASCII text, encoded a chunk at a time (a large text, a proving
    key's, is never copied whole)."""

    def write(fh: BinaryIO) -> None:
        for start in range(0, len(text), chunk):
            fh.write(text[start : start + chunk].encode("ascii"))

    _write_atomic(path, write)


def write_json_atomic(path: Path, data: Any) -> None:
    """`write_bytes_atomic` of indented JSON with a trailing newline."""
    write_bytes_atomic(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))
