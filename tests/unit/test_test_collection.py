"""tests/windows and tests/mssql are collected only where Windows / SQL Server exist (tests/conftest.py), so
here they are absent rather than skipped — and collected as soon as the machine has what they need."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


BASE_ENV = {k: v for k, v in os.environ.items() if k != "FERRASYNC_TEST_MSSQL"}


def collected(folder: str, env: dict[str, str]) -> list[str]:
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                             f"tests/{folder}"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env=env)  # fmt: skip
    return [line for line in result.stdout.splitlines() if "::" in line]


def test_sql_server_tests_are_collected_only_with_a_server() -> None:
    assert collected("mssql", BASE_ENV) == []
    names = collected("mssql", {**BASE_ENV, "FERRASYNC_TEST_MSSQL": "mssql://sa:x@127.0.0.1:1/master"})
    assert any("test_rebuild_incremental_and_edit_day_through_t_sql" in n for n in names)


def test_windows_tests_are_collected_only_on_windows() -> None:
    names = collected("windows", BASE_ENV)
    assert (names != []) == (sys.platform == "win32")
