"""Two Windows accounts on one PC get two agent ids; one account keeps the plain host name."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from sync import agentid
from sync.agentid import default_agent_id
from sync.config.loading import load_settings


def test_first_account_keeps_the_host_name_later_ones_are_told_apart(tmp_path: Path) -> None:
    shared = tmp_path / "ProgramData" / "FerraSync"
    host = socket.gethostname()
    assert default_agent_id(shared, user="ana") == host
    time.sleep(0.01)
    assert default_agent_id(shared, user="luis.garcia") == f"{host}-luis.garcia"
    assert default_agent_id(shared, user="ana") == host  # stable across starts
    assert default_agent_id(shared, user="Admin Taller") == f"{host}-Admin_Taller"


def test_settings_use_the_machine_folder_on_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agentid, "machine_lock_dir", lambda: tmp_path / "pd" / "FerraSync")  # what Windows gives
    (tmp_path / "pd" / "FerraSync" / "accounts").mkdir(parents=True)
    (tmp_path / "pd" / "FerraSync" / "accounts" / "otra-cuenta").touch()
    os.utime(tmp_path / "pd" / "FerraSync" / "accounts" / "otra-cuenta", (1, 1))  # it came first
    settings = load_settings(env={"FERRASYNC_HOME": str(tmp_path / "home")})
    assert settings.agent_id.startswith(socket.gethostname() + "-")
    chosen = load_settings(env={"FERRASYNC_HOME": str(tmp_path / "home"), "FERRASYNC_AGENT_ID": "PC-1"})
    assert chosen.agent_id == "PC-1"


def test_elsewhere_and_on_an_unusable_folder_the_host_name(tmp_path: Path) -> None:
    assert default_agent_id(None) == socket.gethostname() or os.name == "nt"
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert default_agent_id(blocked, user="ana") == socket.gethostname()
