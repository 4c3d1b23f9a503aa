"""The control window (docs/ui.md, "Control window"): connection, target, agents, live status, commands, tabs.

Kept whole: one QMainWindow that lays out the tabs and wires them to the controller; the parts
are in desktop/ui/tabs.py, widgets.py, dialogs.py, and the logic in desktop/controller.py.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop import formatting, strings
from desktop.controller import Controller
from desktop.delivery import NO_ANSWER, SEND_FAILED
from desktop.prefs import ControlPrefs
from desktop.ui.bridge import ControllerBridge
from desktop.ui.dialogs import ConfirmDialog, InputDialog, control_settings_dialog
from desktop.ui.report_dialog import ReportDialog
from desktop.ui.tabs import AutoSyncTab, ErrorsTab, EventsTab, HistoryTab, LogTab
from desktop.ui.widgets import AgentsPanel, StatusPanel, dot_icon, paint_target
from desktop.validation import InputError
from qtshared import strings as shared_strings
from qtshared.about import show_about
from qtshared.settings_dialog import SettingsDialog
from sync import protocol
from sync.config.model import Settings

CONNECTION_COLOURS = {"subscribed": "#16a34a", "connecting": "#d97706", "connected": "#d97706"}


class ControlWindow(QMainWindow):
    def __init__(self, settings: Settings, controller: Controller | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.home = Path(settings.home)
        self.prefs = ControlPrefs.load(self.home)
        self.controller = controller or Controller(settings)
        self.dialog: QDialog | None = None  # the dialog open right now (tests drive it)
        self.report_dialog: ReportDialog | None = None  # the answer to the last explain/reconcile
        self.setWindowTitle(strings.APP_TITLE)
        self.resize(1000, 680)
        self.setMinimumSize(900, 600)
        self._build()
        self.bridge = ControllerBridge(self.controller, self)
        self.bridge.changed.connect(self.refresh)
        self.ticker = QTimer(self)
        self.ticker.setInterval(1000)  # ages, liveness and the kill offer change with time alone
        self.ticker.timeout.connect(lambda: self.refresh("tick"))
        self._restore_geometry()
        self.refresh_all()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(16, 16, 16, 16)
        outer.setSpacing(8)
        outer.addLayout(self._top_bar())
        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.agents_panel = AgentsPanel()
        self.agents_panel.setMinimumWidth(180)
        splitter.addWidget(self.agents_panel)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(16, 0, 0, 0)
        right_layout.setSpacing(8)
        self.status_panel = StatusPanel()
        right_layout.addWidget(self.status_panel)
        right_layout.addLayout(self._command_row())
        right_layout.addLayout(self._delivery_row())
        right_layout.addWidget(self._tabs(), 1)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([240, 760])
        outer.addWidget(splitter, 1)
        self.setCentralWidget(central)
        help_menu = self.menuBar().addMenu(strings.MENU_HELP)
        self.action_about = help_menu.addAction(shared_strings.MENU_ABOUT)
        self.action_about.triggered.connect(self.show_about)
        self.about_box: QMessageBox | None = None

    def show_about(self) -> None:
        self.about_box = show_about(self, strings.ABOUT_PROGRAM)

    def _top_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        self.connection_dot = QLabel()
        self.connection_label = QLabel()
        self.connection_label.setTextFormat(Qt.TextFormat.PlainText)  # the server's close reason is in it
        self.settings_button = QPushButton(strings.SETTINGS)
        self.settings_button.setToolTip("Datos del canal remoto (Pusher) y opciones de esta ventana")
        self.settings_button.clicked.connect(self.open_settings)
        self.target = QComboBox()
        self.target.setToolTip(strings.TARGET_TIP)
        self.target.currentIndexChanged.connect(self._target_changed)
        target_label = QLabel("&Destino:")
        target_label.setBuddy(self.target)
        bar.addWidget(self.connection_dot)
        bar.addWidget(self.connection_label)
        bar.addStretch(1)
        bar.addWidget(self.settings_button)
        bar.addSpacing(16)
        bar.addWidget(target_label)
        bar.addWidget(self.target)
        self._fill_targets()
        return bar

    def _command_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.sync_button = QToolButton()
        self.sync_button.setText("&" + strings.SYNC_BUTTON)
        self.sync_button.setToolTip(strings.SYNC_TIP)
        self.sync_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.sync_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.sync_button.setMinimumHeight(36)
        self.sync_button.setStyleSheet(
            "QToolButton { font-weight: bold; padding: 4px 12px; } QToolButton::menu-indicator { image: none; }"
        )
        self.sync_menu = self._sync_menu()
        self.sync_button.setMenu(self.sync_menu)
        self.pause_button = self._button(strings.PAUSE, strings.PAUSE_TIP, lambda: self.send("pause"), "Ctrl+P")
        self.resume_button = self._button(strings.RESUME, strings.RESUME_TIP, lambda: self.send("resume"), "Ctrl+R")
        self.stop_button = self._button(strings.STOP, strings.STOP_TIP, self.confirm_stop, "Ctrl+D")
        self.kill_button = self._button(strings.KILL, strings.KILL_TIP, self.confirm_kill, None)
        self.kill_button.setStyleSheet("QPushButton { color: #dc2626; font-weight: bold; }")
        self.status_button = self._button(strings.STATUS, strings.STATUS_TIP, lambda: self.send("status"), "F5")
        self.find_button = self._button(strings.FIND_PLANILLA, strings.FIND_PLANILLA_TIP, self.ask_explain, "Ctrl+F")
        self.reconcile_button = self._button(strings.RECONCILE_BUTTON, strings.RECONCILE_TIP, self.ask_reconcile, None)
        row.addWidget(self.sync_button)
        # Pausar and Reanudar take turns in one place, so they share one width; «Forzar detención» comes last:
        # appearing or swapping, nothing a person is about to click moves.
        shared = max(self.pause_button.sizeHint().width(), self.resume_button.sizeHint().width())
        for button in (self.pause_button, self.resume_button):
            button.setMinimumWidth(shared)
        for button in (self.pause_button, self.resume_button, self.stop_button, self.status_button, self.kill_button):
            button.setMinimumHeight(36)
            row.addWidget(button)
        row.addStretch(1)
        for button in (self.find_button, self.reconcile_button):
            button.setMinimumHeight(36)
            row.addWidget(button)
        return row

    def _button(self, text: str, tip: str, slot: Any, shortcut: str | None) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip + (f" ({shortcut})" if shortcut else ""))
        button.clicked.connect(slot)
        if shortcut:
            button.setShortcut(QKeySequence(shortcut))
        button.setProperty("base_tip", button.toolTip())
        return button

    def _sync_menu(self) -> QMenu:
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        self.action_incremental = self._action(menu, strings.MENU_INCREMENTAL, strings.MENU_INCREMENTAL_TIP,
                                               lambda: self.start_sync("incremental"))  # fmt: skip
        self.action_nuevas = self._action(menu, strings.MENU_NUEVAS, strings.MENU_NUEVAS_TIP,
                                          lambda: self.start_sync("nuevas"))  # fmt: skip
        self.year_menu = menu.addMenu(strings.MENU_YEAR)
        self.year_menu.setToolTipsVisible(True)
        self.year_menu.aboutToShow.connect(self._fill_years)
        self._fill_years()
        self.action_planilla = self._action(menu, strings.MENU_PLANILLA, strings.MENU_PLANILLA_TIP,
                                            self.ask_planilla)  # fmt: skip
        self.action_desde = self._action(menu, strings.MENU_DESDE, strings.MENU_DESDE_TIP,
                                         self.ask_desde)  # fmt: skip
        menu.addSeparator()
        self.action_rebuild = self._action(menu, strings.MENU_REBUILD, strings.MENU_REBUILD_TIP,
                                           self.confirm_rebuild)  # fmt: skip
        return menu

    @staticmethod
    def _action(menu: QMenu, text: str, tip: str, slot: Any) -> QAction:
        action = menu.addAction(text)
        action.setToolTip(tip)
        action.triggered.connect(slot)
        return action

    def _fill_years(self) -> None:
        self.year_menu.clear()
        years = self.controller.years()
        for year in years:
            action = self.year_menu.addAction(year)
            action.setToolTip(f"Sincronizar las planillas de {year}")
            action.triggered.connect(lambda _=False, y=year: self.start_sync("historico", anio=y))
        if not years:
            placeholder = self.year_menu.addAction(strings.MENU_NO_YEARS)
            placeholder.setEnabled(False)
        self.year_menu.addSeparator()
        other = self.year_menu.addAction(strings.MENU_YEAR_OTHER)
        other.triggered.connect(self.ask_year)

    def _delivery_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.delivery = QLabel()
        self.delivery.setToolTip("Qué pasó con la última orden enviada desde esta ventana")
        self.retry_button = QPushButton(strings.RETRY)
        self.retry_button.setToolTip("Vuelve a enviar la misma orden (el agente no la ejecutará dos veces)")
        self.retry_button.clicked.connect(self.retry_last)
        keep_place = self.retry_button.sizePolicy()
        keep_place.setRetainSizeWhenHidden(True)  # the row keeps its height: the tabs under it stay put
        self.retry_button.setSizePolicy(keep_place)
        self.retry_button.hide()
        row.addWidget(self.delivery, 1)
        row.addWidget(self.retry_button)
        return row

    def _tabs(self) -> QTabWidget:
        self.tabs = QTabWidget()
        self.history_tab = HistoryTab()
        self.events_tab = EventsTab()
        self.log_tab = LogTab()
        self.errors_tab = ErrorsTab()
        self.autosync_tab = AutoSyncTab(self.apply_autosync)
        for widget, title in ((self.history_tab, strings.TAB_HISTORY), (self.events_tab, strings.TAB_EVENTS),
                              (self.log_tab, strings.TAB_LOG), (self.errors_tab, strings.TAB_ERRORS),
                              (self.autosync_tab, strings.TAB_AUTOSYNC)):  # fmt: skip
            self.tabs.addTab(widget, title)
        return self.tabs

    # ------------------------------------------------------------------ target
    def _fill_targets(self) -> None:
        self.target.blockSignals(True)
        self.target.clear()
        self.target.addItem(strings.TARGET_LABELS["production"], "production")
        if self.prefs.allow_local:
            self.target.addItem(strings.TARGET_LABELS["local"], "local")
        self.target.setCurrentIndex(max(0, self.target.findData(self.prefs.target)))
        self.target.blockSignals(False)
        self._target_changed()
        self.autosync_tab.set_targets(self.prefs.allow_local) if hasattr(self, "autosync_tab") else None

    def _target_changed(self) -> None:
        target = self.current_target()
        paint_target(self.target)
        if target != self.prefs.target:
            self.prefs.target = target
            self.prefs.save(self.home)

    def current_target(self) -> str:
        return str(self.target.currentData() or "production")

    # ------------------------------------------------------------------ commands
    def send(self, command: str, params: protocol.Params = None) -> None:
        if self._needs_settings():
            return
        self.controller.send(command, params)

    def start_sync(self, modo: str, **fields: Any) -> str | None:
        """Send a start; returns the problem with the input (nothing sent) or None."""
        if self._needs_settings():
            return None
        try:
            self.controller.start_sync(modo, self.current_target(), **fields)
        except InputError as exc:
            return exc.message
        return None

    def _needs_settings(self) -> bool:
        if self.controller.connection == "unconfigured":
            self.open_settings()
            return True
        return False

    def ask_planilla(self) -> None:
        self._open(InputDialog(self, strings.PLANILLA_TITLE, strings.PLANILLA_LABEL, strings.PLANILLA_PLACEHOLDER,
                               lambda text: self.start_sync("especifica", codigo=text)))  # fmt: skip

    def ask_desde(self) -> None:
        def submit(text: str) -> str | None:
            year = text.strip()[:4]
            # The web monitor's "continuar": the code's year, from that planilla downwards.
            return self.start_sync("historico", anio=year if year.isdigit() else "", desde=text)

        self._open(InputDialog(self, strings.DESDE_TITLE, strings.DESDE_LABEL, strings.PLANILLA_PLACEHOLDER, submit))

    def ask_year(self) -> None:
        self._open(InputDialog(self, strings.YEAR_TITLE, strings.YEAR_LABEL, strings.YEAR_PLACEHOLDER,
                               lambda text: self.start_sync("historico", anio=text)))  # fmt: skip

    def confirm_rebuild(self) -> None:
        text = strings.CONFIRM_REBUILD.format(target=formatting.target_label(self.current_target()))
        self._open(ConfirmDialog(self, strings.CONFIRM_REBUILD_TITLE, text, "Sí, sincronizar TODO",
                                 lambda: self.start_sync("rebuild")))  # fmt: skip

    def confirm_stop(self) -> None:
        agent = self.controller.active_agent()
        planilla = (agent.status.get("lastPlanilla") if agent else None) or "—"
        self._open(ConfirmDialog(self, strings.CONFIRM_STOP_TITLE, strings.CONFIRM_STOP.format(planilla=planilla),
                                 "Sí, detener", lambda: self.send("stop")))  # fmt: skip

    def _offer_force(self) -> None:
        """The safety limit refused a start sent from here: ask, and on Sí send it again with force."""
        offer = self.controller.take_force_offer()
        if offer is None:
            return
        text = shared_strings.confirm_force(offer.found, offer.limit)
        self._open(ConfirmDialog(self, shared_strings.CONFIRM_FORCE_TITLE, text, shared_strings.CONFIRM_FORCE_YES,
                                 lambda: self.controller.force_start(offer)))  # fmt: skip

    def confirm_kill(self) -> None:
        self._open(ConfirmDialog(self, strings.CONFIRM_KILL_TITLE, strings.CONFIRM_KILL, "Sí, forzar la detención",
                                 lambda: self.send("kill")))  # fmt: skip

    def ask_explain(self) -> None:
        def submit(text: str) -> str | None:
            if self._needs_settings():
                return None
            try:
                tracked = self.controller.explain(text, self.current_target())
            except InputError as exc:
                return exc.message
            codigo = str(tracked.params.get("codigo"))
            self.show_report(ReportDialog(self, strings.REPORT_TITLE_EXPLAIN.format(codigo=codigo), tracked.request_id))
            return None

        self._open(InputDialog(self, strings.FIND_TITLE, strings.FIND_LABEL, strings.PLANILLA_PLACEHOLDER, submit))

    def ask_reconcile(self) -> None:
        if self._needs_settings():
            return
        tracked = self.controller.reconcile(self.current_target())
        title = strings.REPORT_TITLE_RECONCILE.format(target=formatting.target_label(self.current_target()))
        self.show_report(ReportDialog(self, title, tracked.request_id))

    def show_report(self, dialog: ReportDialog) -> None:
        if self.report_dialog is not None:
            self.report_dialog.close()
        self.report_dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _: self._report_closed(dialog))
        dialog.refresh(self.controller)
        dialog.show()

    def _report_closed(self, dialog: ReportDialog) -> None:
        if self.report_dialog is dialog:
            self.report_dialog = None

    def apply_autosync(self, enabled: bool, interval: int, target: str) -> None:
        if not self._needs_settings():
            self.controller.configure_autosync(enabled, interval, target)

    def retry_last(self) -> None:
        last = self.controller.last_command()
        if last is not None:
            self.controller.retry(last.request_id)

    def _open(self, dialog: QDialog) -> None:
        self.dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _: setattr(self, "dialog", None))
        dialog.open()

    def open_settings(self) -> None:
        if isinstance(self.dialog, SettingsDialog):
            return
        dialog = control_settings_dialog(self, self.home, self.prefs)
        dialog.saved.connect(self._settings_saved)
        self._open(dialog)

    def _settings_saved(self, settings: Settings) -> None:
        """New credentials: reconnect with a fresh controller; new options: refill the target list."""
        self._fill_targets()
        self.settings = settings
        old = self.controller
        self.bridge.detach()
        old.stop()
        self.controller = Controller(settings, timings=old.timings)
        self.bridge = ControllerBridge(self.controller, self)
        self.bridge.changed.connect(self.refresh)
        self.controller.start()
        self.refresh_all()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> ControlWindow:
        """Connect and start refreshing; with no credentials the settings open first."""
        self.controller.start()
        self.ticker.start()
        self.refresh_all()
        if self.controller.connection == "unconfigured":
            QTimer.singleShot(0, self.open_settings)
        return self

    def closeEvent(self, event: QCloseEvent) -> None:
        self.prefs.geometry = bytes(self.saveGeometry().toBase64().data()).decode("ascii")
        self.prefs.save(self.home)
        self.ticker.stop()
        self.bridge.detach()
        self.controller.stop()
        for dialog in self.findChildren(SettingsDialog):
            dialog.shutdown()  # a running "Probar conexión" ends within its timeout; never kill its thread
        super().closeEvent(event)

    def _restore_geometry(self) -> None:
        if self.prefs.geometry:
            self.restoreGeometry(QByteArray.fromBase64(self.prefs.geometry.encode("ascii")))

    # ------------------------------------------------------------------ refresh
    def refresh_all(self) -> None:
        for topic in ("connection", "agents", "commands", "events", "history", "errors"):
            self.refresh(topic)

    def refresh(self, topic: str) -> None:
        if topic in ("connection", "tick"):
            self._show_connection()  # the countdown to the next try moves with time alone
        if topic in ("agents", "status", "tick", "connection"):
            self._show_agents()
        if topic in ("commands", "tick"):
            self._show_delivery()
        if topic in ("events", "commands"):
            self.events_tab.update_events(self.controller.event_list(), self.controller)
        if topic in ("events", "status"):
            self.log_tab.update_log(self.controller.log_list())
        if topic == "history":
            self.history_tab.update_runs(self.controller.runs())
        if topic in ("reports", "commands", "tick") and self.report_dialog is not None:
            self.report_dialog.refresh(self.controller)
        if topic == "force":
            self._offer_force()
        if topic in ("errors", "history"):
            errors = self.controller.error_list()
            self.errors_tab.update_errors(errors)
            self.tabs.setTabText(3, f"{strings.TAB_ERRORS} ({len(errors)})" if errors else strings.TAB_ERRORS)
        self._show_controls()

    def _show_connection(self) -> None:
        state = self.controller.connection
        self.connection_dot.setPixmap(
            dot_icon(CONNECTION_COLOURS.get(state, "#6b7280"), state != "subscribed").pixmap(12, 12)
        )
        self.connection_label.setText(self.controller.connection_text())
        offline = self.controller.offline
        detail = strings.TECH_DETAIL.format(detail=offline.detail) if offline and offline.detail else ""
        self.connection_label.setToolTip("\n".join(filter(None, (strings.CONNECTION_TIP, detail))))

    def _show_agents(self) -> None:
        agents = self.controller.agents()
        self.agents_panel.update_agents(agents, self.controller.legacy_listeners())
        active = next((a for a in agents if a.active), None)
        if not self.controller.connected:
            self.status_panel.show_nobody(self.controller.connection_text())
        elif active is None:
            self.status_panel.show_nobody(None)
        else:
            self.status_panel.show_agent(active)
            autosync = active.status.get("autosync")
            self.autosync_tab.update_autosync(autosync if isinstance(autosync, dict) else None)

    def _show_delivery(self) -> None:
        last = self.controller.last_command()
        if last is None:
            self.delivery.setText("")
            self.retry_button.hide()
            return
        what = formatting.command_text(last.command, last.params)
        text = self.controller.delivery_text(last)
        colour = {"accepted": "#16a34a", "duplicate": "#16a34a", "rejected": "#dc2626", NO_ANSWER: "#b45309",
                  SEND_FAILED: "#dc2626"}.get(last.state, "#374151")  # fmt: skip
        sent = formatting.local_time(str(last.wire.get("timestamp")), "%H:%M:%S")
        # The ack's reason comes from the network: escaped, so it is shown as text and never rendered.
        self.delivery.setText(f'{escape(sent)}  {escape(what)}  <span style="color:{colour}">{escape(text)}</span>')
        self.retry_button.setVisible(last.state in (NO_ANSWER, SEND_FAILED))

    def _show_controls(self) -> None:
        controls = self.controller.controls()
        pairs = ((self.sync_button, controls.start), (self.pause_button, controls.pause),
                 (self.resume_button, controls.resume), (self.stop_button, controls.stop),
                 (self.kill_button, controls.kill), (self.status_button, controls.status),
                 (self.autosync_tab.apply, controls.autosync), (self.find_button, controls.status),
                 (self.reconcile_button, controls.status))  # fmt: skip
        for widget, enabled in pairs:
            widget.setEnabled(enabled)
            base = widget.property("base_tip") or widget.toolTip()
            widget.setProperty("base_tip", base)
            widget.setToolTip(base if enabled or not controls.why_not else f"{base}\n{controls.why_not}")
        # Pausar and Reanudar share a place: whichever makes sense is shown.
        self.resume_button.setVisible(controls.resume)
        self.pause_button.setVisible(not controls.resume)
        self.kill_button.setVisible(controls.kill)
