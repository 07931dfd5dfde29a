"""Experiment files: good files load, every kind of mistake is reported precisely."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from workbench.experiment import ExperimentError, load_experiment
from workbench.errors import ExitCode

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"

GOOD = """
[experiment]
name = "tiny_tree"
seed = 3

[dataset]
name = "iris"
test_size = 0.3
scaling = "minmax"

[model]
algorithm = "decision_tree_classifier"
max_depth = 2

[quantization]
fractional_bits = 6
input_range = [-1.0, 2.0]

[zk]
samples = 5
proofs = 0
inputs = "public"
output = "private"
compiler = "workbench"
"""


@pytest.mark.parametrize("path", sorted(EXPERIMENTS.glob("*.toml")), ids=lambda p: p.stem)
def test_shipped_experiments_are_valid(path: Path) -> None:
    exp = load_experiment(path)
    assert exp.name == path.stem
    assert exp.sha256 and len(exp.sha256) == 64


def test_good_file_values(write_toml) -> None:
    exp = load_experiment(write_toml(GOOD))
    assert exp.name == "tiny_tree" and exp.seed == 3
    assert exp.dataset.name == "iris" and exp.dataset.test_size == 0.3 and exp.dataset.scaling == "minmax"
    assert exp.model.algorithm == "decision_tree_classifier" and exp.model.params == {"max_depth": 2}
    assert exp.quantization.fractional_bits == 6 and exp.quantization.input_range == (-1.0, 2.0)
    assert (exp.zk.samples, exp.zk.proofs, exp.zk.inputs, exp.zk.output) == (5, 0, "public", "private")
    assert exp.zk.compiler == "workbench"


def test_defaults(write_toml) -> None:
    exp = load_experiment(
        write_toml('[experiment]\nname = "d"\n[dataset]\nname = "wine"\n[model]\nalgorithm = "decision_tree_classifier"\n')
    )
    assert exp.description == "" and exp.seed == 0
    assert exp.dataset.test_size == 0.2 and exp.dataset.scaling == "standard"
    assert exp.quantization.fractional_bits is None and exp.quantization.input_range is None
    assert exp.zk.samples is None and exp.zk.proofs == 1
    assert (exp.zk.inputs, exp.zk.output, exp.zk.compiler) == ("private", "public", "auto")
    assert exp.zk.scores is False
    assert exp.zk.setup == "installed"


@pytest.mark.parametrize("value", ['"installed"', '"download"', "16", "18", "20"])
def test_setup_values(write_toml, value: str) -> None:
    exp = load_experiment(write_toml(GOOD + f"setup = {value}\n"))
    assert exp.zk.setup == (int(value) if value.isdigit() else value.strip('"'))


def _problems(path: Path) -> str:
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    return str(info.value)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("max_depth = 2", "max_dept = 2", '[model] max_dept: not a hyperparameter of decision_tree_classifier: unknown key; did you mean "max_depth"?'),
        ("seed = 3", "sed = 3", '[experiment] sed: unknown key; did you mean "seed"?'),
        ('scaling = "minmax"', 'scaling = "minmx"', '[dataset] scaling: expected one of "standard", "minmax", "none", found the string "minmx"; did you mean "minmax"?'),
        ("test_size = 0.3", "test_size = 1.5", "[dataset] test_size: expected a number between 0 and 1, found the number 1.5"),
        ("fractional_bits = 6", 'fractional_bits = "many"', '[quantization] fractional_bits: expected "auto" or an integer from 0 to 24, found the string "many"'),
        ("input_range = [-1.0, 2.0]", "input_range = [2.0, -1.0]", "[quantization] input_range: expected"),
        ("samples = 5", "samples = 0", '[zk] samples: expected "all" or an integer >= 1, found the integer 0'),
        ("proofs = 0", "proofs = true", "[zk] proofs: expected an integer >= 0, found a boolean"),
        ('inputs = "public"', 'inputs = "secret"', '[zk] inputs: expected one of "private", "public", found the string "secret"'),
        ('name = "tiny_tree"', 'name = "Tiny Tree"', "[experiment] name: expected a name of lowercase letters"),
        ('name = "iris"', 'name = "iriss"', '[dataset] name: expected one of'),
        ('algorithm = "decision_tree_classifier"', 'algorithm = "decision_tree_clasifier"', 'did you mean "decision_tree_classifier"?'),
        ("[zk]", "[zkp]", '[zkp]: unknown section; did you mean "zk"?'),
        ("proofs = 0", 'proofs = 0\nscores = "yes"', '[zk] scores: expected true or false, found the string "yes"'),
        ("proofs = 0", 'proofs = 0\nsetup = "online"', '[zk] setup: expected "installed", "download" or an integer degree from 16 to 20, found the string "online"'),
        ("proofs = 0", "proofs = 0\nsetup = 21", '[zk] setup: expected "installed", "download" or an integer degree from 16 to 20, found the integer 21'),
        ("proofs = 0", "proofs = 0\nsetup = true", "[zk] setup: expected \"installed\", \"download\" or an integer degree from 16 to 20, found a boolean"),
    ],
)
def test_bad_values_name_file_key_expected_and_found(write_toml, old: str, new: str, expected: str) -> None:
    assert old in GOOD
    path = write_toml(GOOD.replace(old, new))
    message = _problems(path)
    assert str(path) in message
    assert expected in message


def test_all_problems_reported_together(write_toml) -> None:
    text = GOOD.replace("seed = 3", "seed = -1").replace("proofs = 0", "proofs = -2")
    message = _problems(write_toml(text))
    assert "[experiment] seed" in message and "[zk] proofs" in message


def test_missing_sections_and_keys(write_toml) -> None:
    message = _problems(write_toml('[experiment]\nname = "x"\n'))
    assert "[dataset]: missing section" in message
    assert "[model] algorithm: missing" in message


def test_not_toml(write_toml) -> None:
    assert "not valid TOML" in _problems(write_toml("[experiment\nname = 1"))


def test_missing_file(tmp_path: Path) -> None:
    assert "file not found" in _problems(tmp_path / "nope.toml")


def test_csv_path_is_relative_to_the_toml(write_toml, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "d.csv").write_text("a,b,label\n1,2,0\n3,4,1\n")
    text = '[experiment]\nname = "c"\n[dataset]\nname = "csv"\npath = "data/d.csv"\ntarget = "label"\n[model]\nalgorithm = "decision_tree_classifier"\n'
    exp = load_experiment(write_toml(text))
    assert exp.dataset.csv_path == (tmp_path / "data" / "d.csv").resolve()
    message = _problems(write_toml(text.replace("data/d.csv", "data/missing.csv")))
    assert '[dataset] path: file not found: "data/missing.csv"' in message


def test_cli_user_error_exit_status_2_without_traceback(write_toml) -> None:
    path = write_toml(GOOD.replace("max_depth", "max_dept"))
    proc = subprocess.run(
        [sys.executable, "-m", "workbench", "run", str(path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == ExitCode.USER_ERROR == 2
    assert "Traceback" not in proc.stderr
    assert "max_dept" in proc.stderr and 'did you mean "max_depth"' in proc.stderr


def test_an_onnx_model_path_is_relative_to_the_toml_and_must_exist(write_toml, tmp_path: Path) -> None:
    models = Path(__file__).resolve().parent.parent / "experiments" / "models"
    (tmp_path / "nets").mkdir()
    (tmp_path / "nets" / "m.onnx").write_bytes((models / "digits_mlp.onnx").read_bytes())
    text = (
        '[experiment]\nname = "x"\n[dataset]\nname = "digits"\n'
        '[model]\nalgorithm = "onnx"\npath = "nets/m.onnx"\ntask = "classification"\n'
    )
    exp = load_experiment(write_toml(text))
    assert exp.model.params["path"] == str((tmp_path / "nets" / "m.onnx").resolve())
    message = _problems(write_toml(text.replace("nets/m.onnx", "nets/none.onnx").replace('"classification"', '"clasification"')))
    assert '[model] path: file not found: "nets/none.onnx"' in message
    assert '[model] task: expected one of "auto", "classification", "regression"' in message and 'did you mean "classification"' in message
    assert "[model] path: missing" in _problems(write_toml(text.replace('path = "nets/m.onnx"\n', "")))
