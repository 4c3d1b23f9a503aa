"""Autostart strategies: the Windows Run value through a fake winreg, the XDG entry in a temporary config."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
from registry_double import FakeWinreg

from agent import autostart


@pytest.fixture
def fake_winreg(monkeypatch: pytest.MonkeyPatch) -> FakeWinreg:
    reg = FakeWinreg()
    monkeypatch.setitem(sys.modules, "winreg", reg)
    return reg


def test_windows_run_value_for_frozen_exe_with_spaces(fake_winreg: FakeWinreg, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", r"C:\Program Files\FerraSync\FerraSync Agent.exe")
    strategy = autostart.WindowsRunKey()
    assert not strategy.is_enabled()
    strategy.enable()
    value, kind = fake_winreg.values[(autostart.RUN_KEY, "FerraSync Agent")]
    assert value == '"C:\\Program Files\\FerraSync\\FerraSync Agent.exe" --background'
    assert kind == fake_winreg.REG_SZ
    assert strategy.is_enabled()
    strategy.disable()
    assert not strategy.is_enabled() and fake_winreg.values == {}
    strategy.disable()  # idempotent
    assert fake_winreg.closed >= 4  # every key opened was closed


def test_windows_run_value_from_source_uses_pythonw_module(fake_winreg: FakeWinreg,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.delattr(sys, "frozen", raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/py/bin/python")
    argv = autostart.launch_command()
    assert argv[1:] == ["-m", "agent", "--background"]
    strategy = autostart.WindowsRunKey([r"C:\Py 3\pythonw.exe", "-m", "agent", "--background"])
    strategy.enable()
    value, _ = fake_winreg.values[(autostart.RUN_KEY, "FerraSync Agent")]
    assert value == '"C:\\Py 3\\pythonw.exe" -m agent --background'


def test_xdg_entry_in_tmp_config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    strategy = autostart.XdgAutostart(["/opt/Ferra Sync/bin/python", "-m", "agent", "--background"])
    assert strategy.path == tmp_path / "cfg" / "autostart" / "ferrasync-agent.desktop"
    assert not strategy.is_enabled()
    strategy.enable()
    text = strategy.path.read_text(encoding="utf-8")
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    assert shlex.split(exec_line[5:]) == ["/opt/Ferra Sync/bin/python", "-m", "agent", "--background"]
    assert "[Desktop Entry]" in text and "Type=Application" in text
    assert strategy.is_enabled()
    strategy.disable()
    assert not strategy.path.exists() and not strategy.is_enabled()


def test_default_strategy_on_this_platform() -> None:
    strategy = autostart.default_strategy()
    assert strategy.available is sys.platform.startswith(("linux", "win32"))


def approved(reg: FakeWinreg, first_byte: int) -> None:
    """What Task Manager's Startup tab writes: 12 bytes, the first 0x02 (enabled) or 0x03 (disabled)."""
    reg.keys.add(autostart.APPROVED_KEY)
    reg.values[(autostart.APPROVED_KEY, "FerraSync Agent")] = (bytes([first_byte]) + bytes(11), reg.REG_BINARY)


def test_disabled_in_task_manager_reads_as_off_and_ticking_lifts_it(fake_winreg: FakeWinreg) -> None:
    strategy = autostart.WindowsRunKey([r"C:\FerraSync\FerraSync Agent.exe", "--background"])
    strategy.enable()
    approved(fake_winreg, 0x02)
    assert strategy.is_enabled()
    approved(fake_winreg, 0x03)  # "Deshabilitado" in Task Manager: Windows will not start it
    assert not strategy.is_enabled() and strategy.disabled_in_task_manager()
    strategy.enable()  # the user ticks "Iniciar con Windows" again
    assert (autostart.APPROVED_KEY, "FerraSync Agent") not in fake_winreg.values
    assert strategy.is_enabled()


def test_repair_points_a_moved_program_at_its_new_place(fake_winreg: FakeWinreg) -> None:
    old = autostart.WindowsRunKey([r"C:\Users\ana\Descargas\FerraSync\FerraSync Agent.exe", "--background"])
    old.enable()
    new = autostart.WindowsRunKey([r"C:\Program Files\FerraSync\FerraSync Agent.exe", "--background"])
    assert new.is_enabled()  # ticked, but it would start the old copy (or nothing, if it was deleted)
    assert "Descargas" in (new.repair() or "")
    assert fake_winreg.values[(autostart.RUN_KEY, "FerraSync Agent")][0] == new.command_line
    assert new.repair() is None  # already right


def test_repair_leaves_an_absent_value_absent(fake_winreg: FakeWinreg) -> None:
    strategy = autostart.WindowsRunKey([r"C:\FerraSync\FerraSync Agent.exe", "--background"])
    assert strategy.repair() is None and fake_winreg.values == {}


def test_xdg_repair_rewrites_a_moved_exec(tmp_path: Path) -> None:
    config = tmp_path / "cfg"
    autostart.XdgAutostart(["/old/venv/bin/python", "-m", "agent", "--background"], config_home=config).enable()
    moved = autostart.XdgAutostart(["/new/venv/bin/python", "-m", "agent", "--background"], config_home=config)
    assert moved.repair() and "/new/venv/bin/python" in moved.path.read_text(encoding="utf-8")
    assert moved.repair() is None
