"""`ferrasync-agent` with a tray: the Qt application around the Qt-free AgentService.

One QApplication that never quits on its last window, one agent per user and data folder (a second
launch asks the first to show its status window and exits 0; agent.qt_single), the service's callbacks turned into
queued signals (agent.qt_bridge), runs in QThreads, the tray (agent.ui.tray) and its windows.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, QProcess, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon

from agent import autostart as autostart_mod
from agent.qt_bridge import Bridge
from agent.qt_single import claim_instance
from agent.snapshot import AgentSnapshot
from agent.ui import icons, model
from agent.ui import strings as S
from agent.ui.status_window import StatusWindow
from agent.ui.tray import Service, TrayController
from qtshared.qt_compat import protect_singletons
from qtshared.settings_dialog import SettingsDialog
from qtshared.workers import QtWorkers
from sync.config.model import Settings

log = logging.getLogger("ferrasync.agent.tray")
CONTROL_PROGRAM = "ferrasync-control"


class TrayService(Service, Protocol):
    """What the tray needs of agent.service.AgentService (the tray's tests give it a scripted one)."""

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def end_session(self) -> None: ...


ServiceFactory = Callable[..., TrayService]


def real_service(settings: Settings, **callbacks: Any) -> TrayService:
    from agent.service import AgentService

    return AgentService(settings, **callbacks)


def control_program() -> list[str] | None:
    """The control window's command: beside a frozen agent, else on PATH (the installed console script)."""
    if getattr(sys, "frozen", False):
        folder = Path(sys.executable).parent
        for name in ("FerraSync Control.exe", "ferrasync-control.exe", "ferrasync-control"):
            if (folder / name).is_file():
                return [str(folder / name)]
    found = shutil.which(CONTROL_PROGRAM) or shutil.which(CONTROL_PROGRAM, path=str(Path(sys.executable).parent))
    return [found] if found else None


class TrayApp(QObject):
    """Everything the tray agent is, wired together; `quit()` stops it cleanly."""

    quit_signal = Signal()

    def __init__(self, app: QApplication, settings: Settings, *, service_factory: ServiceFactory = real_service,
                 background: bool = False, autostart: Any = None, use_tray: bool | None = None) -> None:  # fmt: skip
        super().__init__(app)
        self.app, self.settings, self.factory = app, settings, service_factory
        self.bridge = Bridge(self)
        self.workers = QtWorkers(self)
        self.quit_signal.connect(self.quit, Qt.ConnectionType.QueuedConnection)
        service = self._make_service(settings)
        self.service: TrayService | None = service  # None once quit
        self.window = StatusWindow(self.logs_dir)
        self.settings_dialog: SettingsDialog | None = None
        self.pending_settings: Settings | None = None
        self.tray_available = QSystemTrayIcon.isSystemTrayAvailable() if use_tray is None else use_tray
        strategy = autostart if autostart is not None else autostart_mod.default_strategy()
        repair_autostart(strategy)
        self.tray = TrayController(service, self.window, time_scale=settings.time_scale,
                                   autostart=strategy, parent=self)  # fmt: skip
        self._wire()
        service.start()
        self.tray.update_snapshot(service.snapshot())
        if self.tray_available:
            self.tray.tray.show()
        if not self.tray_available or not background:
            self.show_window()

    @property
    def logs_dir(self) -> Path:
        return Path(self.settings.home) / "logs"

    def _make_service(self, settings: Settings) -> TrayService:
        return self.factory(
            settings,
            on_snapshot=self.bridge.on_snapshot,
            on_notice=self.bridge.on_notice,
            start_worker=self.workers.start,
            on_quit=self.quit_signal.emit,
        )

    def _wire(self) -> None:
        self.bridge.snapshot.connect(self.on_snapshot)
        self.bridge.notice.connect(self.tray.show_notice)
        self.tray.window_requested.connect(self.show_window)
        self.tray.settings_requested.connect(self.open_settings)
        self.tray.logs_requested.connect(self.open_logs)
        self.tray.control_requested.connect(self.open_control)
        self.tray.quit_requested.connect(self.quit)
        self.window.command_requested.connect(self.tray.choose)
        self.window.logs_requested.connect(self.open_logs)
        self.window.settings_requested.connect(self.open_settings)
        # Logoff/shutdown: Windows ends the process ~5 s after asking; the run is interrupted and published first.
        self.app.commitDataRequest.connect(lambda _manager: self.end_session())
        self.app.aboutToQuit.connect(self.quit)
        if not self.tray_available:  # the window is all there is: closing it leaves
            self.app.setQuitOnLastWindowClosed(True)
            self.app.lastWindowClosed.connect(self.quit)

    # -- slots -------------------------------------------------------------------------------------

    @Slot(object)
    def on_snapshot(self, snap: AgentSnapshot) -> None:
        self.tray.update_snapshot(snap)
        if self.window.isVisible():
            self.window.update_snapshot(snap, self.tray.stopping_for(), self.settings.time_scale)
        if self.pending_settings is not None and not model.run_state(snap).busy:
            self._apply_settings(self.pending_settings)

    @Slot()
    def show_window(self) -> None:
        if self.service is None:  # quitting: nothing to show
            return
        self.window.update_snapshot(self.service.snapshot(), self.tray.stopping_for(), self.settings.time_scale)
        self.window.present()

    @Slot(str)
    def on_message(self, message: str) -> None:
        """From a second launch (agent.qt_single)."""
        if message == "show":
            self.show_window()
            self.tray.inform(S.APP_AGENT, S.ALREADY_RUNNING)  # a second launch is never silent
        elif message == "quit":
            self.quit()

    @Slot()
    def open_logs(self) -> None:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.logs_dir))):
            self.tray.inform(S.APP, S.LOGS_FAILED.format(path=self.logs_dir))

    @Slot()
    def open_control(self) -> None:
        command = control_program()
        if command is None:
            self.tray.inform(S.CONTROL_MISSING_TITLE, S.CONTROL_MISSING)
            return
        if not QProcess.startDetached(command[0], command[1:]):
            self.tray.inform(S.APP, S.CONTROL_FAILED.format(error=command[0]))

    @Slot()
    def open_settings(self) -> None:
        if self.settings_dialog is None:
            self.settings_dialog = SettingsDialog(Path(self.settings.home), self.window)
            self.settings_dialog.saved.connect(self.on_settings_saved)
        else:
            self.settings_dialog.load()
        self.settings_dialog.show()
        self.settings_dialog.raise_()
        self.settings_dialog.activateWindow()

    @Slot(object)
    def on_settings_saved(self, settings: Settings) -> None:
        if self.service is None:  # quitting: the new settings apply at the next start
            return
        if model.run_state(self.service.snapshot()).busy:
            self.pending_settings = settings
            self.tray.inform(S.APP, S.SETTINGS_RESTART)
            return
        self._apply_settings(settings)

    def _apply_settings(self, settings: Settings) -> None:
        """Restart the service on the new settings (only between runs)."""
        self.pending_settings = None
        if self.service is None:  # quitting: the new settings apply at the next start
            return
        self.service.stop()
        self.settings = settings
        self.tray.time_scale = settings.time_scale
        service = self.service = self._make_service(settings)
        self.tray.service = service
        service.start()
        self.tray.update_snapshot(service.snapshot())

    @Slot()
    def end_session(self) -> None:
        """The session is ending (Qt's commitDataRequest, SIGTERM): interrupt the run, publish it, leave."""
        if self.service is not None:
            self.service.end_session()
        self.quit()

    @Slot()
    def quit(self) -> None:
        if self.service is None:
            return
        service, self.service = self.service, None
        service.stop()  # cooperative: the run stops at a planilla boundary (killed after 10 s)
        self.workers.shutdown()
        if self.settings_dialog is not None:
            self.settings_dialog.shutdown()
        self.tray.tray.hide()
        self.app.quit()


