"""The universal setup files snarkVM proves with, beyond the shipped degree 2^16.

What snarkVM needs, per degree (read in snarkVM's source; summarised in docs/setup-files.md):

- The powers of beta come in chunks. `powers-of-beta-15` (2^15 powers) is compiled into
  snarkVM; `powers-of-beta-k` for k >= 16 holds the 2^(k-1) powers from 2^(k-1) to 2^k and
  is read from `~/.aleo/resources/powers-of-beta-k.usrs.<sha7>`, downloaded there when
  missing. Reaching 2^d powers loads every chunk 16..d, so degree d needs all of them.
- Degree bounds are enforced with *shifted* powers (the top powers below 2^28). snarkVM
  compiles in `shifted-powers-of-beta-15` and `-16` (2^16 shifted powers in all); a circuit
  whose variable or non-zero domain exceeds 2^16 also loads `shifted-powers-of-beta-17`
  and up, to the same degree as its normal powers at most. Degree d >= 17 therefore asks
  for `shifted-powers-of-beta-17..d` too: a circuit near degree d's budget has more than
  2^(d-1) non-zero entries (they run two to three times the constraints), which is when
  the shifted chunk d is loaded.
- snarkVM checks each file's size and SHA-256 when it loads it: a file of the wrong size
  is deleted, one with the wrong hash is an error, and a missing one is downloaded. So a
  corrupt file is never used by the workbench either: it is shown, and not counted.

The table (`SETUP_FILES`) is snarkVM's `*.metadata` for each file, the one place the
workbench writes down the files beyond the shipped one (whose hash params/SHA256SUMS also
holds; a test checks that they agree). Checking a 50 MB file takes a fraction of a
second; results are cached by path, size and modification time.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

from workbench.atomic import write_bytes_atomic
from workbench.errors import UserError
from workbench.limits import (
    MAX_SETUP_DEGREE,
    SETUP_DOWNLOAD,
    SETUP_INSTALLED,
    SRS_DEGREE,
    CircuitShape,
    Quantity,
    planning_budget,
    setup_limits,
)
from workbench.snarkvm.params import resources_dir, sha256_file


@dataclass(frozen=True)
class SetupFile:
    """One file of the universal setup, as snarkVM's metadata describes it."""

    name: str  # e.g. "powers-of-beta-17"
    degree: int  # the degree that first needs it
    shifted: bool  # a chunk of the shifted powers (degree bounds) rather than the normal powers
    size: int  # bytes
    sha256: str

    @property
    def filename(self) -> str:
        """The name snarkVM looks for in ~/.aleo/resources: `<name>.usrs.<first 7 hex of sha256>`."""
        return f"{self.name}.usrs.{self.sha256[:7]}"

    @property
    def megabytes(self) -> str:
        return f"{self.size / 1e6:.1f} MB"


# From snarkVM's parameters/src/mainnet/resources/*.metadata (the same files as testnet3's);
# see docs/setup-files.md for where each was read.
SETUP_FILES: tuple[SetupFile, ...] = (
    SetupFile("powers-of-beta-16", 16, False, 3_145_736,
              "84631bc11e1a6db99db085a8de586014e7dd10e97b42cbd766c105dea014bbd1"),
    SetupFile("powers-of-beta-17", 17, False, 6_291_464,
              "7c27308fddb11be496e4dd43ee4ae2adb31051b715bb7c0c48656a9be6fec676"),
    SetupFile("shifted-powers-of-beta-17", 17, True, 6_291_464,
              "20251789535c798606a205d04dea8a3a46a2c79e4e7f450e48a99285112bef6c"),
    SetupFile("powers-of-beta-18", 18, False, 12_582_920,
              "7a12bcb6de982aa3010dde16a7be73ec399a46717b37ea189112ef14f4c88cca"),
    SetupFile("shifted-powers-of-beta-18", 18, True, 12_582_920,
              "9a1859e01968284239e3ca3e33246a6a1af35aee1ccc82990ff5af4c3b50cac4"),
    SetupFile("powers-of-beta-19", 19, False, 25_165_832,
              "e535d44614ef8e667ac39132cad61516dc4dcbce62d74c396b670b21c9b4e16a"),
    SetupFile("shifted-powers-of-beta-19", 19, True, 25_165_832,
              "662e3437feba9da7d1206f4cfa9297c2835124a639c9f6c5ce3e0da81f55658c"),
    SetupFile("powers-of-beta-20", 20, False, 50_331_656,
              "3daad5ed5b5b7108b46bf1d0639a0d6e06deee4c784730ec9672e8cf1184e923"),
    SetupFile("shifted-powers-of-beta-20", 20, True, 50_331_656,
              "dbb509d0889c61f1b5f6e1cc3b3e8b7f9c9d4f7741efedcb3b76cf462d94e698"),
)

