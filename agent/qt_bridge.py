"""Qt glue for the Qt-free service: callbacks from any thread become queued signals, runs go to QThreads.

The service calls `on_snapshot`/`on_notice` from its subscriber thread, its run thread or the GUI
thread; `Bridge` only emits signals, so every slot that touches a widget runs on the GUI thread.
`QtWorkers.start(fn)` runs one function in its own QThread (a worker QObject moved to it); it may be
called from any thread: the QThread is created on the GUI thread through a queued signal.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

log = logging.getLogger("ferrasync.agent.qt")


class Bridge(QObject):
    snapshot = Signal(object)  # AgentSnapshot
    notice = Signal(object)  # Notice

    def on_snapshot(self, snap: Any) -> None:
        self.snapshot.emit(snap)

    def on_notice(self, notice: Any) -> None:
        self.notice.emit(notice)


class WorkerHandle:
    """What the service holds for a run: join(timeout) -> finished?, is_alive()."""

    def __init__(self, fn: Callable[[], Any], name: str) -> None:
        self.fn = fn
        self.name = name
        self._done = threading.Event()
        self.error: BaseException | None = None

    def join(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def is_alive(self) -> bool:
        return not self._done.is_set()

    def run(self) -> None:
        try:
            self.fn()
        except BaseException as exc:  # a run must never take the app down; the service reports the failure
            self.error = exc
            log.exception("worker %s failed", self.name)
        finally:
            self._done.set()


class _Worker(QObject):
    finished = Signal()

    def __init__(self, handle: WorkerHandle) -> None:
        super().__init__()  # no parent: it is moved to its own thread
        self.handle = handle

    @Slot()
    def run(self) -> None:
        self.handle.run()
        self.finished.emit()


class QtWorkers(QObject):
    """Starts functions in QThreads; `shutdown()` waits for the ones still running (cooperative stop)."""

    _requested = Signal(object)

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._live: dict[QThread, _Worker] = {}
        self._requested.connect(self._launch)  # queued when emitted from another thread

    def start(self, fn: Callable[[], Any], name: str = "run") -> WorkerHandle:
        handle = WorkerHandle(fn, name)
        self._requested.emit(handle)
        return handle

    @Slot(object)
    def _launch(self, handle: WorkerHandle) -> None:
        thread = QThread(self)
        thread.setObjectName(f"ferrasync-{handle.name}")
        worker = _Worker(handle)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.finished.connect(thread.quit)
        worker.finished.connect(worker.deleteLater)  # the worker dies in its own thread, before it ends
        thread.finished.connect(lambda t=thread: self._forget(t))
        thread.finished.connect(thread.deleteLater)
        self._live[thread] = worker
        thread.start()

    def _forget(self, thread: QThread) -> None:
        self._live.pop(thread, None)

    def running(self) -> int:
        return len(self._live)

    def shutdown(self, timeout_ms: int = 15000) -> bool:
        """Wait for every thread to end (the service has already asked its runs to stop)."""
        ok = True
        for thread in list(self._live):
            ok = thread.wait(timeout_ms) and ok
        return ok
