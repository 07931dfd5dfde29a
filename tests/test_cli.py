"""The command line as a newcomer uses it: bad flags, several files to check, unreadable
saved runs, interruptions. Every mistake is one clear message and exit status 2."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from workbench import cli
from workbench.results import RunDirectory

ROOT = Path(__file__).resolve().parent.parent
IRIS = ROOT / "experiments" / "iris_decision_tree.toml"
FIXTURE_RUNS = Path(__file__).resolve().parent / "tui" / "fixtures" / "results"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--samples", "x"], "argument --samples: expected an integer >= 1, found 'x'"),
        (["--samples", "0"], "argument --samples: expected an integer >= 1, found 0"),
        (["--proofs", "-1"], "argument --proofs: expected an integer >= 0, found -1"),
        (["--proofs", "1.5"], "argument --proofs: expected an integer >= 0, found '1.5'"),
        (["--workers", "0"], "argument --workers: expected an integer >= 1, found 0"),
        (["--batch", "65"], 'argument --batch: expected "auto" or an integer from 1 to 64, found \'65\''),
        (["--batch", "many"], 'argument --batch: expected "auto" or an integer from 1 to 64, found \'many\''),
        (["--smaples", "3"], "unrecognized arguments: --smaples 3"),
    ],
)
def test_bad_run_flags_exit_2_with_the_flag_and_what_was_expected(
    flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", str(IRIS), *flags])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "_at_least" not in err and "_batch" not in err and "Traceback" not in err  # no internal names


def test_check_loads_the_data_and_plans_every_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "d.csv").write_text("a,b,label\n1,2,0\n3,,1\n")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[experiment]\nname = "bad"\n[dataset]\nname = "csv"\npath = "d.csv"\ntarget = "label"\n'
        '[model]\nalgorithm = "decision_tree_classifier"\n'
    )
    assert cli.main(["check", str(IRIS), str(bad)]) == 2
    out, err = capsys.readouterr()
    # The good file is planned (its constraints estimated); the bad one fails on its data,
    # which a file-only check cannot see.
    assert "iris_decision_tree.toml: ok (decision_tree_classifier on iris: 120 training / 30 test rows" in out
    assert "plan: 1 program(s), 1 row(s) per execution, about" in out and "1/2 experiment files ok" in out
    assert f'{tmp_path / "d.csv"}:3:2: column "b": missing value' in err
    assert cli.main(["check", "--quick", str(bad)]) == 0
    assert "ok (decision_tree_classifier on csv; file only)" in capsys.readouterr().out


def test_check_refuses_a_model_too_big_before_proving(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "big.toml"
    big.write_text(
        '[experiment]\nname = "big"\n[dataset]\nname = "digits"\n'
        '[model]\nalgorithm = "mlp_classifier"\nhidden_layer_sizes = [64]\nmax_iter = 5\n'
    )
    assert cli.main(["check", str(big)]) == 2
    err = capsys.readouterr().err
    assert "constraints" in err and "Traceback" not in err


def test_compare_skips_unreadable_runs_with_a_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "results"
    shutil.copytree(FIXTURE_RUNS, root)
    broken = root / "iris_decision_tree" / "20260109-120000-zzzz"
    broken.mkdir()
    (broken / "result.json").write_text("{truncated")
    assert cli.main(["compare", "--results", str(root)]) == 0
    out, err = capsys.readouterr()
    assert f"skipped {broken}: " in err and "corrupt JSON" in err
    assert "20260101-120000-aaaa" in out and "zzzz" not in out


def test_a_refused_run_leaves_no_directory_behind(tmp_path: Path) -> None:
    run = RunDirectory(tmp_path, "exp", "r1")
    run.path("leo/x.leo").write_text("x")
    run.discard()
    assert list(tmp_path.iterdir()) == []  # neither the staging directory nor an empty experiment directory
    keep = RunDirectory(tmp_path, "exp", "r2")
    (tmp_path / "exp" / "20260101-000000-aaaa").mkdir()  # another run's directory
    keep.discard()
    assert [p.name for p in (tmp_path / "exp").iterdir()] == ["20260101-000000-aaaa"]


def test_verify_of_a_missing_or_empty_run_fails_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["verify", str(tmp_path / "nope")]) == 2
    assert "no such directory" in capsys.readouterr().err
    assert cli.main(["verify", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  result.json" in out and "no such file" in out and "0/0 proofs verified" in out
