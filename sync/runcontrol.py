"""Pause, stop and kill for a run, shared between the thread that runs it and whoever controls it.

Pause and stop are honoured at the next planilla boundary; kill at once: every wait in the run is
`control.sleep()`, which a kill interrupts, and hung calls are abandoned by their callers.
"""

from __future__ import annotations

import threading
from enum import Enum


class Action(Enum):
    CONTINUE = "continue"
    PAUSE = "pause"
    STOP = "stop"
    KILL = "kill"


class Killed(Exception):
    """Raised inside the run when a kill was requested; the run unwinds without sending more."""


class RunControl:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requested = Action.CONTINUE
        self._wake = threading.Event()
        self.killed = threading.Event()

    def request(self, action: Action) -> None:
        with self._lock:
            # a stronger request is never downgraded: kill > stop > pause
            order = [Action.CONTINUE, Action.PAUSE, Action.STOP, Action.KILL]
            if order.index(action) > order.index(self._requested):
                self._requested = action
        if action is Action.KILL:
            self.killed.set()
        self._wake.set()

    @property
    def requested(self) -> Action:
        with self._lock:
            return self._requested

    def check_killed(self) -> None:
        if self.killed.is_set():
            raise Killed()

    def sleep(self, seconds: float, *, wake_on_request: bool = False) -> bool:
        """Wait; raises Killed on kill. With wake_on_request, a pause/stop ends the wait early (returns False)."""
        self._wake.clear()
        if wake_on_request and self.requested is not Action.CONTINUE:
            return False
        self._wake.wait(max(0.0, seconds))
        self.check_killed()
        return not (wake_on_request and self.requested is not Action.CONTINUE)
