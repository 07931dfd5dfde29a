"""The small TOML writer behind the copy-and-edit form."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from workbench.experiment import ExperimentError, load_experiment
from workbench.tui.tomlwrite import experiment_sections, save_experiment, to_toml, toml_value

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "experiments"


def test_values_round_trip_through_tomllib() -> None:
    values = {
        "s": 'quote " backslash \\ newline \n tab \t bell \x07 unicode é',
        "i": -42,
        "f": 0.1,
        "big": 1e300,
        "b": True,
        "pair": [-3.5, 2],
        "names": ["a", "b"],
    }
    doc = tomllib.loads(to_toml({"t": values}))
    assert doc == {"t": values}
    assert toml_value(float("inf")) == "inf"
    with pytest.raises(TypeError):
        toml_value({"nested": 1})


@pytest.mark.parametrize("zk_extra", ["", 'batch = "auto"\nscores = true\n', 'batch = 3\nsetup = "download"\n'])
def test_experiment_sections_reload_to_the_same_experiment(tmp_path: Path, zk_extra: str) -> None:
    source = tmp_path / "source.toml"
    source.write_text((FIXTURES / "iris_decision_tree.toml").read_text().replace("[zk]\n", "[zk]\n" + zk_extra))
    exp = load_experiment(source)
    text = to_toml(experiment_sections(exp, tmp_path))
    copy = save_experiment(text, tmp_path / "copy.toml")
    for field in ("name", "description", "seed", "dataset", "model", "quantization", "zk"):
        assert getattr(copy, field) == getattr(exp, field)
    if zk_extra:  # nothing in [zk] is lost by a copy
        assert (copy.zk.batch, copy.zk.scores) != (1, False)


def test_save_refuses_invalid_text_and_existing_files(tmp_path: Path) -> None:
    target = tmp_path / "bad.toml"
    with pytest.raises(ExperimentError) as info:
        save_experiment('[experiment]\nname = "x"\n[dataset]\nname = "iris"\n[model]\nalgorithm = "nope"\n', target)
    assert any(p.key == "[model] algorithm" for p in info.value.problems)
    assert list(tmp_path.iterdir()) == []  # neither the target nor the temporary file
    target.write_text("keep me")
    with pytest.raises(FileExistsError):
        save_experiment((FIXTURES / "iris_quick.toml").read_text(), target)
    assert target.read_text() == "keep me"
