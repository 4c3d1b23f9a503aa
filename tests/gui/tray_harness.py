"""A tray agent for the Xvfb test: the real TrayApp over the scripted service, reporting on stdout.

Run with DISPLAY set and QT_QPA_PLATFORM=xcb. One JSON object per line: ready (tray geometry),
icon (visual state shown), menu (global geometry of each action when the context menu opens), window.
"""

from __future__ import annotations

import json
import signal
import sys
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from tray_fakes import ScriptedService, sample

from agent.tray_app import TrayApp
from sync.config.loading import load_settings


def emit(**event: Any) -> None:
    print(json.dumps(event), flush=True)


def main() -> int:
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    settings = load_settings()

    def factory(s: Any, **cb: Any) -> ScriptedService:
        return ScriptedService(s, initial=sample("running"), settle_s=0.3, **cb)

    agent = TrayApp(app, settings, background=True, service_factory=factory)
    tray = agent.tray
    tray.icon_changed.connect(lambda state: emit(event="icon", state=state))
    original_show = agent.show_window

    def show_window() -> None:
        original_show()
        emit(event="window", visible=agent.window.isVisible())

    tray.window_requested.disconnect()
    tray.window_requested.connect(show_window)

    def report_menu() -> None:
        menu = tray.menu
        if not menu.isVisible():
            QTimer.singleShot(50, report_menu)
            return
        actions = {}
        for action in menu.actions():
            if action.isSeparator():
                continue
            rect = menu.actionGeometry(action)
            top_left = menu.mapToGlobal(rect.topLeft())
            actions[action.text()] = [top_left.x(), top_left.y(), rect.width(), rect.height(), action.isEnabled()]
        emit(event="menu", actions=actions)

    tray.menu.aboutToShow.connect(lambda: QTimer.singleShot(50, report_menu))

    def report_ready() -> None:
        geometry = tray.tray.geometry()
        if geometry.width() <= 0:
            QTimer.singleShot(100, report_ready)
            return
        emit(event="ready", tray=agent.tray_available, state=tray.visual,
             geometry=[geometry.x(), geometry.y(), geometry.width(), geometry.height()])  # fmt: skip

    QTimer.singleShot(100, report_ready)
    code = app.exec()
    agent.quit()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
