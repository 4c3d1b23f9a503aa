"""Background senders, so no network call ever blocks the service's loop (acks must leave within a second).

`PusherOutbox` publishes acks and statuses in order on `private-sync-control` with the agent's own
socket_id excluded; `ManagerReporter` posts the latest status to Manager's `sync-status` (only the
newest body matters, older ones are dropped). Failures are logged, never raised.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, Protocol

from sync import protocol
from sync.errors import FerraSyncError

log = logging.getLogger("ferrasync.agent.outbox")


class Trigger(Protocol):
    """sync.pusher.publisher.Publisher as the outbox uses it."""

    def trigger(self, channels: str, event: str, data: str, socket_id: str | None = None) -> object: ...


class StatusPoster(Protocol):
    """sync.manager.ManagerClient as the reporter uses it."""

    def post_status(self, body: dict[str, Any]) -> None: ...


class PusherOutbox:
    def __init__(self, publisher: Trigger, socket_id: Callable[[], str | None]) -> None:
        self.publisher = publisher
        self.socket_id = socket_id
        self.sent = 0
        self.failed = 0
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._run, name="ferrasync-pusher-out", daemon=True)

    def start(self) -> PusherOutbox:
        self._thread.start()
        return self

    def put(self, event: str, text: str) -> None:
        self._idle.clear()
        self._queue.put((event, text))

    def flush(self, timeout: float) -> bool:
        """Wait until everything queued was sent (or failed)."""
        return self._idle.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                self._idle.set()
                return
            event, text = item
            try:
                self.publisher.trigger(protocol.CHANNEL, event, text, socket_id=self.socket_id())
                self.sent += 1
            except FerraSyncError as exc:
                self.failed += 1
                log.warning("Could not publish %s to Pusher: %s", event, exc.message)
            except Exception:  # a library bug must not end the thread
                self.failed += 1
                log.exception("Could not publish %s to Pusher", event)
            if self._queue.empty():
                self._idle.set()


class ManagerReporter:
    def __init__(self, client: StatusPoster) -> None:
        self.client = client
        self.posted = 0
        self.failed = 0
        self._latest: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ferrasync-manager-status", daemon=True)

    def start(self) -> ManagerReporter:
        self._thread.start()
        return self

    def post(self, body: dict[str, Any]) -> None:
        with self._lock:
            self._latest = body
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                body, self._latest = self._latest, None
            if body is not None:
                self._send(body)
            if self._stop.is_set():
                return

    def _send(self, body: dict[str, Any]) -> None:
        try:
            self.client.post_status(body)
            self.posted += 1
        except FerraSyncError as exc:
            self.failed += 1
            log.warning("Could not post the status to Manager: %s", exc.message)
        except Exception:
            self.failed += 1
            log.exception("Could not post the status to Manager")
