""""Acerca de" in both programs: the tray menu's item and the control window's Ayuda menu open a box with
the program's name, the package's version and the publisher (the facts of the Windows version resource)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QWidget
from tray_fakes import ScriptedService, sample

from agent.ui.tray import TrayController
from desktop.ui.window import ControlWindow
from sync import __version__

PROJECT = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
PUBLISHER = PROJECT["project"]["authors"][0]["name"]


def check_box(box: Any, program: str) -> None:
    assert box.isVisible() and not box.isModal()
    assert box.windowTitle() == f"Acerca de {program}"
    assert f"<b>{program}</b>" in box.text()
    assert f"Versión {__version__}" in box.text() and __version__ == PROJECT["project"]["version"]
    assert f"© {PUBLISHER}" in box.text()


def test_the_tray_menu_opens_about(qtbot: Any) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    tray = TrayController(ScriptedService(initial=sample("idle")), parent)
    tray.build_menu()
    action = next(a for a in tray.menu.actions() if a.objectName() == "about")
    assert action.text() == "Acerca de FerraSync…"
    action.trigger()
    assert tray.about_box is not None
    qtbot.addWidget(tray.about_box)
    check_box(tray.about_box, "FerraSync Agent")
    tray.tray.hide()


def test_the_control_window_help_menu_opens_about(qtbot: Any, control_settings: Any) -> None:
    window = ControlWindow(control_settings)
    qtbot.addWidget(window)
    window.show()
    help_menu = window.menuBar().actions()[0]
    assert help_menu.text() == "Ay&uda"
    assert [a.text() for a in help_menu.menu().actions()] == ["Acerca de FerraSync…"]
    window.action_about.trigger()
    assert window.about_box is not None
    check_box(window.about_box, "FerraSync Control")
    window.about_box.close()
    window.close()
