"""Hands the controller's notifications (from the subscriber and sender threads) to the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal

from desktop.controller import Controller


class ControllerBridge(QObject):
    """`changed(topic)` is emitted on the GUI thread (queued) whatever thread the controller used."""

    changed = Signal(str)
    _relay = Signal(str)

    def __init__(self, controller: Controller, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        # A queued connection: the slot runs in this object's (the GUI) thread, never the caller's.
        self._relay.connect(self.changed, Qt.ConnectionType.QueuedConnection)
        self._emit = self._relay.emit
        controller.listeners.append(self._emit)

    def detach(self) -> None:
        if self._emit in self.controller.listeners:
            self.controller.listeners.remove(self._emit)
