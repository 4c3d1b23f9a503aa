"""Every program's console output under a Windows code page (cmd redirecting stdout gives cp1252):
characters it lacks ("✓", "→") become "?" instead of a UnicodeEncodeError traceback and exit 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sync.devstack.ferrawin_data import generate

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = {"ferrasync": "sync.cli", "ferrasync-agent": "agent", "ferrasync-control": "desktop.cli"}


def _redirected(tmp_path: Path, module: str, *args: str, **extra: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FERRAWIN_", "PRODUCTION_", "LOCAL_", "API_"))}
    env.update(PYTHONIOENCODING="cp1252", PYTHONPATH=str(ROOT), FERRASYNC_HOME=str(tmp_path / "home"),
               PYTHON_KEYRING_BACKEND="sync.secrets.MemoryKeyring", QT_QPA_PLATFORM="offscreen", **extra)  # fmt: skip
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        code = subprocess.run([sys.executable, "-m", module, *args], env=env, stdout=stdout, stderr=stderr,
                              stdin=subprocess.DEVNULL, cwd=ROOT, timeout=180).returncode  # fmt: skip
    return code, out.read_bytes().decode("cp1252"), err.read_bytes().decode("cp1252")


@pytest.mark.parametrize(
    ("program", "args"),
    [
        ("ferrasync", ["--help"]),  # "FerraWin → Manager"
        ("ferrasync", ["devstack", "--help"]),
        ("ferrasync", ["relay", "--help"]),
        ("ferrasync", ["demo", "--help"]),
        ("ferrasync-agent", ["--help"]),
        ("ferrasync-control", ["--help"]),
        ("ferrasync-control", ["--version"]),
    ],
)
def test_help_and_version_survive_cp1252(tmp_path: Path, program: str, args: list[str]) -> None:
    code, out, err = _redirected(tmp_path, PROGRAMS[program], *args)
    assert code == 0, err
    assert "UnicodeEncodeError" not in err and out.strip()


def test_agent_import_env_report_survives_cp1252(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("PRODUCTION_URL=http://127.0.0.1:9\nPRODUCTION_TOKEN=tok-secret\n", encoding="utf-8")
    code, out, err = _redirected(tmp_path, "agent", "--import-env", str(env), "--yes")
    assert code == 0, err
    assert "PRODUCTION_URL: (sin valor) ? http://127.0.0.1:9" in out  # "→" is not in cp1252
    assert "Importado" in out and "tok-secret" not in out


def test_a_successful_run_survives_cp1252(tmp_path: Path, pg_url: str, manager_stub: Any) -> None:
    generate(pg_url, 5, seed=7)
    code, out, err = _redirected(tmp_path, "sync.cli", "run", "--force", FERRAWIN_URL=pg_url,
                                 PRODUCTION_URL=manager_stub.url, PRODUCTION_TOKEN=manager_stub.token,
                                 FERRASYNC_TIME_SCALE="0.01")  # fmt: skip
    assert code == 0, out + err
    assert "UnicodeEncodeError" not in err
    assert "Lotes:" in out and " ? " in out  # the summary's "✓ … ✗", replaced
