"""Setup files beyond the shipped degree 2^16: detection, checked installs, `[zk] setup`.

Nothing larger than 2^16 can be proven (or even had) on the test machine, so these test the
plumbing: the acceptance path with the real shipped degree-16 file (installed from a
renamed copy), the refusals with truncated and altered copies and a fake file under the
right name, and planning against a degree whose files are reported intact (the survey is
replaced). Every test runs with a temporary HOME: nothing touches the real ~/.aleo.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from support import EXPERIMENTS

from workbench import cli
from workbench.experiment import load_experiment
from workbench.limits import SRS_DEGREE, planning_budget, setup_limits
from workbench.pipeline import run_experiment
from workbench.reference_prover import ReferenceProver
from workbench.results import RunResult
from workbench.snarkvm import setup_files
from workbench.snarkvm.setup_files import (
    SETUP_FILES,
    FileState,
    FileStatus,
    InstallRefused,
    SetupNotInstalled,
    choose,
    files_for,
    install,
    installed_degree,
    survey,
)

SHIPPED = Path(setup_files.__file__).parent / "params" / "powers-of-beta-16.usrs.84631bc"
BY_NAME = {f.name: f for f in SETUP_FILES}
# An MLP on the digits estimated at ~17,200 constraints: over 2^16's budget, and not splittable.
BIG_MLP = (
    '[experiment]\nname = "big"\n[dataset]\nname = "digits"\n'
    '[model]\nalgorithm = "mlp_classifier"\nhidden_layer_sizes = [64]\nmax_iter = 5\n'
)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary HOME: ~/.aleo/resources is tmp_path/home/.aleo/resources."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    assert setup_files.resources_dir() == home / ".aleo" / "resources"
    return home


def _resources(home: Path) -> Path:
    path = home / ".aleo" / "resources"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pretend_installed(monkeypatch: pytest.MonkeyPatch, degree: int) -> None:
    """Report every file up to `degree` intact (no real file of degree 17+ exists here)."""
    real = setup_files.survey

    def fake(directory: Path | None = None) -> tuple[FileStatus, ...]:
        return tuple(
            FileStatus(s.file, FileState.INTACT, s.path) if s.file.degree <= degree else s for s in real(directory)
        )

    monkeypatch.setattr(setup_files, "survey", fake)


def test_the_table_is_snarkvms_names_and_the_shipped_file_matches_it() -> None:
    assert BY_NAME["powers-of-beta-16"].filename == SHIPPED.name
    assert BY_NAME["powers-of-beta-16"].size == SHIPPED.stat().st_size
    assert f'{BY_NAME["powers-of-beta-16"].sha256}  {SHIPPED.name}' in (SHIPPED.parent / "SHA256SUMS").read_text()
    assert BY_NAME["shifted-powers-of-beta-17"].filename == "shifted-powers-of-beta-17.usrs.2025178"
    # Each chunk of degree k holds 2^(k-1) uncompressed G1 points (96 bytes) and a length prefix.
    assert all(f.size == 96 * 2 ** (f.degree - 1) + 8 for f in SETUP_FILES)
    assert [f.name for f in files_for(16)] == ["powers-of-beta-16"]
    assert [f.name for f in files_for(17)] == ["powers-of-beta-16", "powers-of-beta-17", "shifted-powers-of-beta-17"]
    assert len(files_for(20)) == len(SETUP_FILES) == 9


def test_an_empty_home_has_the_shipped_degree_only(home: Path) -> None:
    states = survey()
    assert all(s.state == FileState.MISSING for s in states)
    assert installed_degree(states) == SRS_DEGREE == choose("installed").degree
    assert not (home / ".aleo").exists()  # looking writes nothing


def test_a_degree_counts_only_when_all_its_files_are_intact(home: Path) -> None:
    def states(intact: set[str]) -> list[FileStatus]:
        return [FileStatus(f, FileState.INTACT if f.name in intact else FileState.MISSING, home / f.filename)
                for f in SETUP_FILES]

    assert installed_degree(states({"powers-of-beta-17"})) == 16  # the shifted chunk is missing
    assert installed_degree(states({"powers-of-beta-17", "shifted-powers-of-beta-17"})) == 17
    # Degree 18 without 17's files is no degree 18: snarkVM loads every chunk up to it.
    assert installed_degree(states({"powers-of-beta-18", "shifted-powers-of-beta-18"})) == 16


def test_installing_the_shipped_file_from_a_renamed_copy(home: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "downloads" / "srs16.bin"
    copy.parent.mkdir()
    shutil.copy(SHIPPED, copy)
    assert cli.main(["setup", "install", str(copy)]) == 0
    target = home / ".aleo" / "resources" / SHIPPED.name
    assert target.read_bytes() == SHIPPED.read_bytes()
    assert f"installed {target} (3.1 MB, SHA-256 checked) from {copy}" in capsys.readouterr().out
    assert [p.name for p in target.parent.iterdir()] == [SHIPPED.name]  # no temporary file left
    assert install(copy).already  # a second install finds it in place


def test_a_truncated_file_is_refused_before_anything_is_copied(home: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "powers-of-beta-17.usrs"
    bad.write_bytes(SHIPPED.read_bytes()[:1000])
    assert cli.main(["setup", "install", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert f"workbench setup install: error: {bad}: not a good powers-of-beta-17.usrs.7c27308: " in err
    assert "expected 6,291,464 bytes, found 1,000" in err and "Traceback" not in err
    assert not (home / ".aleo").exists()


def test_an_altered_file_is_refused_with_both_hashes(tmp_path: Path) -> None:
    data = bytearray(SHIPPED.read_bytes())
    data[1000] ^= 1
    altered = tmp_path / SHIPPED.name
    altered.write_bytes(bytes(data))
    with pytest.raises(InstallRefused, match=r"expected SHA-256 84631bc11e1a6db9\.\.\., found [0-9a-f]{16}\.\.\."):
        install(altered)


def test_unknown_files_are_refused_by_name_and_skipped_in_a_directory(home: Path, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a setup file")
    assert cli.main(["setup", "install", str(notes)]) == 2
    assert "not a setup file the workbench knows" in capsys.readouterr().err
    big = tmp_path / "powers-of-beta-23.usrs"
    big.write_bytes(b"x")
    with pytest.raises(InstallRefused, match="powers-of-beta-23 is not in the workbench's table"):
        install(big)

    folder = tmp_path / "folder"
    folder.mkdir()
    shutil.copy(SHIPPED, folder / SHIPPED.name)
    shutil.copy(notes, folder / "notes.txt")
    (folder / "shifted-powers-of-beta-17.usrs.2025178").write_bytes(b"\0" * 10)
    assert cli.main(["setup", "install", str(folder)]) == 2  # one recognised file was refused
    out, err = capsys.readouterr()
    assert f"installed {home / '.aleo' / 'resources' / SHIPPED.name}" in out
    assert f"skipped {folder / 'notes.txt'}: not a setup file" in out
    assert "shifted-powers-of-beta-17.usrs.2025178: expected 6,291,464 bytes, found 10" in err
    assert not (home / ".aleo" / "resources" / "shifted-powers-of-beta-17.usrs.2025178").exists()
    assert cli.main(["setup", "install", str(tmp_path / "nowhere")]) == 2
    assert "nowhere: no such file or directory" in capsys.readouterr().err


def test_a_fake_file_under_the_right_name_is_shown_corrupt_and_never_used(home: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    resources = _resources(home)
    fake = BY_NAME["powers-of-beta-17"]
    (resources / fake.filename).write_bytes(b"\0" * fake.size)  # right name and size, wrong content
    shifted = BY_NAME["shifted-powers-of-beta-17"]
    (resources / shifted.filename).write_bytes(b"\0" * 5)
    states = {s.file.name: s for s in survey()}
    assert states[fake.name].state == FileState.CORRUPT and "expected SHA-256 7c27308fddb11be4" in states[fake.name].problem
    assert states[shifted.name].state == FileState.CORRUPT

    choice = choose("installed")
    assert choice.degree == 16 and {s.file.name for s in choice.corrupt} == {fake.name, shifted.name}
    with pytest.raises(SetupNotInstalled, match=r"\[zk\] setup = 17: the degree-2\^17 setup is not installed"
                                                r"[\s\S]*powers-of-beta-17\.usrs\.7c27308 \(6\.3 MB\) corrupt"):
        choose(17)
    with pytest.raises(SetupNotInstalled, match="snarkVM would fail on a corrupt file rather than download it"):
        choose("download")

    assert cli.main(["setup"]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"{re.escape(fake.filename)} +6,291,464  7c27308fddb1  CORRUPT, not used: expected SHA-256", out)
    assert "not installed: 2 corrupt" in out
    assert "packaged (installed before the first proof)" in out  # degree 16: not in this HOME yet
    assert 'Runs plan against 2^16 with [zk] setup = "installed"' in out


def test_setup_lists_every_degree_with_its_budget(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["setup", "list"]) == 0
    out = capsys.readouterr().out
    for d in range(16, 21):
        assert f"2^{d}" in out and f"about {planning_budget(d):,}" in out
    assert "ready (ships with the workbench)" in out and "not installed: 8 file(s) missing" in out


def test_a_model_over_the_installed_setup_is_refused_with_the_files_it_needs(
    write_toml, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    big = write_toml(BIG_MLP)
    assert cli.main(["check", str(big)]) == 2
    err = capsys.readouterr().err
    # Split into a chain of calls, one neuron already fills a link; in one transition it
    # needs more than the installed setup holds.
    assert "the degree-2^16 setup planned against proves at most about 16,210" in err
    assert "The degree-2^18 setup would hold it in one transition (about 64,840 per transition)" in err
    assert "powers-of-beta-17.usrs.7c27308 (6.3 MB), shifted-powers-of-beta-17.usrs.2025178 (6.3 MB)" in err
    assert "`workbench setup install FILE|DIR`" in err and '[zk] setup = "download"' in err

    assert cli.main(["check", str(big), "--setup", "17"]) == 2
    err = capsys.readouterr().err
    assert "workbench: setup not installed:\n--setup = 17: the degree-2^17 setup is not installed" in err
    assert "powers-of-beta-17.usrs.7c27308 (6.3 MB) missing; shifted-powers-of-beta-17.usrs.2025178 (6.3 MB) missing" in err

    # Allowed to download, it is planned as one transition against the largest setup.
    assert cli.main(["check", str(big), "--setup", "download"]) == 0
    out = capsys.readouterr().out
    limit = planning_budget(20)
    assert "plan: 1 program(s)" in out and f"(setup 2^20: {limit:,} per transition, downloads allowed))" in out

    # Installed, 2^17 holds its constraints in one transition but not its 185,000 or so
    # non-zeros of A (at most 131,072): the network is split across two there.
    _pretend_installed(monkeypatch, 17)
    assert cli.main(["check", str(big)]) == 0
    assert "plan: 2 program(s), 1 row(s) per execution" in capsys.readouterr().out


def test_the_setup_flag_is_checked(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["check", "x.toml", "--setup", "21"])
    assert exit_.value.code == 2
    assert "argument --setup: expected \"installed\", \"download\" or an integer degree from 16 to 20, found '21'" in (
        capsys.readouterr().err
    )


def test_a_run_plans_against_the_chosen_degree_and_records_it(write_toml, monkeypatch: pytest.MonkeyPatch) -> None:
    # 32 trees of the wine forest are estimated just over 2^16's budget: split there, one
    # transition with the degree-17 files (reported intact).
    text = (EXPERIMENTS / "wine_random_forest_40.toml").read_text().replace("n_estimators = 40", "n_estimators = 32")
    exp = load_experiment(write_toml(text))
    result, _ = run_experiment(exp, None, samples=1, proofs=0, prover=ReferenceProver.factory())
    assert result.circuit.setup_degree == 16 and result.circuit.chain is not None

    _pretend_installed(monkeypatch, 17)
    result, _ = run_experiment(exp, None, samples=1, proofs=0, prover=ReferenceProver.factory())
    assert result.circuit.setup_degree == 17 and result.circuit.chain is None and result.circuit.transitions == 1
    assert result.circuit.functions[0].constraints <= setup_limits(17).constraints
    # The flag overrides the file: back to the shipped degree, split again.
    result, _ = run_experiment(exp, None, samples=1, proofs=0, setup=16, prover=ReferenceProver.factory())
    assert result.circuit.setup_degree == 16 and result.circuit.chain is not None
    assert json.loads(json.dumps(result.to_dict()))["circuit"]["setup_degree"] == 16
    # Downloads allowed: one transition, planned against the largest setup of the table.
    result, _ = run_experiment(exp, None, samples=1, proofs=0, setup="download", prover=ReferenceProver.factory())
    assert result.circuit.setup_degree == 20 and result.circuit.chain is None


def test_an_old_result_without_a_setup_degree_reads_as_the_shipped_one() -> None:
    fixture = next((Path(__file__).parent / "tui" / "fixtures" / "results").rglob("result.json"))
    data = json.loads(fixture.read_text())
    data["circuit"].pop("setup_degree", None)
    assert RunResult.from_dict(data).circuit.setup_degree == 16
