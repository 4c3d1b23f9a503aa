"""Start the agent at login: a strategy with is_enabled / enable / disable (docs/architecture.md).

Windows: a value under HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run (per user, no admin)
running the frozen executable, or `pythonw -m agent`, with `--background`, the path quoted. Linux: an
XDG autostart entry in $XDG_CONFIG_HOME/autostart. Elsewhere: a null strategy (not available).

The stored state can lie, so the tray calls `repair()` at start: a Run value (or Exec line) that names
another path (the program was moved) is rewritten to this program, and "Deshabilitado" in Task Manager's
Startup tab (HKCU\\...\\Explorer\\StartupApproved\\Run, first byte odd) counts as off, so the menu shows
what Windows will really do. Ticking the menu again clears that mark.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Any

from agent.ui import strings as S

RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
APPROVED_KEY = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
VALUE_NAME = "FerraSync Agent"
DESKTOP_FILE = "ferrasync-agent.desktop"
BACKGROUND = "--background"


def launch_command() -> list[str]:
    """How login starts the agent: the frozen exe itself, else the windowless interpreter with -m agent."""
    if getattr(sys, "frozen", False):
        return [sys.executable, BACKGROUND]
    python = Path(sys.executable)
    if os.name == "nt":
        windowless = python.with_name("pythonw.exe")
        python = windowless if windowless.exists() else python
    return [str(python), "-m", "agent", BACKGROUND]


def windows_command_line(argv: list[str]) -> str:
    """Every argument quoted when needed; the executable always (a path with spaces must not split)."""
    exe, *rest = argv
    quoted = [f'"{exe}"'] + [f'"{a}"' if (" " in a or not a) else a for a in rest]
    return " ".join(quoted)


class NullAutostart:
    available = False
    label = S.MENU_AUTOSTART_OTHER

    def is_enabled(self) -> bool:
        return False

    def enable(self) -> None:
        raise OSError("el inicio automático no está disponible en este sistema")

    def disable(self) -> None:
        return None

    def repair(self) -> str | None:
        return None


class WindowsRunKey:
    """HKCU Run value. `winreg` is looked up at call time so tests can inject a fake module."""

    available = True
    label = S.MENU_AUTOSTART_WINDOWS

    def __init__(self, argv: list[str] | None = None, value_name: str = VALUE_NAME) -> None:
        self.argv = argv or launch_command()
        self.value_name = value_name

    @staticmethod
    def _winreg() -> Any:
        import winreg

        return winreg

    @property
    def command_line(self) -> str:
        return windows_command_line(self.argv)

    def _run_value(self) -> str | None:
        reg = self._winreg()
        try:
            with reg.OpenKey(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_READ) as key:
                value, _kind = reg.QueryValueEx(key, self.value_name)
        except FileNotFoundError:
            return None
        return str(value) if value else None

    def disabled_in_task_manager(self) -> bool:
        """Task Manager's "Deshabilitado": 12 bytes under StartupApproved\\Run, the first one 0x03 (odd = off)."""
        reg = self._winreg()
        try:
            with reg.OpenKey(reg.HKEY_CURRENT_USER, APPROVED_KEY, 0, reg.KEY_READ) as key:
                data, _kind = reg.QueryValueEx(key, self.value_name)
        except FileNotFoundError:
            return False
        return isinstance(data, bytes | bytearray) and len(data) > 0 and bool(data[0] & 1)

    def is_enabled(self) -> bool:
        return self._run_value() is not None and not self.disabled_in_task_manager()

    def enable(self) -> None:
        reg = self._winreg()
        with reg.CreateKeyEx(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_SET_VALUE) as key:
            reg.SetValueEx(key, self.value_name, 0, reg.REG_SZ, self.command_line)
        try:  # the user asks for it now: lift Task Manager's "Deshabilitado" (no value = enabled)
            with reg.OpenKey(reg.HKEY_CURRENT_USER, APPROVED_KEY, 0, reg.KEY_SET_VALUE) as key:
                reg.DeleteValue(key, self.value_name)
        except FileNotFoundError:
            pass

    def disable(self) -> None:
        reg = self._winreg()
        try:
            with reg.OpenKey(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_SET_VALUE) as key:
                reg.DeleteValue(key, self.value_name)
        except FileNotFoundError:
            return  # already off

    def repair(self) -> str | None:
        """At start: a Run value naming another path (the program moved) is pointed at this program."""
        value = self._run_value()
        if value is None or value == self.command_line:
            return None
        reg = self._winreg()
        with reg.OpenKey(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_SET_VALUE) as key:
            reg.SetValueEx(key, self.value_name, 0, reg.REG_SZ, self.command_line)
        return f"autostart pointed at {value!r}; now {self.command_line!r}"


class XdgAutostart:
    """~/.config/autostart/ferrasync-agent.desktop (the freedesktop autostart spec)."""

    available = True
    label = S.MENU_AUTOSTART_OTHER

    def __init__(self, argv: list[str] | None = None, config_home: Path | None = None) -> None:
        self.argv = argv or launch_command()
        self._config_home = config_home

    @property
    def path(self) -> Path:
        base = self._config_home or Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        return base / "autostart" / DESKTOP_FILE

    def entry(self) -> str:
        return "\n".join(
            [
                "[Desktop Entry]",
                "Type=Application",
                f"Name={S.APP_AGENT}",
                "Comment=Sincroniza FerraWin con Manager y atiende las órdenes remotas",
                f"Exec={shlex.join(self.argv)}",
                "Icon=ferrasync",
                "Terminal=false",
                "X-GNOME-Autostart-enabled=true",
                "X-GNOME-Autostart-Delay=20",  # give the tray host time to appear (as Vorta does)
                "",
            ]
        )

    def is_enabled(self) -> bool:
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError:
            return False
        return "Hidden=true" not in text and "X-GNOME-Autostart-enabled=false" not in text

    def enable(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(self.entry(), encoding="utf-8")
        os.replace(tmp, self.path)

    def disable(self) -> None:
        self.path.unlink(missing_ok=True)

    def repair(self) -> str | None:
        """At start: an entry whose Exec names another path (the program moved) is rewritten for this one."""
        if not self.is_enabled() or self.path.read_text(encoding="utf-8") == self.entry():
            return None
        self.enable()
        return f"autostart entry {self.path} rewritten for {shlex.join(self.argv)}"


def default_strategy() -> WindowsRunKey | XdgAutostart | NullAutostart:
    if sys.platform == "win32":
        return WindowsRunKey()
    if sys.platform.startswith("linux"):
        return XdgAutostart()
    return NullAutostart()
