"""The package's import structure, read from the source with ``ast`` (nothing is imported).

- the service imports nothing from the CLI (assembly from settings is the core's
  ``agentthink.assembly``);
- no import cycle between the package's modules, counting imports inside functions too (only
  ``if TYPE_CHECKING:`` imports are left out: they never run);
- only ``agentthink/models/`` imports the private ``agentthink.models._litellm``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = (
    (ROOT / "agentthink", "agentthink"),
    (ROOT / "tools", "agentthink.tools"),
    (ROOT / "policies", "agentthink.policies"),
)
"""Where each import name's files are (tools/ and policies/ are mapped into the package)."""


@dataclass(frozen=True)
class Import:
    """One import statement's target module, where it stands and whether it ever runs."""

    target: str
    line: int
    type_checking: bool


def package_modules() -> dict[str, Path]:
    """Every module of the package by its import name (a package by its ``__init__.py``)."""
    modules: dict[str, Path] = {}
    for base, prefix in SOURCES:
        for path in sorted(base.rglob("*.py")):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join([prefix, *parts])] = path
    return modules


MODULES = package_modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(name: str) -> Iterator[Import]:
    """The modules ``name`` imports (a name imported from a package counts as its submodule
    when there is one), at module level and inside functions."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def visit(node: ast.AST, type_checking: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                yield from visit(child, True)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(alias.name, child.lineno, type_checking)
            elif isinstance(child, ast.ImportFrom):
                module = child.module or ""
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - child.level + 1]
                    module = ".".join([*base, *([module] if module else [])])
                for alias in child.names:
                    sub = f"{module}.{alias.name}"
                    yield Import(sub if sub in MODULES else module, child.lineno, type_checking)
            yield from visit(child, type_checking)

    yield from visit(ast.parse(path.read_text(encoding="utf-8")), False)


def runtime_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports when it runs (its own parents left out: Python
    imports those first anyway)."""
    graph: dict[str, set[str]] = {}
    for name in MODULES:
        graph[name] = {
            imp.target
            for imp in imports_of(name)
            if not imp.type_checking
            and imp.target in MODULES
            and imp.target != name
            and not name.startswith(imp.target + ".")
        }
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_modules_are_found() -> None:
    for name in ("agentthink.assembly", "agentthink.service.app", "agentthink.tools.base"):
        assert name in MODULES
    assert "agentthink.policies.registry" in MODULES


def test_the_service_imports_nothing_from_the_cli() -> None:
    bad = [
        f"{MODULES[name].relative_to(ROOT)}:{imp.line} imports {imp.target}"
        for name in MODULES
        if name.startswith("agentthink.service")
        for imp in imports_of(name)
        if imp.target == "agentthink.cli" or imp.target.startswith("agentthink.cli.")
    ]
    assert not bad, "\n".join(bad)


def test_no_import_cycle_in_the_package() -> None:
    assert cycles(runtime_graph()) == []


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_only_the_model_boundary_imports_the_private_litellm_module() -> None:
    bad = [
        f"{MODULES[name].relative_to(ROOT)}:{imp.line}"
        for name in MODULES
        if not name.startswith("agentthink.models")
        for imp in imports_of(name)
        if imp.target == "agentthink.models._litellm"
    ]
    assert not bad, "import the public functions of agentthink.models instead:\n" + "\n".join(bad)


def test_litellm_itself_is_imported_only_by_its_module() -> None:
    bad = [
        f"{MODULES[name].relative_to(ROOT)}:{imp.line}"
        for name in MODULES
        if name != "agentthink.models._litellm"
        for imp in imports_of(name)
        if imp.target == "litellm" or imp.target.startswith("litellm.")
    ]
    assert not bad, "\n".join(bad)
