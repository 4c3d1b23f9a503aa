"""Screenshots of the tray agent: every tray state, the status window per state, the menu, the settings.

`.venv/bin/python scripts/screenshots_agent.py [OUT_DIR]` (default docs/screenshots). Offscreen Qt; the
snapshots are the samples of tests/gui/tray_fakes.py, the widgets are the real ones, and the Registro box
shows what the real activity writer (agent/activity.py) writes for a sequence of those snapshots.
Writes agent-tray-<state>.png, agent-status-<state>.png, agent-menu.png, agent-settings.png,
agent-already-running.png and agent-import-confirm.png.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "gui")]

from PySide6.QtCore import QPoint, QRect, Qt  # noqa: E402
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402
from tray_fakes import ScriptedService, sample  # noqa: E402

from agent.ui import icons, model  # noqa: E402
from agent.ui.status_window import StatusWindow  # noqa: E402
from agent.ui.tray import TrayController  # noqa: E402
from qtshared.settings_dialog import SettingsDialog  # noqa: E402

TASKBARS = (("#1f1f1f", "#ffffff"), ("#f3f3f3", "#1f1f1f"))  # dark and light (Windows 11 defaults)


def tray_image(state: str) -> QImage:
    """The real tray icon at 16, 24 and 32 px on a dark and a light taskbar, with its tooltip."""
    snap = sample(state)
    icon = icons.tray_icon(model.visual_state(snap), model.progress_fraction(snap))
    font = QFont()
    font.setPointSize(10)
    tip = model.tooltip(snap)
    # as wide as the whole tooltip (at most 127 characters): the picture never cuts what Windows would show
    text_x = 12 + (16 + 12) + (24 + 12) + (32 + 12) + 8
    width = max(560, text_x + QFontMetrics(font).horizontalAdvance(tip) + 16)
    image = QImage(width, 2 * 48, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    painter.setFont(font)
    for row, (bar, ink) in enumerate(TASKBARS):
        top = row * 48
        painter.fillRect(QRect(0, top, width, 48), QColor(bar))
        x = 12
        for size in (16, 24, 32):
            painter.drawPixmap(x, top + (48 - size) // 2, icon.pixmap(size, size))
            x += size + 12
        painter.setPen(QColor(ink))
        painter.drawText(QRect(text_x, top, width - text_x, 48), Qt.AlignmentFlag.AlignVCenter, tip)
    painter.end()
    return image


def grab(widget: QWidget, path: Path) -> None:
    widget.adjustSize()
    widget.show()
    QApplication.processEvents()
    assert widget.grab().save(str(path)), path


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    _app = QApplication.instance() or QApplication(sys.argv[:1])  # kept alive until os._exit
    logs = Path(tempfile.mkdtemp()) / "logs"
    logs.mkdir()
    write_activity(logs)
    written = []
    for state in model.Visual:
        path = out / f"agent-tray-{state}.png"
        tray_image(state).save(str(path))
        window = StatusWindow(logs)
        window.resize(600, 660)
        window.update_snapshot(sample(state))
        grab_fixed(window, out / f"agent-status-{state}.png")
        window.close()
        written += [path, out / f"agent-status-{state}.png"]
    holder = QWidget()
    keyed = replace(sample("running"), signing="required")  # an office with a signing key: the menu says so
    tray = TrayController(ScriptedService(initial=keyed), holder, autostart=_Autostart(), parent=holder)
    tray.build_menu()
    tray.menu.popup(QPoint(0, 0))
    QApplication.processEvents()
    tray.menu.grab().save(str(out / "agent-menu.png"))
    tray.menu.hide()
    home = Path(tempfile.mkdtemp())
    dialog = SettingsDialog(home)
    dialog.set_value("FERRAWIN_HOST", "SERVIDOR-OFICINA")
    dialog.set_value("FERRAWIN_USERNAME", "sa")
    dialog.set_value("PRODUCTION_URL", "https://manager.ejemplo.com")
    grab(dialog, out / "agent-settings.png")
    written += [out / "agent-menu.png", out / "agent-settings.png"]
    written += message_boxes(out)
    print(f"screenshots_agent: {len(written)} PNG in {out}", flush=True)
    # Leave without tearing the widget tree down: the PNGs are written, and PySide's teardown order of
    # the tray, its menu and their parents is not worth risking a crash at exit of a one-shot script.
    os._exit(0)


def message_boxes(out: Path) -> list[Path]:
    """A second launch that cannot reach the running agent, and the .env import's confirmation."""
    from PySide6.QtWidgets import QMessageBox

    from agent.ui import strings as S
    from qtshared import strings as shared
    from sync.envfile import Change

    detail = ("Ya hay un agente FerraSync en marcha con la carpeta de datos C:\\Users\\oficina\\AppData\\Local\\"
              "FerraSync (proceso 4312). Use ferrasync-agent --status para verlo o --quit para cerrarlo.")  # fmt: skip
    text = S.ALREADY_RUNNING_UNREACHABLE.format(detail=detail)
    running = QMessageBox(QMessageBox.Icon.Information, S.APP_AGENT, text)
    changes = [Change("PRODUCTION_URL", "https://manager.taller.es", "https://otro.ejemplo.com", False),
               Change("PRODUCTION_TOKEN", "x", None, True), Change("FERRASYNC_AUTOSYNC_INTERVAL", None, "2", False)]
    preview = "Cambios que importaría C:\\xampp\\htdocs\\ferrawin-sync\\.env:\n" + "\n".join(c.line() for c in changes)
    buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
    confirm = QMessageBox(QMessageBox.Icon.Question, shared.IMPORT_ENV, shared.IMPORT_CONFIRM.format(preview=preview),
                          buttons)  # fmt: skip
    shots = [(running, out / "agent-already-running.png"), (confirm, out / "agent-import-confirm.png")]
    for box, path in shots:
        box.show()
        QApplication.processEvents()
        assert box.grab().save(str(path)), path
        box.hide()
    return [path for _, path in shots]


def grab_fixed(widget: QWidget, path: Path) -> None:
    widget.show()
    QApplication.processEvents()
    widget.refresh_log()  # type: ignore[attr-defined]
    QApplication.processEvents()
    assert widget.grab().save(str(path)), path


class _Autostart:
    available, label = True, "Iniciar con Windows"

    def is_enabled(self) -> bool:
        return True


def write_activity(logs: Path) -> None:
    """The Registro box shows what the real writer (agent/activity.py) makes of a real sequence of snapshots:
    connected and active, a run started from another PC, planned, completed, the channel lost."""
    from agent.activity import ActivityLog

    log = ActivityLog(logs)
    idle = replace(sample("idle"), connection="connecting", role="standby")
    running = replace(sample("running"), mode="incremental", target="production", origin={"hostname": "PC-TALLER"})
    starting = replace(running, state="starting", progress=replace(running.progress, total=0, done=0))
    steps = [idle, replace(idle, connection="connected", role="active"), starting, running,
             replace(sample("completed"), run_id=running.run_id), sample("disconnected")]  # fmt: skip
    for snap in steps:
        log.observe(snap)
    log.close()



if __name__ == "__main__":
    raise SystemExit(main())
