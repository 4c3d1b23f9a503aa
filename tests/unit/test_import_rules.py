"""Who may import whom (docs/architecture.md, "Import rules"), checked on the source and in a fresh interpreter.

Static: every import statement of every module (inside functions and TYPE_CHECKING blocks too), and
what it leads to through the project's own modules:
- the core (sync/) imports nothing from agent/ or desktop/, and no Qt (sync/devstack, the demo and
  development servers, may reach Qt: it is no part of the shipped core);
- the core's library modules import no sync.devstack; only the command line's entry registers the
  development commands (lazily, so `ferrasync run` works without the devstack extra);
- the agent's service modules (everything in agent/ that is not its UI) import no Qt and no devstack;
- desktop/ imports nothing from agent/.
Dynamic: importing every core module in a fresh interpreter loads no sync.devstack, no aiohttp, no Qt.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("sync", "agent", "desktop", "qtshared")
QT = ("PySide6", "shiboken6")
DEVSTACK = "sync.devstack"

# agent/ modules that are UI (Qt, the tray, the windows, the entry that starts them) or test helpers;
# everything else in agent/ is the service and must run without Qt.
AGENT_UI = frozenset(
    {
        "agent.__main__",
        "agent.cli",
        "agent.tray_app",
        "agent.qt_bridge",
        "agent.qt_single",
    }
)
AGENT_UI_PACKAGES = ("agent.ui",)
# Registers the demo/relay/devstack commands when the devstack extra is installed.
DEVSTACK_ENTRY_POINTS = frozenset({"sync.cli"})

@dataclass(frozen=True)
class Import:
    file: str  # path from the repository root
    line: int
    module: str  # the imported module, absolute


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


@cache
def imports_of(name: str) -> tuple[Import, ...]:
    path = modules()[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    rel = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(rel, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import mod` imports the submodule pkg.mod; `from mod import name` imports mod
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append(Import(rel, node.lineno, sub if sub in modules() else base))
    return tuple(dict.fromkeys(found))  # one per line and module


def first_party(module: str) -> str | None:
    """The project module an import loads (the module itself, or the package it names), or None."""
    while module:
        if module in modules():
            return module
        module = module.rpartition(".")[0]
    return None


def is_qt(module: str) -> bool:
    return module.split(".")[0] in QT


def is_devstack(module: str) -> bool:
    return module == DEVSTACK or module.startswith(DEVSTACK + ".")


def is_agent_ui(module: str) -> bool:
    return (
        module in AGENT_UI
        or module.startswith(tuple(p + "." for p in AGENT_UI_PACKAGES))
        or module in AGENT_UI_PACKAGES
    )


def chain_to(start: str, forbidden: Callable[[str], bool]) -> list[str] | None:
    """The shortest chain of project imports from `start` to a module `forbidden` accepts, or None."""
    seen = {start}
    frontier = [[start]]
    while frontier:
        following = []
        for path in frontier:
            for imp in imports_of(path[-1]):
                if forbidden(imp.module):
                    return [*path, imp.module]
                for target in loaded_by(imp.module):
                    if target not in seen:
                        seen.add(target)
                        following.append([*path, target])
        frontier = following
    return None


def loaded_by(module: str) -> list[str]:
    """The project modules an import runs: the module and every package above it."""
    target = first_party(module)
    loaded = []
    while target:
        if target in modules():
            loaded.append(target)
        target = target.rpartition(".")[0]
    return loaded


def violations(scope: Callable[[str], bool], forbidden: Callable[[str], bool], rule: str) -> Iterator[str]:
    """One message per import of a module in scope that is forbidden or leads to a forbidden one."""
    for name in modules():
        if not scope(name):
            continue
        for imp in imports_of(name):
            if forbidden(imp.module):
                yield f"{imp.file}:{imp.line} imports {imp.module}, breaking the rule: {rule}"
                continue
            for target in loaded_by(imp.module):
                chain = chain_to(target, forbidden) if target != name else None
                if chain is not None:
                    yield (f"{imp.file}:{imp.line} imports {imp.module}, which leads to {chain[-1]} "
                           f"({' -> '.join(chain)}), breaking the rule: {rule}")  # fmt: skip
                    break


def in_core(name: str) -> bool:
    return name == "sync" or name.startswith("sync.")


def in_core_outside_devstack(name: str) -> bool:
    return in_core(name) and not is_devstack(name)


def in_agent_service(name: str) -> bool:
    return name.startswith("agent.") and not is_agent_ui(name)


def test_the_scan_sees_every_package_and_resolves_imports() -> None:
    names = modules()
    assert {"sync.engine", "agent.service", "desktop.controller", "sync.devstack.relay"} <= set(names)
    assert any(imp.module == "sync.journal" for imp in imports_of("sync.engine"))
    assert first_party("sync.config.model.Settings") == "sync.config.model"
    assert is_agent_ui("agent.ui.tray") and not is_agent_ui("agent.service")


def test_the_core_imports_no_agent_and_no_desktop() -> None:
    found = list(violations(in_core, lambda m: m.split(".")[0] in ("agent", "desktop"),
                            "the core (sync/) imports nothing from agent/ or desktop/"))  # fmt: skip
    assert found == [], "\n".join(found)


def test_the_core_imports_no_qt() -> None:
    found = list(violations(in_core_outside_devstack, is_qt, "the core (sync/, except sync/devstack) imports no Qt"))
    assert found == [], "\n".join(found)


def test_only_the_command_line_entry_imports_devstack() -> None:
    def scope(name: str) -> bool:
        return in_core_outside_devstack(name) and name not in DEVSTACK_ENTRY_POINTS

    found = list(violations(scope, is_devstack, "the core's library modules import no sync.devstack"))
    assert found == [], "\n".join(found)


def test_the_agent_service_imports_no_qt_and_no_devstack() -> None:
    assert in_agent_service("agent.service") and in_agent_service("agent.runs")
    found = list(violations(in_agent_service, lambda m: is_qt(m) or is_devstack(m),
                            "the agent's service modules import no Qt and no devstack"))  # fmt: skip
    assert found == [], "\n".join(found)


def test_desktop_imports_no_agent() -> None:
    found = list(violations(lambda n: n == "desktop" or n.startswith("desktop."), lambda m: m.split(".")[0] == "agent",
                            "desktop/ imports nothing from agent/"))  # fmt: skip
    assert found == [], "\n".join(found)


def test_the_shared_qt_package_imports_neither_program() -> None:
    found = list(violations(lambda n: n == "qtshared" or n.startswith("qtshared."),
                            lambda m: m.split(".")[0] in ("agent", "desktop"),
                            "qtshared/ (shared by both programs) imports nothing from agent/ or desktop/"))  # fmt: skip
    assert found == [], "\n".join(found)


def test_a_forbidden_import_is_reported_with_file_import_and_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check itself: a planted bad import, direct and through another module, is named precisely."""
    fake = {**modules(), "sync.planted": tmp_path / "planted.py", "sync.relay_hop": tmp_path / "relay_hop.py"}
    (tmp_path / "planted.py").write_text("import os\n\ndef f():\n    from sync import relay_hop\n", encoding="utf-8")
    (tmp_path / "relay_hop.py").write_text("from PySide6 import QtCore\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "modules", lambda: fake)
    imports_of.cache_clear()
    try:
        found = list(violations(lambda n: n in ("sync.planted", "sync.relay_hop"), is_qt, "no Qt"))
    finally:
        imports_of.cache_clear()
    planted, hop = tmp_path / "planted.py", tmp_path / "relay_hop.py"
    assert f"{hop}:1 imports PySide6, breaking the rule: no Qt" in found
    assert (f"{planted}:4 imports sync.relay_hop, which leads to PySide6 (sync.relay_hop -> PySide6), "
            "breaking the rule: no Qt") in found  # fmt: skip


# ------------------------------------------------------------------------------------------------ dynamic

# Module names come from the files: pkgutil.walk_packages would import sync.devstack to walk it.
PROBE = """
import importlib, json, sys
core_names, devstack_names = json.loads(sys.argv[1])
for name in core_names:
    importlib.import_module(name)
core = {
    "devstack": sorted(m for m in sys.modules if m.startswith("sync.devstack")),
    "aiohttp": sorted(m for m in sys.modules if m.split(".")[0] == "aiohttp"),
    "qt": sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6")),
}
for name in devstack_names:
    importlib.import_module(name)
core["qt_with_devstack"] = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6"))
print(json.dumps(core))
"""


def test_importing_the_core_loads_no_devstack_no_aiohttp_and_no_qt() -> None:
    core = sorted(n for n in modules() if in_core_outside_devstack(n))
    devstack = sorted(n for n in modules() if is_devstack(n))
    assert len(core) > 30 and "sync.engine" in core and "sync.devstack.relay" in devstack
    names = json.dumps([core, devstack])
    out = subprocess.run([sys.executable, "-c", PROBE, names], capture_output=True, text=True, check=True, cwd=ROOT)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["devstack"] == []
    assert result["aiohttp"] == []
    assert result["qt"] == [] and result["qt_with_devstack"] == []
