"""`[zk] compiler` is honoured by planning as well as by the compile stage.

There is no real `leo` binary here, so a fake one is put on PATH: a small script that
answers `leo --version` and, for `leo build`, logs the project and builds it with the
built-in compiler (optionally adding a marker function to every program, so that the
test can tell whose output the planner estimated).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from support import train_shipped

from workbench import stages
from workbench.errors import UserError
from workbench.kinds import Visibility
from workbench.leo import toolchain
from workbench.stages.records import PlanRequest, ProgramSpec

REPO = Path(__file__).resolve().parents[2]

FAKE_LEO = """#!{python}
import os, sys
from pathlib import Path
sys.path.insert(0, {repo!r})
if sys.argv[1:] == ["--version"]:
    print("leo 4.3.2 (fake)")
    sys.exit(0)
assert sys.argv[1:] == ["build"], sys.argv
with open(os.environ["FAKE_LEO_LOG"], "a") as log:
    log.write(str(Path.cwd()) + "\\n")
from workbench.leo.compiler import build_project, LeoCompileError
try:
    out = build_project(Path.cwd())
except LeoCompileError as err:
    print(err)
    sys.exit(1)
if os.environ.get("FAKE_LEO_MARKER"):
    text = out.read_text().replace("constructor:", "function fake_leo_marker:\\n"
        "    input r0 as u64.private;\\n    mul r0 r0 into r1;\\n    output r1 as u64.private;\\n\\nconstructor:")
    out.write_text(text)
print("Leo compiled")
"""


@pytest.fixture
def fake_leo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `leo` on PATH; returns the log of the projects it built."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    leo = bin_dir / "leo"
    leo.write_text(FAKE_LEO.format(python=sys.executable, repo=str(REPO)))
    leo.chmod(0o755)
    log = tmp_path / "leo.log"
    log.write_text("")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_LEO_LOG", str(log))
    return log


def _request(compiler: str, batch: int | str = "auto") -> PlanRequest:
    return PlanRequest(ProgramSpec("wine_plan", inputs=Visibility.PUBLIC), batch=batch, rows=4, compiler=compiler)


def test_resolve_names_the_compiler_a_choice_means(fake_leo: Path) -> None:
    assert toolchain.resolve("auto") == "leo"
    assert toolchain.resolve("leo") == "leo"
    assert toolchain.resolve("workbench") == "workbench"


def test_leo_required_but_missing_is_refused_at_planning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    model = train_shipped("wine_logistic").model
    with pytest.raises(UserError, match="no `leo` binary is on PATH"):
        stages.plan(model, _request("leo"))


def test_planning_builds_with_the_leo_binary_and_plans_the_same(fake_leo: Path) -> None:
    model = train_shipped("wine_logistic").model
    with_leo = stages.plan(model, _request("leo"))
    assert fake_leo.read_text().strip(), "planning did not run `leo build`"
    built = len(fake_leo.read_text().splitlines())
    builtin = stages.plan(model, _request("workbench"))
    assert len(fake_leo.read_text().splitlines()) == built, "the built-in choice ran `leo build`"
    # The fake `leo` emits what the built-in compiler emits: the same plan either way.
    assert (with_leo.batch, with_leo.cuts) == (builtin.batch, builtin.cuts)
    assert dict(with_leo.estimates) == dict(builtin.estimates)


def test_planning_estimates_the_programs_leo_emits(fake_leo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_LEO_MARKER", "1")
    model = train_shipped("wine_logistic").model
    for compiler in ("leo", "auto"):  # "auto" means `leo` when it is on PATH
        plan = stages.plan(model, _request(compiler, batch=1))
        assert ("wine_plan.aleo", "fake_leo_marker") in plan.estimates
    plan = stages.plan(model, _request("workbench", batch=1))
    assert ("wine_plan.aleo", "fake_leo_marker") not in plan.estimates
    # The compile stage builds with the same choice.
    compiled = stages.compile_programs(stages.generate_leo(model, plan), "leo")
    assert compiled.compiler == "leo 4.3.2 (fake)" and "fake_leo_marker" in compiled.programs[-1].aleo


@pytest.mark.slow  # about 30 `leo build` subprocesses: the chain search compiles every candidate link
def test_chain_cuts_are_searched_with_the_leo_binary(fake_leo: Path) -> None:
    model = train_shipped("wine_random_forest_40").model
    request = PlanRequest(ProgramSpec("wine_chain"), batch=1, rows=4, compiler="leo")
    with_leo = stages.plan(model, request)
    assert with_leo.cuts and len(fake_leo.read_text().splitlines()) > len(with_leo.cuts)
    builtin = stages.plan(model, PlanRequest(ProgramSpec("wine_chain"), batch=1, rows=4, compiler="workbench"))
    assert with_leo.cuts == builtin.cuts and dict(with_leo.estimates) == dict(builtin.estimates)