def run_tray(args: argparse.Namespace, load: Callable[[argparse.Namespace], Settings]) -> int:
    """Entry point from agent.cli when --headless is not given; `load` is its settings loader (agent.cli imports
    this module, so it hands the loader over rather than being imported back)."""
    from agent.logs import secret_values, setup_logging
    from sync.errors import FerraSyncError

    protect_singletons()  # before the app and the service's threads exist
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName(S.APP_AGENT)
    app.setQuitOnLastWindowClosed(False)
    app.setWindowIcon(icons.app_icon())
    try:
        settings = load(args)
    except FerraSyncError as exc:
        QMessageBox.critical(None, S.SETTINGS_INVALID_TITLE, exc.message)
        return exc.exit_code
    background = bool(getattr(args, "background", False))
    claimed = claim_instance(settings.home, app, background=background,
                             inform=lambda text: _inform(text))  # fmt: skip
    if claimed is None:
        return 0  # the running agent brings its window forward
    lock, single = claimed
    handlers = setup_logging(settings.home, settings.log_level, secret_values(settings), console=False)
    try:
        agent = TrayApp(app, settings, background=background)
        single.message.connect(agent.on_message)
        end_session_on_sigterm(agent)
        if not agent.tray_available:
            log.warning("no system tray: showing the status window instead")
        return int(app.exec())
    finally:
        for handler in handlers:
            logging.getLogger().removeHandler(handler)
            handler.close()
        lock.release()


def _inform(text: str) -> None:
    QMessageBox.information(None, S.APP_AGENT, text)


def repair_autostart(strategy: Any) -> None:
    """The login entry may name a moved program: point it here. Never a reason not to start."""
    try:
        done = strategy.repair() if hasattr(strategy, "repair") else None
    except OSError as exc:
        log.warning("Could not check the autostart entry: %s", exc)
        return
    if done:
        log.info("Repaired %s", done)


def end_session_on_sigterm(agent: TrayApp) -> None:
    """SIGTERM (a logout on Linux, `kill`) ends the session as Qt's commitDataRequest does on Windows."""
    signal.signal(signal.SIGTERM, lambda *_: QTimer.singleShot(0, agent.end_session))
    poll = QTimer(agent)  # Python runs signal handlers only when it gets control: wake it while Qt waits
    poll.start(250)
