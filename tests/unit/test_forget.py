"""`ferrasync-agent --forget` (agent/forget.py): what the uninstaller's "Borrar también los datos" removes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent import cli
from agent.files import AgentLock
from sync.config.model import SECRETS, URL_PASSWORD
from sync.secrets import SERVICE


def data_folder(tmp_path: Path) -> Path:
    home = tmp_path / "FerraSyncDatos"
    (home / "logs").mkdir(parents=True)
    (home / "settings.json").write_text("{}", encoding="utf-8")
    (home / "journal.db").write_bytes(b"x")
    return home


def test_forget_removes_every_saved_secret_and_the_data_folder(
    tmp_path: Path, memory_keyring: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    home = data_folder(tmp_path)
    for name in (*SECRETS, URL_PASSWORD):
        memory_keyring.set_password(SERVICE, name, "s3cr3t")
    memory_keyring.set_password("OtraApp", "PUSHER_APP_SECRET", "keep")
    assert cli.main(["--forget", "--data-dir", str(home)]) == 0
    assert not home.exists()
    assert [n for n in (*SECRETS, URL_PASSWORD) if memory_keyring.get_password(SERVICE, n)] == []
    assert memory_keyring.get_password("OtraApp", "PUSHER_APP_SECRET") == "keep"  # only FerraSync's
    out = capsys.readouterr().out
    assert "Claves guardadas de FerraSync borradas" in out and f"Carpeta de datos borrada: {home}" in out


def test_forget_refuses_a_folder_that_is_not_ferrasyncs_and_changes_nothing(
    tmp_path: Path, memory_keyring: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "Documentos"
    other.mkdir()
    (other / "presupuesto.xlsx").write_bytes(b"x")
    memory_keyring.set_password(SERVICE, "PUSHER_APP_SECRET", "s3cr3t")
    assert cli.main(["--forget", "--data-dir", str(other)]) != 0
    assert (other / "presupuesto.xlsx").exists()
    assert memory_keyring.get_password(SERVICE, "PUSHER_APP_SECRET") == "s3cr3t"
    assert "no parece una carpeta de datos de FerraSync" in capsys.readouterr().err


def test_forget_refuses_while_an_agent_runs_on_the_folder(tmp_path: Path, memory_keyring: Any) -> None:
    import subprocess
    import sys

    home = data_folder(tmp_path)
    memory_keyring.set_password(SERVICE, "PUSHER_APP_SECRET", "s3cr3t")
    holder = subprocess.Popen(  # another process holds the agent lock, as a running agent does
        [sys.executable, "-c", "import sys,time; from pathlib import Path; from agent.files import AgentLock; "
         f"lock = AgentLock(Path({str(home)!r})); lock.acquire(); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert AgentLock(home).held_by_other()
        assert cli.main(["--forget", "--data-dir", str(home)]) != 0
        assert (home / "settings.json").exists()
        assert memory_keyring.get_password(SERVICE, "PUSHER_APP_SECRET") == "s3cr3t"
    finally:
        holder.kill()
        holder.wait(10)


def test_forget_without_a_data_folder_still_removes_the_secrets(tmp_path: Path, memory_keyring: Any) -> None:
    memory_keyring.set_password(SERVICE, "PRODUCTION_TOKEN", "t")
    assert cli.main(["--forget", "--data-dir", str(tmp_path / "nunca-creada")]) == 0
    assert memory_keyring.get_password(SERVICE, "PRODUCTION_TOKEN") is None
