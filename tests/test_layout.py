"""The layout of ``runtime/``: no import circles, folders of a readable size, the public face.

Every import counts, wherever it is written (module level, inside a function, or under
``TYPE_CHECKING``): a circle through a function-level import is still a circle for the
reader. ``from package import name`` counts as importing ``package.name`` when that is a
module, else as importing ``package``; the parent packages Python imports along the way
are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("asl", "runtime")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.add(sub if sub in modules else base)
    return {target for target in targets if target in modules and target != name}


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports."""
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_module_imports_a_module_that_imports_it_back() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_the_cycle_check_finds_a_circle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_asl_never_imports_runtime() -> None:
    offenders = {
        name: sorted(dep for dep in deps if dep.split(".")[0] == "runtime")
        for name, deps in import_graph().items()
        if name.split(".")[0] == "asl"
    }
    assert {name: deps for name, deps in offenders.items() if deps} == {}


@pytest.mark.parametrize("package", PACKAGES)
def test_no_folder_holds_more_than_about_15_modules(package: str) -> None:
    crowded = {}
    for folder in [ROOT / package, *(p for p in (ROOT / package).rglob("*") if p.is_dir())]:
        modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
        if len(modules) > 16:
            crowded[str(folder.relative_to(ROOT))] = len(modules)
    assert crowded == {}


def test_the_public_names_of_runtime() -> None:
    import runtime

    assert sorted(runtime.__all__) == sorted(
        [
            "Adapter",
            "AdapterRegistry",
            "Clock",
            "ExecutionResult",
            "FunctionAdapter",
            "HistoryEvent",
            "MockConfig",
            "MockConfigError",
            "MockedTasks",
            "RealClock",
            "TaskCall",
            "TaskFailure",
            "VirtualClock",
            "load_machine",
            "run",
            "run_sync",
        ]
    )
    for name in runtime.__all__:
        assert getattr(runtime, name) is not None