#: Every degree the table covers, smallest first (16 is the one the workbench ships).
DEGREES: tuple[int, ...] = tuple(range(SRS_DEGREE, MAX_SETUP_DEGREE + 1))

# `[zk] setup` values besides an integer degree (validated in workbench/experiment.py).
INSTALLED = SETUP_INSTALLED
DOWNLOAD = SETUP_DOWNLOAD

# A name a user may have given a setup file: snarkVM's, or without the hash or `.usrs`.
_NAME = re.compile(r"^(?P<name>(?:shifted-)?powers-of-beta-(?P<degree>\d+))(?:\.usrs)?(?:\.[0-9a-f]{7})?$")

_BY_NAME = {f.name: f for f in SETUP_FILES}
_BY_HASH = {f.sha256: f for f in SETUP_FILES}
_SIZES = {f.size for f in SETUP_FILES}


def files_for(degree: int) -> tuple[SetupFile, ...]:
    """Every file snarkVM may load to prove a circuit of degree up to 2^`degree`.

    Degree 16 needs only `powers-of-beta-16` (its shifted powers are compiled into snarkVM).
    """
    return tuple(f for f in SETUP_FILES if f.degree <= degree)


class FileState(StrEnum):
    """What is at a setup file's place in ~/.aleo/resources."""

    INTACT = "installed"
    MISSING = "missing"
    CORRUPT = "corrupt"


@dataclass(frozen=True)
class FileStatus:
    """One setup file's state on this machine; `problem` says why a corrupt file is."""

    file: SetupFile
    state: FileState
    path: Path
    problem: str = ""


@lru_cache(maxsize=64)
def _cached_sha256(path: str, size: int, mtime_ns: int) -> str:
    # Keyed by size and mtime as well, so a file replaced in place is hashed again.
    return sha256_file(Path(path))


def file_sha256(path: Path) -> str:
    """SHA-256 of a file (cached while its size and modification time stay the same)."""
    st = path.stat()
    return _cached_sha256(str(path), st.st_size, st.st_mtime_ns)


def mismatch(path: Path, expected: SetupFile) -> str:
    """Why `path` is not `expected` ("" if it is): the size, else the SHA-256, expected vs found."""
    size = path.stat().st_size
    if size != expected.size:
        return f"expected {expected.size:,} bytes, found {size:,}" + (" (truncated?)" if size < expected.size else "")
    digest = file_sha256(path)
    if digest != expected.sha256:
        return f"expected SHA-256 {expected.sha256[:16]}..., found {digest[:16]}..."
    return ""


def status(file: SetupFile, directory: Path | None = None) -> FileStatus:
    """The state of `file` in `directory` (default ~/.aleo/resources)."""
    path = (directory or resources_dir()) / file.filename
    if not path.is_file():
        return FileStatus(file, FileState.MISSING, path)
    try:
        problem = mismatch(path, file)
    except OSError as exc:
        problem = f"cannot read: {exc.strerror}"
    return FileStatus(file, FileState.CORRUPT if problem else FileState.INTACT, path, problem)


def survey(directory: Path | None = None) -> tuple[FileStatus, ...]:
    """The state of every file of the table."""
    return tuple(status(f, directory) for f in SETUP_FILES)


