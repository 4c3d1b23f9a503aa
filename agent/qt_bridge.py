"""Qt glue for the Qt-free service: callbacks from any thread become queued signals, runs go to QThreads.

The service calls `on_snapshot`/`on_notice` from its subscriber thread, its run thread or the GUI
thread; `Bridge` only emits signals, so every slot that touches a widget runs on the GUI thread.
`QtWorkers.start(fn)` runs one function in its own QThread (a QThread whose run() calls it); it may be
called from any thread: the QThread is created on the GUI thread through a queued signal.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

if TYPE_CHECKING:  # the settings dialog (also the control window's) imports this module, never the agent's state
    from agent.snapshot import AgentSnapshot, Notice

log = logging.getLogger("ferrasync.agent.qt")


class Bridge(QObject):
    snapshot = Signal(object)  # AgentSnapshot
    notice = Signal(object)  # Notice

    def on_snapshot(self, snap: AgentSnapshot) -> None:
        self.snapshot.emit(snap)

    def on_notice(self, notice: Notice) -> None:
        self.notice.emit(notice)


class WorkerHandle:
    """What the service holds for a run: join(timeout) -> finished?, is_alive()."""

    def __init__(self, fn: Callable[[], object], name: str) -> None:
        self.fn = fn
        self.name = name
        self._done = threading.Event()
        self.error: BaseException | None = None

    def join(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def is_alive(self) -> bool:
        return not self._done.is_set()

    def refuse(self) -> None:
        """Never started (the application was quitting)."""
        self.error = RuntimeError(f"{self.name} not started: shutting down")
        self._done.set()

    def run(self) -> None:
        try:
            self.fn()
        except BaseException as exc:  # a run must never take the app down; the service reports the failure
            self.error = exc
            log.exception("worker %s failed", self.name)
        finally:
            self._done.set()


class _RunThread(QThread):
    """One function in its own thread, no event loop: the thread ends when the function returns.

    Ownership is one-way: the QThread is a child of its `QtWorkers` (C++ owns it); QtWorkers keeps the Python
    reference until `finished` has been handled on the GUI thread, then hands deletion to Qt with deleteLater.
    There is no worker QObject, so nothing can be deleted twice (Qt's deferred delete and Python's GC).
    """

    def __init__(self, handle: WorkerHandle, parent: QObject) -> None:
        super().__init__(parent)
        self.handle = handle
        self.setObjectName(f"ferrasync-{handle.name}")

    def run(self) -> None:
        self.handle.run()


class QtWorkers(QObject):
    """Starts functions in QThreads; `shutdown()` waits for the ones still running (cooperative stop).

    Whoever owns a QtWorkers must call `shutdown()` before it is destroyed: Qt aborts the process when a
    running QThread is deleted. The application's aboutToQuit does it for every QtWorkers.
    """

    _requested = Signal(object)

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._live: set[_RunThread] = set()
        self._closed = False
        self._requested.connect(self._launch)  # queued when emitted from another thread
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)  # every thread ends before the application object dies

    def start(self, fn: Callable[[], object], name: str = "run") -> WorkerHandle:
        handle = WorkerHandle(fn, name)
        self._requested.emit(handle)
        return handle

    @Slot(object)
    def _launch(self, handle: WorkerHandle) -> None:
        if self._closed:  # asked after shutdown: never started, so whoever waits on it is not left hanging
            handle.refuse()
            return
        thread = _RunThread(handle, self)
        thread.finished.connect(self._finished)  # emitted in the thread; queued to this (GUI-thread) object
        self._live.add(thread)
        thread.start()

    @Slot()
    def _finished(self) -> None:
        thread = self.sender()
        if isinstance(thread, _RunThread) and thread in self._live:
            thread.wait()  # `finished` is emitted just before the thread really ends
            self._live.discard(thread)
            thread.deleteLater()

    def running(self) -> int:
        return len(self._live)

    @Slot()
    def shutdown(self, timeout_ms: int = 15000) -> bool:
        """Wait for every thread to end (the service has already asked its runs to stop); later starts are
        refused. Threads that ended are released here, as `_finished` may never run once the loop is gone."""
        self._closed = True
        ok = True
        for thread in list(self._live):
            if thread.wait(timeout_ms):
                self._live.discard(thread)
            else:
                log.error("thread %s still running after %d ms", thread.objectName(), timeout_ms)
                ok = False
        return ok
