"""agent/ has no import cycles: each part of the service talks to the others through the calls wired in
agent/service.py, never by importing its way back (docs/architecture.md). Every import counts, also those
inside functions or under TYPE_CHECKING: a cycle a maintainer has to untangle is a cycle wherever it sits."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "agent"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.AST, known: set[str]) -> set[str]:
    """The package's modules that `tree` imports (`from agent import strings` names agent.strings)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name in known}


def import_graph(package: str) -> dict[str, set[str]]:
    paths = sorted((ROOT / package).rglob("*.py"))
    known = {module_name(p) for p in paths}
    graph = {module_name(p): imported(ast.parse(p.read_text(encoding="utf-8")), known) for p in paths}
    return {name: targets - {name} for name, targets in graph.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None (depth-first search, white/grey/black)."""
    done: set[str] = set()
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        if name in path:
            return [*path[path.index(name) :], name]
        if name in done:
            return None
        path.append(name)
        for target in sorted(graph.get(name, ())):
            cycle = visit(target)
            if cycle:
                return cycle
        path.pop()
        done.add(name)
        return None

    for start in sorted(graph):
        cycle = visit(start)
        if cycle:
            return cycle
    return None


def test_agent_has_no_import_cycle() -> None:
    graph = import_graph(PACKAGE)
    assert "agent.service" in graph and graph["agent.service"] >= {"agent.runs", "agent.commands"}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle in agent/: " + " → ".join(cycle or [])


def test_no_part_of_the_service_imports_the_service() -> None:
    graph = import_graph(PACKAGE)
    parts = ("commands", "runs", "presence", "periodic", "publishing", "reports", "runview", "events")
    assert [p for p in parts if "agent.service" in graph[f"agent.{p}"]] == []


@pytest.mark.parametrize(
    ("graph", "cycle"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
        ({"a": {"b", "c"}, "b": {"c"}, "c": set()}, None),  # a diamond is not a cycle
    ],
)
def test_the_cycle_finder_finds_what_is_there(graph: dict[str, set[str]], cycle: list[str] | None) -> None:
    assert find_cycle(graph) == cycle


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    source = "from agent import strings\nimport agent.files\ndef f():\n    from agent.runs import who\n"
    known = {"agent", "agent.strings", "agent.files", "agent.runs"}
    assert imported(ast.parse(source), known) == {"agent", "agent.strings", "agent.files", "agent.runs"}
