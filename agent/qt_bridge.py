"""Qt glue for the Qt-free service: callbacks from any thread become queued signals.

The service calls `on_snapshot`/`on_notice` from its subscriber thread, its run thread or the GUI
thread; `Bridge` only emits signals, so every slot that touches a widget runs on the GUI thread.
Runs go to QThreads through `qtshared.workers.QtWorkers`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from agent.snapshot import AgentSnapshot, Notice


class Bridge(QObject):
    snapshot = Signal(object)  # AgentSnapshot
    notice = Signal(object)  # Notice

    def on_snapshot(self, snap: AgentSnapshot) -> None:
        self.snapshot.emit(snap)

    def on_notice(self, notice: Notice) -> None:
        self.notice.emit(notice)
