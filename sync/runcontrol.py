"""Pause, stop and kill for a run, shared between the threads that run it and whoever controls it.

Pause and stop are honoured at the next planilla boundary; kill at once: every wait in the run is
`control.sleep()`, which a kill interrupts, and hung calls are abandoned by their callers. Several
threads may sleep at once (the batches in flight retry on their own threads): a request wakes all.

`RemotePoller` asks Manager's `sync-control` in the background, so the run never waits for it; the
run applies the latest answer at its next boundary.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import Enum


class Action(Enum):
    CONTINUE = "continue"
    PAUSE = "pause"
    STOP = "stop"
    KILL = "kill"


_ORDER = [Action.CONTINUE, Action.PAUSE, Action.STOP, Action.KILL]


class Killed(Exception):
    """Raised inside the run when a kill was requested; the run unwinds without sending more."""


class RunControl:
    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._requested = Action.CONTINUE
        self.killed = threading.Event()

    def request(self, action: Action) -> None:
        with self._changed:
            # a stronger request is never downgraded: kill > stop > pause
            if _ORDER.index(action) > _ORDER.index(self._requested):
                self._requested = action
            if action is Action.KILL:
                self.killed.set()
            self._changed.notify_all()

    @property
    def requested(self) -> Action:
        with self._changed:
            return self._requested

    def check_killed(self) -> None:
        if self.killed.is_set():
            raise Killed()

    def sleep(self, seconds: float, *, wake_on_request: bool = False) -> bool:
        """Wait; raises Killed on kill. With wake_on_request, a pause/stop ends the wait early (returns False)."""
        deadline = time.monotonic() + max(0.0, seconds)
        with self._changed:
            while not self.killed.is_set():
                if wake_on_request and self._requested is not Action.CONTINUE:
                    return False
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return True
                self._changed.wait(remaining)
        raise Killed()


class RemotePoller:
    """One background `fetch()` at a time; `take()` hands over the newest answer once."""

    def __init__(self, fetch: Callable[[], str]) -> None:
        self._fetch = fetch
        self._lock = threading.Lock()
        self._busy = False
        self._answer: str | None = None

    def kick(self) -> None:
        """Start a fetch unless one is still running (a slow Manager is not asked twice at once)."""
        with self._lock:
            if self._busy:
                return
            self._busy = True
        threading.Thread(target=self._poll, name="ferrasync-control-poll", daemon=True).start()

    def take(self) -> str | None:
        with self._lock:
            answer, self._answer = self._answer, None
            return answer

    def _poll(self) -> None:
        try:
            answer = self._fetch()
        except Exception:  # the fetch counts failures as "none"; anything else must not kill the thread silently
            answer = "none"
        with self._lock:
            self._answer, self._busy = answer, False
