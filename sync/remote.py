"""The control channel seen from outside an agent: subscribe, queue its events, publish, read them.

What `ferrasync send`/`watch` (sync/remote_cli.py), the demo and the test tools share: `open_remote`
subscribes to the control channel before anything is published (so no ack is missed) and feeds a
bounded queue; `format_event` and `report_lines` put an event in readable words; `outcome` says when
a status settles a command (docs/protocol.md).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sync import protocol, protocol_parse
from sync.errors import FerraSyncError
from sync.pusher.publisher import Publisher
from sync.pusher.subscriber import FAILED, Subscriber, subscriber_from_settings

log = logging.getLogger("ferrasync.remote")

SUBSCRIBE_TIMEOUT_S = 15.0
EXIT_OK, EXIT_FAILED, EXIT_NO_ACK = 0, 1, 3


def _clock(value: Any) -> str:
    try:
        return protocol_parse.parse_timestamp(value).astimezone().strftime("%H:%M:%S")
    except protocol.ProtocolError:
        return datetime.now().strftime("%H:%M:%S")


def format_event(event: str, data: Mapping[str, Any]) -> str:
    """One readable line for an ack or a status."""
    who = data.get("agent") or "?"
    if data.get("hostname") and data.get("hostname") != who:
        who = f"{who} ({data.get('hostname')})"
    if event == protocol.EVENT_ACK:
        reason = f"  {data['reason']}" if data.get("reason") else ""
        req = str(data.get("requestId") or "")[:8]
        return f"{_clock(data.get('timestamp'))} ack     {data.get('result', '?'):<9} {who}  req={req}{reason}"
    if event == protocol.EVENT_REPORT:
        what = "error: " + str(data.get("error")) if data.get("error") else "resultado recibido"
        req = str(data.get("requestId") or "")[:8]
        return f"{_clock(data.get('timestamp'))} informe {data.get('command', '?')} {who}  req={req}  {what}"
    if event == protocol.EVENT_COMMAND:
        origin = data.get("origin") or {}
        origin = origin if isinstance(origin, dict) else {}
        sender = "/".join(str(v) for v in (origin.get("hostname"), origin.get("user")) if v) or "?"
        params = data.get("params") or {}
        params = params if isinstance(params, dict) else {}
        shown = " ".join(f"{k}={v}" for k, v in params.items() if v is not None)
        target = f" → {data['agent']}" if data.get("agent") else ""
        req = str(data.get("requestId") or "")[:8]
        what = f"{data.get('command', '?')} {shown}{target}"
        return f"{_clock(data.get('timestamp'))} comando {what}  de {sender}  req={req}"
    parts = [f"{data.get('status', '?')}/{data.get('phase', '?')}", who]
    if data.get("role") == "standby":
        parts.append("[reserva]")
    for key, label in (("progress", ""), ("year", "año "), ("target", "→ "), ("lastPlanilla", "última ")):
        if data.get(key):
            parts.append(f"{label}{data[key]}")
    if data.get("message"):
        parts.append(f"— {data['message']}")
    return f"{_clock(data.get('timestamp'))} estado  " + "  ".join(str(p) for p in parts)


def report_lines(data: Mapping[str, Any]) -> list[str]:
    """A `sync.report` in users' words: the explanation, or the reconcile summary and where its CSV is."""
    from sync.explain import explanation_lines
    from sync.reconcile import CHANGING_NOTE, summary_lines

    who = data.get("agent") or "?"
    if data.get("error"):
        return [f"{who}: error en {data.get('command')}: {data['error']}"]
    result = data.get("result") or {}
    if data.get("command") == "explain":
        lines = explanation_lines(result)
    else:
        lines = summary_lines(result.get("counts") or {}, result)
        lines.append(f"\nLista completa en {who}: {result.get('csv')}")
    return [*lines, "", CHANGING_NOTE]


RemoteEvent = tuple[str, dict[str, Any]]
EVENTS_MAX = 2000  # ~30 min of one running agent's statuses: only a consumer that stopped reading fills it


class EventQueue:
    """The subscriber thread's events for a reader, bounded: when full the OLDEST event is dropped and
    counted, so a stalled reader costs bounded memory and, once it reads again, sees the newest state (a
    newer status supersedes an older one). `get(timeout)` raises queue.Empty like queue.Queue."""

    def __init__(self, maxsize: int = EVENTS_MAX) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._items: deque[RemoteEvent] = deque(maxlen=maxsize)
        self._cond = threading.Condition()
        self.dropped = 0

    def put(self, item: RemoteEvent) -> None:
        with self._cond:
            if len(self._items) == self._items.maxlen:
                self.dropped += 1
                if self.dropped == 1:
                    log.warning("Event queue full (%d): dropping the oldest events", self._items.maxlen)
            self._items.append(item)  # the deque drops the oldest itself
            self._cond.notify()

    def get(self, timeout: float | None = None) -> RemoteEvent:
        with self._cond:
            if not self._cond.wait_for(lambda: bool(self._items), timeout):
                raise queue.Empty
            return self._items.popleft()

    def qsize(self) -> int:
        with self._cond:
            return len(self._items)


