"""At start the tray checks the login entry (agent/autostart.py) through a registry double that behaves like
Windows: a Run value naming a moved program is repointed, and "Deshabilitado" in Task Manager unticks the menu."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication
from registry_double import FakeWinreg
from tray_fakes import ScriptedService, sample

from agent import autostart
from agent.tray_app import TrayApp
from sync.config.loading import load_settings

EXE = r"C:\Program Files\FerraSync\FerraSync Agent.exe"


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> FakeWinreg:
    reg = FakeWinreg()
    monkeypatch.setitem(sys.modules, "winreg", reg)
    return reg


def start_tray(qapp: QApplication, home: Path, strategy: Any) -> TrayApp:
    settings = load_settings(env={"FERRASYNC_HOME": str(home), "FERRASYNC_TIME_SCALE": "0.01"})
    return TrayApp(qapp, settings, background=True, use_tray=True, autostart=strategy,
                   service_factory=lambda s, **cb: ScriptedService(s, initial=sample("idle"), **cb))  # fmt: skip


def autostart_item(app: TrayApp) -> Any:
    return next(item for item in app.tray.menu_model() if item.key == "autostart")


@pytest.mark.parametrize(("first_byte", "ticked"), [(0x02, True), (0x03, False)])
def test_start_repairs_a_moved_program_and_ticks_only_what_windows_will_run(
    qapp: QApplication, registry: FakeWinreg, tmp_path: Path, first_byte: int, ticked: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    autostart.WindowsRunKey([r"C:\Users\ana\Descargas\FerraSync Agent.exe", "--background"]).enable()
    registry.keys.add(autostart.APPROVED_KEY)
    registry.values[(autostart.APPROVED_KEY, autostart.VALUE_NAME)] = (bytes([first_byte]) + bytes(11), 3)
    app = start_tray(qapp, tmp_path, autostart.WindowsRunKey([EXE, "--background"]))
    try:
        assert registry.values[(autostart.RUN_KEY, autostart.VALUE_NAME)][0] == f'"{EXE}" --background'
        assert autostart_item(app).checked is ticked
    finally:
        app.quit_signal.disconnect()
        monkeypatch.setattr(app.app, "quit", lambda: None)  # the test's QApplication lives on
        app.quit()
        app.window.close()
