"""The tray icon, its menu (built on aboutToShow from agent.ui.model) and notifications.

Thin on purpose: which items exist and which are enabled is `model.menu_items`; this class only turns
them into QActions and routes the chosen key to the service, a confirmation or the window.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QMenu, QMessageBox, QSystemTrayIcon, QWidget

from agent.snapshot import AgentSnapshot, Notice
from agent.ui import icons, model
from agent.ui import strings as S
from qtshared.about import show_about
from sync import protocol
from sync.model import AckResult, RunState

log = logging.getLogger("ferrasync.agent.tray")
PULSE_MS = 600
COUNTDOWN_MS = 1000
NOTICE_MS = 10000
NOTICE_ICONS = {
    "completed": QSystemTrayIcon.MessageIcon.Information,
    "takeover": QSystemTrayIcon.MessageIcon.Information,
    "refused": QSystemTrayIcon.MessageIcon.Warning,
    "error": QSystemTrayIcon.MessageIcon.Critical,
}


Ack = protocol.Ack | Mapping[str, Any]  # the service's ack, or a wire ack as a dict


class Service(Protocol):
    def submit(self, command: str, params: dict[str, Any] | None = None) -> Ack: ...
    def snapshot(self) -> AgentSnapshot: ...


def ask(parent: QWidget | None, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)  # fmt: skip
    return answer == QMessageBox.StandardButton.Yes


def tell(parent: QWidget | None, title: str, text: str) -> None:
    QMessageBox.information(parent, title, text)


def ack_request_id(ack: Any) -> str:
    return str(ack.get("requestId") or "") if isinstance(ack, dict) else str(getattr(ack, "request_id", "") or "")


def ack_outcome(ack: Ack) -> tuple[str, str]:
    """(result, reason) of whatever submit returned: a dict (wire ack) or an object with those fields."""
    if isinstance(ack, Mapping):
        return str(ack.get("result", AckResult.ACCEPTED)), str(ack.get("reason") or "")
    return str(getattr(ack, "result", AckResult.ACCEPTED)), str(getattr(ack, "reason", "") or "")


class TrayController(QObject):
    """Owns the QSystemTrayIcon; emits what it cannot do itself (window, settings, logs, control, quit)."""

    icon_changed = Signal(str)  # the visual state now shown (tests and the screenshot script watch it)
    window_requested = Signal()
    settings_requested = Signal()
    logs_requested = Signal()
    control_requested = Signal()
    quit_requested = Signal()
    autostart_toggled = Signal(bool)

    def __init__(self, service: Service, menu_parent: QWidget, *, time_scale: float = 1.0,
                 autostart: Any = None, parent: QObject | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.service = service
        self.time_scale = time_scale
        self.autostart = autostart
        self.confirm: Callable[[str, str], bool] = lambda title, text: ask(menu_parent, title, text)
        self.inform: Callable[[str, str], None] = lambda title, text: tell(menu_parent, title, text)
        self.snap = service.snapshot()
        self.about_box: QMessageBox | None = None
        self.visual = ""
        self._stopping_since: float | None = None
        # Starts sent from here (requestId → params): a safety-limit refusal of one of them offers a forced start.
        self._starts: dict[str, dict[str, Any]] = {}
        self._force_offered: set[str] = set()
        self.tray = QSystemTrayIcon(self)
        self.menu = QMenu(menu_parent)
        self.menu.aboutToShow.connect(self.build_menu)
        self.tray.setContextMenu(self.menu)
        self.tray.activated.connect(self._activated)
        self._pulse = QTimer(self)
        self._pulse.setInterval(PULSE_MS)
        self._pulse.timeout.connect(self._pulse_step)
        self._pulse_on = False
        self._force_timer = QTimer(self)
        self._force_timer.setSingleShot(True)
        self._force_timer.timeout.connect(lambda: self.update_snapshot(self.snap))
        self._countdown = QTimer(self)  # the tooltip's "nuevo intento en 12 s" counts down with time alone
        self._countdown.setInterval(COUNTDOWN_MS)
        self._countdown.timeout.connect(lambda: self.tray.setToolTip(model.tooltip(self.snap)))
        self.update_snapshot(self.snap)

    # -- state ------------------------------------------------------------------------------------

    @Slot(object)
    def update_snapshot(self, snap: AgentSnapshot) -> None:
        self.snap = snap
        self._track_stopping(snap)
        self._offer_force(snap)
        visual = model.visual_state(snap)
        self.tray.setIcon(icons.tray_icon(visual, model.progress_fraction(snap)))
        self.tray.setToolTip(model.tooltip(snap))
        if model.offline_text(snap):
            self._countdown.start()
        else:
            self._countdown.stop()
        if visual is model.Visual.PAUSING and not self._pulse.isActive():
            self._pulse.start()
        elif visual is not model.Visual.PAUSING:
            self._pulse.stop()
        if visual != self.visual:
            self.visual = visual
            self.icon_changed.emit(visual)

    def _track_stopping(self, snap: AgentSnapshot) -> None:
        if model.run_state(snap) is not RunState.STOPPING:
            self._stopping_since = None
            self._force_timer.stop()
        elif self._stopping_since is None:
            self._stopping_since = time.monotonic()
            self._force_timer.start(int(model.FORCE_STOP_AFTER_S * self.time_scale * 1000) + 50)

    def _offer_force(self, snap: Any) -> None:
        """A start sent from here was refused by the safety limit: ask, and on Sí send it again with force."""
        request_id = getattr(snap, "request_id", None) or ""
        limit = getattr(snap, "safety_limit", None)
        if limit is None or request_id not in self._starts or request_id in self._force_offered:
            return
        self._force_offered.add(request_id)
        params = {**self._starts[request_id], "force": True}
        text = S.confirm_force(snap.progress.total, limit)
        # Asked after this slot returns: a modal question inside a snapshot update would nest the next one.
        QTimer.singleShot(0, lambda: self.send("start", params) if self.confirm(S.CONFIRM_FORCE_TITLE, text) else None)

    def stopping_for(self) -> float | None:
        return None if self._stopping_since is None else time.monotonic() - self._stopping_since

    def _pulse_step(self) -> None:
        self._pulse_on = not self._pulse_on
        self.tray.setIcon(icons.tray_icon(model.Visual.PAUSED if self._pulse_on else model.Visual.PAUSING, None))

    @Slot(object)
    def show_notice(self, notice: Notice) -> None:
        icon = NOTICE_ICONS.get(notice.kind, QSystemTrayIcon.MessageIcon.Information)
        self.tray.showMessage(notice.title or S.APP, notice.text, icon, NOTICE_MS)

    # -- menu -------------------------------------------------------------------------------------

    def menu_model(self) -> list[model.MenuItem]:
        strategy = self.autostart
        return model.menu_items(
            self.snap,
            stopping_for_s=self.stopping_for(),
            time_scale=self.time_scale,
            autostart_label=getattr(strategy, "label", S.MENU_AUTOSTART_WINDOWS),
            autostart_enabled=bool(strategy and strategy.is_enabled()),
            autostart_available=bool(strategy and strategy.available),
        )

    @Slot()
    def build_menu(self) -> None:
        self.snap = self.service.snapshot()  # fresh, not the last queued one
        self._track_stopping(self.snap)
        self.menu.clear()
        self._fill(self.menu, self.menu_model())

    def _fill(self, menu: QMenu, items: list[model.MenuItem]) -> None:
        for item in items:
            if item.key == "separator":
                menu.addSeparator()
                continue
            if item.children:
                sub = menu.addMenu(item.text)
                sub.setEnabled(item.enabled)
                sub.setToolTip(item.tip)
                self._fill(sub, list(item.children))
                continue
            action = menu.addAction(item.text)
            action.setObjectName(item.key)
            action.setEnabled(item.enabled)
            action.setToolTip(item.tip)
            if item.checkable:
                action.setCheckable(True)
                action.setChecked(item.checked)
            action.triggered.connect(lambda _checked=False, key=item.key: self.choose(key))
        menu.setToolTipsVisible(True)

    def choose(self, key: str) -> None:
        """Do what a menu item or a window button means (also called by the status window)."""
        handlers: dict[str, Callable[[], None]] = {
            "stop": lambda: self._confirmed(S.CONFIRM_STOP_TITLE, S.CONFIRM_STOP, "stop"),
            "kill": lambda: self._confirmed(S.CONFIRM_KILL_TITLE, S.CONFIRM_KILL, "kill"),
            "control": self.control_requested.emit,
            "logs": self.logs_requested.emit,
            "settings": self.settings_requested.emit,
            "quit": self._quit,
            "autostart": self._toggle_autostart,
            "about": self._about,
        }
        if key in handlers:
            handlers[key]()
            return
        command = model.command_for(key)
        if command is not None:
            self.send(*command)

    def _confirmed(self, title: str, text: str, key: str) -> None:
        if self.confirm(title, text):
            self.send(key, None)

    def send(self, command: str, params: dict[str, Any] | None) -> None:
        try:
            ack = self.service.submit(command, params)
        except Exception as exc:  # the service reports its own failures in snapshots; this is a last guard
            log.exception("submit %s failed", command)
            ack = {"result": AckResult.REJECTED, "reason": str(exc)}
        result, reason = ack_outcome(ack)
        if command == "start" and result != AckResult.REJECTED:
            self._starts[ack_request_id(ack)] = dict(params or {})
        if result == AckResult.REJECTED:
            what = S.COMMAND_LABELS.get(command, command)  # "Sincronizar", never the wire's "start"
            self.inform(S.REJECTED_TITLE, S.REJECTED.format(command=what, reason=reason))
        self.update_snapshot(self.service.snapshot())

    def _quit(self) -> None:
        if model.run_state(self.snap).busy and not self.confirm(S.CONFIRM_QUIT_TITLE, S.CONFIRM_QUIT):
            return
        self.quit_requested.emit()

    def _about(self) -> None:
        self.about_box = show_about(None, S.APP_AGENT)  # kept: a parentless box without a reference is deleted

    def _toggle_autostart(self) -> None:
        strategy = self.autostart
        if strategy is None:
            return
        want = not strategy.is_enabled()
        try:
            strategy.enable() if want else strategy.disable()
        except OSError as exc:
            self.inform(S.APP, S.AUTOSTART_FAILED.format(error=exc))
            return
        self.autostart_toggled.emit(want)

    @Slot(QSystemTrayIcon.ActivationReason)
    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.window_requested.emit()
