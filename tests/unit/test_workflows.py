"""The CI workflows (.github/workflows) are valid YAML a runner can follow, and every test, script and file
they name exists in the repository."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
# Repository paths a step can name: tests, scripts, packaging files, the spec and the lock.
PATH = re.compile(r"(?<![\w./\\-])((?:tests|packaging|scripts)[/\\][\w./\\-]+|build\.spec|requirements-frozen\.txt)")


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_there_is_a_windows_and_a_sql_server_workflow() -> None:
    assert {p.name for p in WORKFLOWS} >= {"windows.yml", "sqlserver.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_each_workflow_is_well_formed(path: Path) -> None:
    workflow = load(path)
    assert workflow["name"] and workflow.get(True, workflow.get("on"))  # YAML 1.1 reads `on` as True
    for name, job in workflow["jobs"].items():
        assert job["runs-on"] and job["steps"], name
        assert job.get("timeout-minutes"), f"{name}: a hung job must not run for six hours"
        for step in job["steps"]:
            assert ("run" in step) != ("uses" in step), step


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_path_a_workflow_names_exists(path: Path) -> None:
    runs = [str(step.get("run", "")) for step in steps(load(path))]
    named = {m.replace("\\", "/").rstrip("/.") for run in runs for m in PATH.findall(run) if "*" not in m}
    assert named, "a workflow that runs no test of the repository"
    assert sorted(n for n in named if not (ROOT / n).exists()) == []


def test_the_windows_workflow_runs_the_windows_only_tests_and_uploads_the_installer() -> None:
    text = (ROOT / ".github" / "workflows" / "windows.yml").read_text(encoding="utf-8")
    for piece in ("tests/windows", "tests/installed", "tests/integration/test_frozen.py",
                  "tests/integration/test_installer.py", "build_installer.py", "--require-hashes",
                  "actions/upload-artifact"):  # fmt: skip
        assert piece in text.replace("\\", "/"), piece


def test_the_sql_server_workflow_runs_sql_server_2022_and_its_tests() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "sqlserver.yml")
    job = workflow["jobs"]["sqlserver"]
    assert job["services"]["mssql"]["image"].startswith("mcr.microsoft.com/mssql/server:2022")
    assert job["env"]["FERRASYNC_TEST_MSSQL"].startswith("mssql://")
    assert any("pytest tests/mssql" in str(step.get("run", "")) for step in job["steps"])
