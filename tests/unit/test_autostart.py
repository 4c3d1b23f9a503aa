"""Autostart strategies: the Windows Run value through a fake winreg, the XDG entry in a temporary config."""

from __future__ import annotations

import shlex
import sys
import types
from pathlib import Path

import pytest

from agent import autostart


class FakeKey:
    def __init__(self, reg: FakeWinreg, path: str, access: int) -> None:
        self.reg, self.path, self.access = reg, path, access

    def __enter__(self) -> FakeKey:
        return self

    def __exit__(self, *exc: object) -> None:
        self.reg.closed += 1


class FakeWinreg(types.ModuleType):
    """The part of winreg the strategy uses, with the access rights checked."""

    HKEY_CURRENT_USER = 0x80000001
    KEY_READ, KEY_SET_VALUE, REG_SZ = 0x20019, 0x0002, 1

    def __init__(self) -> None:
        super().__init__("winreg")
        self.values: dict[tuple[str, str], tuple[object, int]] = {}
        self.keys: set[str] = set()
        self.closed = 0

    def OpenKey(self, hive: int, path: str, reserved: int, access: int) -> FakeKey:
        assert hive == self.HKEY_CURRENT_USER
        if path not in self.keys:
            raise FileNotFoundError(path)
        return FakeKey(self, path, access)

    def CreateKeyEx(self, hive: int, path: str, reserved: int, access: int) -> FakeKey:
        assert hive == self.HKEY_CURRENT_USER
        self.keys.add(path)
        return FakeKey(self, path, access)

    def QueryValueEx(self, key: FakeKey, name: str) -> tuple[object, int]:
        assert key.access == self.KEY_READ
        if (key.path, name) not in self.values:
            raise FileNotFoundError(name)
        return self.values[(key.path, name)]

    def SetValueEx(self, key: FakeKey, name: str, reserved: int, kind: int, value: object) -> None:
        assert key.access == self.KEY_SET_VALUE
        self.values[(key.path, name)] = (value, kind)

    def DeleteValue(self, key: FakeKey, name: str) -> None:
        assert key.access == self.KEY_SET_VALUE
        if (key.path, name) not in self.values:
            raise FileNotFoundError(name)
        del self.values[(key.path, name)]


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
