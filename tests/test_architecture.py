"""The shape of the code, checked on its import graph (read with `ast`, nothing executed).

- The core is one-way: no import circle among its modules (docs/architecture.md).
- The core never imports Textual; only `workbench/snarkvm/` imports aleo-sdk.
- The model families never import the Leo layer, the stages or the snarkVM side.
- Validating an experiment loads no family module (checked in a fresh interpreter).
- Every family is reached through the one catalogue, which names modules that exist.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.algorithms import catalogue

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "workbench"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (functions included), except under TYPE_CHECKING."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            # `from workbench.leo import codec` imports the submodule workbench.leo.codec.
            found.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in _imports(path) if m in files and m != name} for name, path in files.items()}


GRAPH = _graph()
CORE = {m for m in GRAPH if not m.startswith("workbench.tui") and m not in ("workbench.cli", "workbench.__main__")}


def _cycles(nodes: set[str]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v] & nodes:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(nodes):
        if v not in index:
            connect(v)
    return out


def _importers(prefixes: tuple[str, ...], among: set[str]) -> dict[str, set[str]]:
    """Modules of `among` that import a module starting with one of `prefixes`."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    out = {}
    for name in sorted(among):
        hits = {m for m in _imports(files[name]) if any(m == p or m.startswith(p + ".") for p in prefixes)}
        if hits:
            out[name] = hits
    return out


def test_the_graph_is_read() -> None:
    # A reader that found nothing would pass every rule below.
    assert any(m.startswith("workbench.stages") for m in GRAPH["workbench.pipeline"])
    assert "workbench.algorithms.forms" in GRAPH["workbench.algorithms.ensembles"]
    assert len(CORE) > 40


def test_the_core_has_no_import_circle() -> None:
    assert _cycles(CORE) == []


def test_the_core_never_imports_textual() -> None:
    assert _importers(("textual", "textual_plotext", "rich"), CORE) == {}


def test_only_the_snarkvm_package_imports_aleo() -> None:
    outside = {m for m in GRAPH if not m.startswith("workbench.snarkvm")}
    assert _importers(("aleo",), outside) == {}
    assert _importers(("aleo",), set(GRAPH) - outside)  # and it does import it there


def test_the_families_never_import_the_leo_layer_the_stages_or_snarkvm() -> None:
    families = {m for m in GRAPH if m.startswith("workbench.algorithms")}
    forbidden = ("workbench.leo", "workbench.stages", "workbench.snarkvm", "workbench.pipeline", "workbench.data",
                 "workbench.experiment", "workbench.results")
    assert _importers(forbidden, families) == {}


def test_the_tui_reaches_the_run_only_through_its_worker_process() -> None:
    tui = {m for m in GRAPH if m.startswith("workbench.tui")}
    hits = _importers(("workbench.pipeline", "workbench.stages", "workbench.snarkvm"), tui)
    # The worker module imports the pipeline inside the child process's entry point only.
    assert set(hits) <= {"workbench.tui.worker"}


def test_the_catalogue_names_every_family_once_and_each_path_resolves() -> None:
    names = catalogue.algorithm_names()
    assert len(names) == len(set(names)) == len(catalogue.CATALOGUE) == 14  # 13 estimators and ONNX networks
    for family in catalogue.CATALOGUE:
        assert callable(family.lower) and isinstance(family.estimator, type)
    # No family module registers itself: none of them imports the catalogue.
    families = {m for m in GRAPH if m.startswith("workbench.algorithms.") and m != "workbench.algorithms.catalogue"}
    assert _importers(("workbench.algorithms.catalogue",), families) == {}


def test_unknown_estimators_and_names_are_clear_errors() -> None:
    from workbench.errors import UserError

    with pytest.raises(UserError, match="no lowering for str; supported: .*DecisionTreeClassifier"):
        catalogue.for_estimator("not a model")
    with pytest.raises(UserError, match="unknown algorithm 'svm'; supported: adaboost_classifier"):
        catalogue.get("svm")


def test_validating_an_experiment_loads_no_family_leo_or_snarkvm_module() -> None:
    experiments = sorted((PACKAGE.parent / "experiments").glob("*.toml"))
    script = (
        "import sys\n"
        "from workbench.experiment import load_experiment\n"
        f"for p in {[str(p) for p in experiments]!r}:\n"
        "    load_experiment(p)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('workbench.algorithms.', 'workbench.leo',"
        " 'workbench.snarkvm', 'workbench.stages', 'textual', 'aleo')) and m != 'workbench.algorithms.catalogue'))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_every_package_ships() -> None:
    """A package missing from pyproject.toml works in the editable install and vanishes from a wheel."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "workbench").rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
