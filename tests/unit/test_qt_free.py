"""docs/testing.md: the sync package never imports Qt, checked in a fresh interpreter."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import sync

PROBE = """
import importlib, json, pkgutil, sys
import sync
names = [m.name for m in pkgutil.walk_packages(sync.__path__, "sync.")]
for name in names:
    importlib.import_module(name)
qt = sorted(m for m in sys.modules if m.startswith(("PySide6", "shiboken6")))
print(json.dumps({"imported": names, "qt": qt}))
"""


def test_every_sync_module_imports_without_loading_qt() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    expected = {m.name for m in pkgutil.walk_packages(sync.__path__, "sync.")}
    assert set(result["imported"]) == expected and len(expected) > 3
    assert result["qt"] == []