@dataclass
class Remote:
    """A subscriber on the control channel feeding a bounded queue, plus a publisher."""

    subscriber: Subscriber
    publisher: Publisher | None
    events: EventQueue

    def close(self) -> None:
        self.subscriber.stop()


def open_remote(settings: Any, *, publish: bool, commands: bool = False) -> Remote:
    if not settings.pusher.configured:
        raise FerraSyncError(
            "Pusher no está configurado: indique PUSHER_APP_ID, PUSHER_APP_KEY, PUSHER_APP_SECRET y "
            "PUSHER_APP_CLUSTER (o PUSHER_HOST/PUSHER_PORT/PUSHER_SCHEME), p. ej. con `ferrasync config`"
        )
    events = EventQueue()

    def on_event(channel: str, event: str, data: Any) -> None:
        wanted = (protocol.EVENT_ACK, protocol.EVENT_STATUS, protocol.EVENT_REPORT) + (
            (protocol.EVENT_COMMAND,) if commands else ()
        )
        if event in wanted and isinstance(data, dict):
            events.put((event, data))

    # Control windows and this CLI never join the presence channel: the old PHP listener counts it.
    sub = subscriber_from_settings(settings, [protocol.CHANNEL], on_event=on_event).start()
    publisher = Publisher.from_settings(settings) if publish else None
    if not sub.wait_for(lambda: sub.state in ("subscribed", FAILED), SUBSCRIBE_TIMEOUT_S):
        sub.stop()
        raise FerraSyncError(
            f"no se pudo suscribir a {protocol.CHANNEL} en {SUBSCRIBE_TIMEOUT_S:.0f} s: "
            f"{sub.last_error or 'revise la conexión y PUSHER_HOST/PUSHER_APP_CLUSTER'}"
        )
    if sub.state == FAILED:
        sub.stop()
        raise sub.fatal or FerraSyncError(sub.last_error or "Pusher rechazó la conexión")
    return Remote(sub, publisher, events)


class RemoteListener:
    """Subscribed to the control channel, able to publish: every ack, status and report heard, kept in order,
    and `wait()` for what should arrive. The demo (sync/devstack/demo_remote.py) and the tests' probe build on
    it; a subclass shows each event as it comes by overriding `heard` (called under the lock)."""

    def __init__(self, settings: Any, name: str = "remote-listener") -> None:
        self.remote = open_remote(settings, publish=True)
        self.acks: list[dict[str, Any]] = []
        self.statuses: list[dict[str, Any]] = []
        self.reports: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, name=name, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.remote.close()

    def heard(self, event: str, data: dict[str, Any]) -> None:
        """Each event as it arrives (after it is kept); nothing by default."""

    def publish(self, wire: Mapping[str, Any]) -> str:
        """Trigger a command's event data as is (not echoed back to us); returns its requestId."""
        assert self.remote.publisher is not None
        self.remote.publisher.trigger(
            protocol.CHANNEL, protocol.EVENT_COMMAND, dict(wire), socket_id=self.remote.subscriber.socket_id
        )
        return str(wire.get("requestId"))

    def wait(self, predicate: Callable[[], Any], timeout: float) -> Any:
        """The first true value of `predicate` (checked under the lock as events arrive), or None at `timeout`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(min(left, 0.1))

    def _drain(self) -> None:
        while not self._stop.is_set():
            try:
                event, data = self.remote.events.get(timeout=0.1)
            except queue.Empty:
                continue
            with self._cond:
                kinds = {protocol.EVENT_ACK: self.acks, protocol.EVENT_REPORT: self.reports}
                kinds.get(event, self.statuses).append(data)
                self.heard(event, data)
                self._cond.notify_all()


def outcome(command: str, request_id: str, status: Mapping[str, Any]) -> int | None:
    """The exit code once `status` settles `command`, or None to keep waiting."""
    state, phase = status.get("status"), status.get("phase")
    if command in ("start", "resume"):
        if status.get("requestId") != request_id:
            return None  # an older run's status, or a heartbeat from before ours began
        if state == "error" or (state == "idle" and phase == "refused"):
            return EXIT_FAILED
        return EXIT_OK if state in ("completed", "paused", "idle") else None
    if state == "error":
        return EXIT_FAILED
    if command == "pause":
        return EXIT_OK if state in ("paused", "idle", "completed") else None
    if command in ("stop", "kill"):
        return EXIT_OK if state in ("paused", "idle", "completed") and phase != "pausing" else None
    return EXIT_OK  # status, configure-auto-sync: the first status after the ack is the answer
