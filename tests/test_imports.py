"""The package's import structure: no cycles among ganforge's modules, few imports inside
functions, and a command that starts without the heavy optional packages or a modality."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "ganforge"
# Imports of ganforge's own modules inside functions: each one hides an edge of the module
# graph. The few left defer what the command must not load on every start: the studio (its
# web server is an extra) and the image modality's classifiers (``ganforge features``).
MAX_INNER_IMPORTS = 5


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _targets(node: ast.Import | ast.ImportFrom, module: str) -> set[str]:
    """The ganforge modules one import statement loads by name."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
        return {n for n in names if n in MODULES}
    if node.level:
        base = module.split(".") if _is_package(module) else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    if source not in MODULES:
        return set()
    found = set()
    for alias in node.names:
        sub = f"{source}.{alias.name}"
        found.add(sub if sub in MODULES else source)
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(module: str):
    """(import node, inside a function) for every import of ``module`` outside
    ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))

    def visit(node: ast.AST, in_function: bool):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    yield from visit(other, in_function)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child, in_function
            inner = in_function or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
            )
            yield from visit(child, inner)

    yield from visit(tree, False)


def _with_packages(targets: set[str], module: str) -> set[str]:
    """The targets and the packages Python runs first to import them: ``a.b.c`` runs
    ``a.b``'s ``__init__`` unless ``module`` sits inside ``a.b`` (then it is running)."""
    found = set(targets)
    for target in targets:
        parts = target.split(".")
        for end in range(2, len(parts)):
            package = ".".join(parts[:end])
            if not module.startswith(package + "."):
                found.add(package)
    return found - {module}


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module in MODULES:
        for node, in_function in _walk(module):
            if not in_function:
                graph[module] |= _with_packages(_targets(node, module), module)
    return graph


def _inner_imports() -> list[str]:
    found = []
    for module in MODULES:
        for node, in_function in _walk(module):
            targets = _targets(node, module)
            if in_function and targets:
                found.append(f"{module}:{node.lineno} -> {', '.join(sorted(targets))}")
    return found


def test_the_module_graph_has_no_cycle():
    try:
        order = list(TopologicalSorter(_graph()).static_order())
    except CycleError as exc:
        pytest.fail(f"import cycle among ganforge's modules: {' -> '.join(exc.args[1])}")
    assert set(order) == set(MODULES)


def test_the_graph_sees_a_cycle():
    """The check above can fail: two modules importing each other are a cycle."""
    graph = _graph()
    graph["ganforge.errors"] = graph["ganforge.errors"] | {"ganforge.registry"}
    with pytest.raises(CycleError):
        list(TopologicalSorter(graph).static_order())


def test_relative_and_submodule_imports_are_resolved():
    node = ast.parse("from .. import errors\nfrom .schema import Config").body
    assert _targets(node[0], "ganforge.config.loading") == {"ganforge.errors"}
    assert _targets(node[1], "ganforge.config") == {"ganforge.config.schema"}
    node = ast.parse("from ganforge import config\nimport ganforge.engine.step").body
    assert _targets(node[0], "ganforge.api") == {"ganforge.config"}
    assert _targets(node[1], "ganforge.api") == {"ganforge.engine.step"}


def test_importing_a_submodule_runs_its_package_first():
    assert _with_packages({"ganforge.engine.step"}, "ganforge.api") == {
        "ganforge.engine",
        "ganforge.engine.step",
    }
    assert _with_packages({"ganforge.engine.step"}, "ganforge.engine.trainer") == {
        "ganforge.engine.step"
    }


def test_few_imports_of_ganforge_inside_functions():
    inner = _inner_imports()
    assert len(inner) <= MAX_INNER_IMPORTS, (
        f"{len(inner)} imports of ganforge's modules inside functions (at most "
        f"{MAX_INNER_IMPORTS}); import at the top of the module:\n" + "\n".join(inner)
    )


HEAVY = ("pandas", "matplotlib", "sklearn", "scipy", "pretty_midi", "music21", "playwright")
# what the command must not load to start: a modality's code is loaded with the plug-ins
LATER = ("ganforge.modalities", "ganforge.metrics", "ganforge.studio")


def test_the_command_starts_without_heavy_packages_or_modalities():
    code = (
        "import json, sys, ganforge.cli\n"
        "print(json.dumps(sorted(m for m in sys.modules "
        f"if m.split('.')[0] in {HEAVY!r} or m.startswith({LATER!r}))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
