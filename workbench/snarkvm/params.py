"""The universal setup file snarkVM needs for proving, shipped with the package.

snarkVM looks for `~/.aleo/resources/<file>` and downloads it when missing; our machines
are offline, so we install the packaged copy there after checking its SHA-256.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

from workbench.atomic import write_bytes_atomic
from workbench.errors import WorkbenchError
from workbench.limits import SRS_DEGREE  # noqa: F401 - re-exported

SRS_FILE = "powers-of-beta-16.usrs.84631bc"


class SetupParameterError(WorkbenchError):
    """The shipped setup file is missing or corrupt."""

    title = "setup parameters"


def _expected_sha256() -> str:
    sums = resources.files("workbench.snarkvm").joinpath("params/SHA256SUMS").read_text()
    for line in sums.splitlines():
        digest, _, name = line.partition("  ")
        if name.strip() == SRS_FILE:
            return digest
    raise SetupParameterError(f"params/SHA256SUMS has no entry for {SRS_FILE}")


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in blocks (setup files run to 50 MB)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def resources_dir() -> Path:
    """Where snarkVM reads its parameters from."""
    return Path.home() / ".aleo" / "resources"


def ensure_installed() -> Path:
    """Install the degree-2^16 setup file into ~/.aleo/resources/ if it is not there intact.

    Returns the installed path. The copy is written to a temporary file and renamed, so a
    concurrent or interrupted install never leaves a truncated file for snarkVM to read.
    """
    expected = _expected_sha256()
    target = resources_dir() / SRS_FILE
    if target.is_file() and sha256_file(target) == expected:
        return target
    packaged = resources.files("workbench.snarkvm").joinpath(f"params/{SRS_FILE}")
    data = packaged.read_bytes()
    if hashlib.sha256(data).hexdigest() != expected:
        raise SetupParameterError(f"the packaged {SRS_FILE} does not match its SHA-256; reinstall the workbench")
    target.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(target, data)
    return target
