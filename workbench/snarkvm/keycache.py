"""On-disk cache of proving and verifying keys, so a second run skips key synthesis.

Keys are stored under `<cache>/<key-id>/<program>.<function>.{prover,verifier}` where
`key-id` hashes the compiled Aleo programs of a model together with the aleo-sdk version (a new
snarkVM may synthesize different keys). The cache directory is `$WORKBENCH_CACHE_DIR` if
set, else `$XDG_CACHE_HOME/zkml-workbench/keys`, else `~/.cache/zkml-workbench/keys`.

Writers write each file to a unique temporary name and rename it into place, and the
verifier is renamed last: a reader that finds the verifier finds a complete prover too,
and two runs at once never read a half-written key (the later rename simply replaces an
identical file).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from workbench.atomic import write_bytes_atomic
from workbench.prover import FunctionKeys


def cache_dir() -> Path:
    """The root of the key cache (documented in the module docstring and README)."""
    if os.environ.get("WORKBENCH_CACHE_DIR"):
        return Path(os.environ["WORKBENCH_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "zkml-workbench" / "keys"


def key_id(aleo_sources: list[str], sdk_version: str) -> str:
    """Identifies the keys of compiled programs (a model's, in order) under one aleo-sdk version."""
    h = hashlib.sha256()
    h.update(sdk_version.encode())
    for source in aleo_sources:
        h.update(b"\0")
        h.update(source.encode())
    return h.hexdigest()[:32]


class KeyCache:
    """Keys of one model's compiled programs, read from and written to the cache directory."""

    def __init__(self, aleo_sources: list[str], sdk_version: str, root: Path | None = None) -> None:
        self.dir = (root or cache_dir()) / key_id(aleo_sources, sdk_version)

    def _paths(self, program: str, function: str) -> tuple[Path, Path]:
        stem = f"{program}.{function}"
        return self.dir / f"{stem}.prover", self.dir / f"{stem}.verifier"

    def load(self, program: str, function: str) -> FunctionKeys | None:
        """The cached keys, or None when absent or unreadable (then they are synthesized again)."""
        prover, verifier = self._paths(program, function)
        try:
            if not verifier.is_file():  # renamed last: its presence means both are complete
                return None
            return FunctionKeys(prover=prover.read_bytes(), verifier=verifier.read_bytes())
        except OSError:
            return None

    def store(self, program: str, function: str, keys: FunctionKeys) -> None:
        """Save keys (prover first, verifier last)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        prover, verifier = self._paths(program, function)
        write_bytes_atomic(prover, keys.prover)
        write_bytes_atomic(verifier, keys.verifier)


def clear(root: Path | None = None) -> tuple[int, int]:
    """Delete every cached key (and the cached overhead counts); returns (programs removed, bytes freed)."""
    root = root or cache_dir()
    if not root.is_dir():
        return 0, 0
    programs, size = 0, 0
    for entry in root.iterdir():
        if entry.is_dir():
            size += sum(f.stat().st_size for f in entry.rglob("*") if f.is_file())
            shutil.rmtree(entry, ignore_errors=True)
            programs += 1
        else:
            size += entry.stat().st_size
            entry.unlink(missing_ok=True)
    return programs, size