def usable(degree: int, states: Iterable[FileStatus]) -> bool:
    """Whether every file degree `degree` needs is intact. The degree-16 file always is: it
    ships with the workbench and is installed (`params.ensure_installed`, which also replaces
    a corrupt copy) before anything is proven."""
    return not lacking(degree, states)


def lacking(degree: int, states: Iterable[FileStatus]) -> list[FileStatus]:
    """The files degree `degree` needs beyond the shipped one that are missing or corrupt."""
    by_name = {s.file.name: s for s in states}
    return [by_name[f.name] for f in files_for(degree)
            if f.degree > SRS_DEGREE and by_name[f.name].state != FileState.INTACT]


def installed_degree(states: Iterable[FileStatus] | None = None) -> int:
    """The largest degree whose files are all installed and intact (16 at least)."""
    states = tuple(states) if states is not None else survey()
    return max(d for d in DEGREES if usable(d, states))


def smallest_degree_for(size: int | CircuitShape) -> int | None:
    """The smallest degree of the table whose transitions hold `size` (a constraint count,
    or every size of a circuit, each against its own limit), or None."""
    if isinstance(size, int):
        return next((d for d in DEGREES if size <= planning_budget(d)), None)
    return next(
        (d for d in DEGREES if not setup_limits(d).capped(Quantity.CONSTRAINTS, planning_budget(d)).over(size)), None
    )


def _listing(files: Iterable[SetupFile]) -> str:
    return ", ".join(f"{f.filename} ({f.megabytes})" for f in files)


INSTALL_HOW = (
    "Install them with `workbench setup install FILE|DIR` (copies from a machine that has them in ~/.aleo/resources), "
    "or set `[zk] setup = \"download\"` to let snarkVM fetch them when online"
)


def larger_setup_advice(size: int | CircuitShape, degree: int, downloads: bool = False) -> str:
    """One or two sentences for a refusal: which setup would hold `size` (constraints, or
    every size of the circuit) in one transition, which of its files are not installed
    (names and sizes) and how to add them."""
    needed = smallest_degree_for(size)
    if needed is None:
        return (
            f"No setup the workbench knows holds that many in one transition (the largest, degree "
            f"2^{MAX_SETUP_DEGREE}, about {planning_budget(MAX_SETUP_DEGREE):,})."
        )
    if needed <= degree:
        return ""
    if downloads:
        return f"The degree-2^{needed} setup would hold it (about {planning_budget(needed):,} per transition)."
    missing = [s.file for s in lacking(needed, survey())]
    return (
        f"The degree-2^{needed} setup would hold it in one transition (about {planning_budget(needed):,} per "
        f"transition); it needs {_listing(missing)}. {INSTALL_HOW}."
    )


class SetupNotInstalled(UserError):
    """A setup degree was asked for whose files are not all installed and intact."""

    title = "setup not installed"


@dataclass(frozen=True)
class SetupChoice:
    """The degree a run plans against, and whether snarkVM may download missing files."""

    degree: int
    downloads: bool
    corrupt: tuple[FileStatus, ...] = ()  # files present but not intact (ignored, and reported)


def choose(setup: str | int, where: str = "[zk] setup") -> SetupChoice:
    """Resolve a `[zk] setup` value against the files installed on this machine.

    "installed": the largest degree whose files are all installed and intact (16 at least);
    "download": the largest degree of the table, snarkVM fetching what is missing (online);
    an integer: that degree, whose files must be installed. Raises SetupNotInstalled,
    naming the missing or corrupt files and how to install them.
    """
    states = survey()
    corrupt = tuple(s for s in states if s.state == FileState.CORRUPT)
    if setup == DOWNLOAD:
        # snarkVM reads a file that is there rather than download it, and fails on a bad one.
        bad = [s for s in corrupt if s.file.degree > SRS_DEGREE]
        if bad:
            raise SetupNotInstalled(
                f"{where} = \"{DOWNLOAD}\": snarkVM would fail on a corrupt file rather than download it again: "
                + "; ".join(f"{s.path} ({s.problem})" for s in bad)
                + ". Delete it, or install a good copy with `workbench setup install FILE`."
            )
        return SetupChoice(MAX_SETUP_DEGREE, True, corrupt)
    if setup == INSTALLED:
        return SetupChoice(installed_degree(states), False, corrupt)
    degree = int(setup)
    if not usable(degree, states):
        detail = "; ".join(
            f"{s.file.filename} ({s.file.megabytes}) {'missing' if s.state == FileState.MISSING else 'corrupt: ' + s.problem}"
            for s in lacking(degree, states)
        )
        raise SetupNotInstalled(
            f"{where} = {degree}: the degree-2^{degree} setup is not installed in {resources_dir()}: {detail}. "
            f"{INSTALL_HOW}."
        )
    return SetupChoice(degree, False, corrupt)


