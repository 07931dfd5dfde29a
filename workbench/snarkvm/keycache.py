"""On-disk cache of proving and verifying keys, so a second run skips key synthesis.

Keys are stored under `<cache>/<key-id>/<program>.<function>.{prover.bech32,verifier}` where
`key-id` hashes the compiled Aleo programs of a model together with the aleo-sdk version (a new
snarkVM may synthesize different keys) and the cache's format (`FORMAT`). A proving key is
stored as snarkVM's text (bech32, what `str(ProvingKey)` prints and `ProvingKey.from_string`
reads), the verifying key as its bytes. Entries of an earlier format (raw proving-key bytes)
have other key ids: they are never read, and eviction removes them in time.

A model of one program with one function (one transition) has nothing cached: its proving
key is synthesized again by every run, because writing it out would make the process that
synthesized it exceed the memory budget (docs/performance.md, "Memory"). Call chains and
models linked by commitments cache theirs (`caches_proving_keys`).

The cache directory is `$WORKBENCH_CACHE_DIR` if
set, else `$XDG_CACHE_HOME/zkml-workbench/keys`, else `~/.cache/zkml-workbench/keys`.

Writers write each file to a unique temporary name and rename it into place, and the
verifier is renamed last: a reader that finds the verifier finds a complete prover too,
and two runs at once never read a half-written key (the later rename simply replaces an
identical file).

The cache holds at most `$WORKBENCH_CACHE_MAX_MB` megabytes (default 2048; a model's keys
take about 50 MB per function offline): storing new keys evicts the least recently used models first
(a hit refreshes a model's `last-used` stamp). An evicted model's keys are simply synthesized
again by its next run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from workbench.atomic import write_ascii_atomic, write_bytes_atomic
from workbench.errors import UserError
from workbench.prover import FunctionKeys

DEFAULT_MAX_MB = 2048
# Part of every key id: entries written in another format are never read.
FORMAT = "proving keys as bech32 text"
USED_STAMP = "last-used"


def cache_dir() -> Path:
    """The root of the key cache (documented in the module docstring and README)."""
    if os.environ.get("WORKBENCH_CACHE_DIR"):
        return Path(os.environ["WORKBENCH_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "zkml-workbench" / "keys"


def max_bytes() -> int:
    """The cache's size cap in bytes, from `$WORKBENCH_CACHE_MAX_MB` (default 2048 MB)."""
    text = os.environ.get("WORKBENCH_CACHE_MAX_MB", "").strip()
    if not text:
        return DEFAULT_MAX_MB * 1_000_000
    try:
        mb = float(text)
    except ValueError:
        mb = -1.0
    if not mb >= 0:
        raise UserError(f"WORKBENCH_CACHE_MAX_MB: expected a number of megabytes >= 0, found {text!r}")
    return int(mb * 1_000_000)


@dataclass(frozen=True)
class CacheEntry:
    """One model's cached keys: its directory, size in bytes and when it was last used."""

    path: Path
    size: int
    last_used: float


def entries(root: Path | None = None) -> list[CacheEntry]:
    """Every cached model, least recently used first."""
    root = root or cache_dir()
    if not root.is_dir():
        return []
    out = []
    for d in root.iterdir():
        if not d.is_dir():
            continue
        try:
            files = [f for f in d.iterdir() if f.is_file()]
            size = sum(f.stat().st_size for f in files)
            stamp = d / USED_STAMP
            used = stamp.stat().st_mtime if stamp.exists() else max((f.stat().st_mtime for f in files), default=0.0)
        except OSError:  # removed by a concurrent run meanwhile
            continue
        out.append(CacheEntry(d, size, used))
    return sorted(out, key=lambda e: e.last_used)


def evict(limit: int, keep: Path | None = None, root: Path | None = None) -> list[CacheEntry]:
    """Remove least recently used models until the cache holds at most `limit` bytes
    (never `keep`, the model just stored); returns what was removed."""
    current = entries(root)
    total = sum(e.size for e in current)
    removed = []
    for e in current:
        if total <= limit:
            break
        if keep is not None and e.path == keep:
            continue
        shutil.rmtree(e.path, ignore_errors=True)
        total -= e.size
        removed.append(e)
    return removed


def key_id(aleo_sources: list[str], sdk_version: str) -> str:
    """Identifies the keys of compiled programs (a model's, in order) under one aleo-sdk version."""
    h = hashlib.sha256()
    h.update(FORMAT.encode())
    h.update(b"\0")
    h.update(sdk_version.encode())
    for source in aleo_sources:
        h.update(b"\0")
        h.update(source.encode())
    return h.hexdigest()[:32]


def caches_proving_keys(functions: int) -> bool:
    """Whether a model of one program with `functions` entry functions caches its proving
    keys: not when it has one (one transition; see the module docstring)."""
    return functions > 1


class KeyCache:
    """Keys of one model's compiled programs, read from and written to the cache directory."""

    def __init__(self, aleo_sources: list[str], sdk_version: str, root: Path | None = None) -> None:
        self.dir = (root or cache_dir()) / key_id(aleo_sources, sdk_version)

    @classmethod
    def at(cls, directory: Path) -> "KeyCache":
        """The cache whose keys are in `directory` (another process's `KeyCache.dir`)."""
        cache = cls.__new__(cls)
        cache.dir = directory
        return cache

    def _paths(self, program: str, function: str) -> tuple[Path, Path]:
        stem = f"{program}.{function}"
        return self.dir / f"{stem}.prover.bech32", self.dir / f"{stem}.verifier"

    def load(self, program: str, function: str) -> FunctionKeys | None:
        """The cached keys, or None when absent or unreadable (then they are synthesized again)."""
        keys = self.load_lazily(program, function)
        try:
            return None if keys is None else FunctionKeys(prover=keys.proving_text(), verifier=keys.verifier)
        except (OSError, UnicodeDecodeError):
            return None

    def load_lazily(self, program: str, function: str) -> FunctionKeys | None:
        """Like `load`, but the proving key stays on disk: its path, not its bytes."""
        prover, verifier = self._paths(program, function)
        try:
            # The verifier is renamed last: its presence means both are complete.
            if not verifier.is_file() or not prover.is_file():
                return None
            keys = FunctionKeys(prover=prover, verifier=verifier.read_bytes())
        except OSError:
            return None
        self._touch()
        return keys

    def _touch(self) -> None:
        # The stamp's mtime orders models for eviction (least recently used first).
        try:
            (self.dir / USED_STAMP).touch()
            os.utime(self.dir / USED_STAMP, (time.time(), time.time()))
        except OSError:
            pass

    def store(self, program: str, function: str, keys: FunctionKeys) -> None:
        """Save keys (prover first, verifier last); `keys.prover` must be the key's text or its file."""
        text = keys.proving_text()
        if text is None:
            raise ValueError(f"{program}/{function}: no proving key to store")
        self.dir.mkdir(parents=True, exist_ok=True)
        prover, verifier = self._paths(program, function)
        write_ascii_atomic(prover, text)
        del text
        write_bytes_atomic(verifier, keys.verifier)
        self._touch()
        evict(max_bytes(), keep=self.dir, root=self.dir.parent)


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