# -- installing side-loaded files ------------------------------------------------------------
class InstallRefused(UserError):
    """A file offered to `workbench setup install` that is not a good setup file."""

    title = "setup install"


class NotASetupFile(InstallRefused):
    """A file that is no setup file by name, size or content (skipped when installing a directory)."""


@dataclass(frozen=True)
class Installed:
    """A file installed (or found already installed) under the name snarkVM expects."""

    source: Path
    file: SetupFile
    target: Path
    already: bool


def identify(path: Path) -> SetupFile:
    """The table entry `path` is, checked by size and SHA-256 before anything is copied.

    A file is recognised by its content (so a renamed copy installs), else by its name (so a
    truncated or altered copy is refused with the expected and the found size or hash).
    Raises InstallRefused naming the file.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InstallRefused(f"{path}: cannot read: {exc.strerror}") from None
    m = _NAME.match(path.name)
    named = _BY_NAME.get(m.group("name")) if m else None
    if m and named is None:
        raise InstallRefused(
            f"{path}: {m.group('name')} is not in the workbench's table of setup files (degrees {SRS_DEGREE} to "
            f"{MAX_SETUP_DEGREE}: {', '.join(f.name for f in SETUP_FILES)})"
        )
    if size in _SIZES:
        try:
            found = _BY_HASH.get(file_sha256(path))
        except OSError as exc:
            raise InstallRefused(f"{path}: cannot read: {exc.strerror}") from None
        if found is not None:
            return found
    if named is not None:
        raise InstallRefused(f"{path}: not a good {named.filename}: {mismatch(path, named)}; nothing was installed")
    raise NotASetupFile(
        f"{path}: not a setup file the workbench knows (neither its name nor its size and SHA-256 match "
        f"{', '.join(f.name for f in SETUP_FILES)})"
    )


def install(path: Path, directory: Path | None = None) -> Installed:
    """Check `path` (identify) and copy it atomically into `directory` (default
    ~/.aleo/resources) under the name snarkVM expects. Raises InstallRefused."""
    file = identify(path)
    directory = directory or resources_dir()
    target = directory / file.filename
    if target.is_file() and status(file, directory).state == FileState.INTACT:
        return Installed(path, file, target, already=True)
    data = path.read_bytes()
    # Hash what is written, not only what was checked: the source could change in between.
    if hashlib.sha256(data).hexdigest() != file.sha256:
        raise InstallRefused(f"{path}: changed while it was being installed; nothing was installed")
    directory.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(target, data)
    return Installed(path, file, target, already=False)


def candidates(directory: Path) -> tuple[list[Path], list[Path]]:
    """The files of `directory` that may be setup files (by name or size), and the rest."""
    maybe, rest = [], []
    for p in sorted(directory.iterdir()):
        if not p.is_file():
            continue
        try:
            size = p.stat().st_size
        except OSError:
            rest.append(p)
            continue
        (maybe if _NAME.match(p.name) or size in _SIZES else rest).append(p)
    return maybe, rest


@dataclass
class InstallReport:
    """What `install_paths` did: lines to print, and how many files it installed or refused."""

    lines: list[str]
    installed: int = 0
    refused: int = 0


def install_paths(paths: Iterable[Path], directory: Path | None = None,
                  on_error: Callable[[str], None] = lambda m: None) -> InstallReport:
    """Install every file named, and every recognised file of every directory named.

    A file named explicitly must be a good setup file; in a directory, files that are no
    setup file at all are reported as skipped, while a recognised but wrong or truncated one
    is refused. Each refusal goes to `on_error` (and counts) before anything of it is copied.
    """
    report = InstallReport([])

    def one(path: Path, explicit: bool) -> None:
        try:
            done = install(path, directory)
        except NotASetupFile as exc:
            if explicit:
                report.refused += 1
                on_error(str(exc))
            else:
                report.lines.append(f"skipped {path}: not a setup file")
            return
        except InstallRefused as exc:
            report.refused += 1
            on_error(str(exc))
            return
        if done.already:
            report.lines.append(f"already installed: {done.target} (intact)")
        else:
            report.installed += 1
            report.lines.append(f"installed {done.target} ({done.file.megabytes}, SHA-256 checked) from {path}")

    for path in paths:
        if path.is_dir():
            maybe, rest = candidates(path)
            for p in maybe:
                one(p, explicit=False)
            report.lines.extend(f"skipped {p}: not a setup file" for p in rest)
            if not maybe:
                report.lines.append(f"{path}: no setup files in it (names like powers-of-beta-17.usrs.7c27308)")
        elif path.exists():
            one(path, explicit=True)
        else:
            report.refused += 1
            on_error(f"{path}: no such file or directory")
    return report


# -- what `workbench setup` prints -------------------------------------------------------------
def _table(rows: list[tuple[str, ...]], right: tuple[int, ...] = ()) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
        for r in rows
    ]


def describe_degrees(states: tuple[FileStatus, ...] | None = None) -> str:
    """The degrees of the table: what each proves per transition and whether it is ready here."""
    states = states if states is not None else survey()
    rows: list[tuple[str, ...]] = [("degree", "constraints per transition", "adds files", "status")]
    for d in DEGREES:
        own = [f for f in SETUP_FILES if f.degree == d]
        absent_or_bad = lacking(d, states)
        corrupt = [s for s in absent_or_bad if s.state == FileState.CORRUPT]
        if d == SRS_DEGREE:
            state = "ready (ships with the workbench)"
        elif not absent_or_bad:
            state = "ready"
        else:
            absent = len(absent_or_bad) - len(corrupt)
            state = "not installed: " + ", ".join(
                part for part in (f"{absent} file(s) missing" if absent else "", f"{len(corrupt)} corrupt" if corrupt else "")
                if part
            )
        rows.append((f"2^{d}", f"about {planning_budget(d):,}", ", ".join(f.name for f in own), state))
    return "\n".join(_table(rows, right=(1,)))


def describe(directory: Path | None = None) -> str:
    """`workbench setup`: the degrees and what each allows, then every file and its state."""
    directory = directory or resources_dir()
    states = survey(directory)
    lines = [f"Universal setup files in {directory} (where snarkVM reads them)", "", describe_degrees(states), ""]
    rows: list[tuple[str, ...]] = [("file", "bytes", "sha256", "status")]
    for s in states:
        if s.state == FileState.INTACT:
            state = "installed"
        elif s.state == FileState.CORRUPT:
            state = f"CORRUPT, not used: {s.problem}"
            if s.file.degree == SRS_DEGREE:
                state += " (replaced by the packaged copy before the next proof)"
        elif s.file.degree == SRS_DEGREE:
            state = "packaged (installed before the first proof)"
        else:
            state = "missing"
        rows.append((s.file.filename, f"{s.file.size:,}", s.file.sha256[:12], state))
    lines += _table(rows, right=(1,))
    degree = installed_degree(states)
    lines += [
        "",
        f'Runs plan against 2^{degree} with [zk] setup = "{INSTALLED}" (the default). A larger degree needs '
        "every file of the degrees up to it.",
        "Add files with `workbench setup install FILE|DIR` (checked against the sizes and SHA-256 above), or let "
        f'snarkVM download them when online with [zk] setup = "{DOWNLOAD}".',
    ]
    if any(s.state == FileState.CORRUPT for s in states):
        lines.append("A corrupt file is ignored; delete it, or install a good copy over it.")
    return "\n".join(lines)
