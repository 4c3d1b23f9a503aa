"""What the agent tells the outside: `sync.status` on Pusher, Manager's `sync-status`, `listener.status`, acks.

Cadence: a state change is published at once (after the ack when a command caused it), progress at most
once a second, a heartbeat every minute; Manager every 10 s while running and every minute idle, and only
from the active agent. Sends leave through the `PusherOutbox`/`ManagerReporter` threads, never blocking.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Protocol

from agent.files import DataFiles
from agent.outbox import ManagerReporter, PusherOutbox
from agent.snapshot import AgentSnapshot
from sync import __version__, protocol, protocol_encode, signing
from sync.config.model import Settings
from sync.model import HEARTBEAT_S, AckResult, Role, RunState

log = logging.getLogger("ferrasync.agent")

STATUS_MIN_INTERVAL_S = 1.0
MANAGER_RUNNING_S, MANAGER_IDLE_S = 10.0, 60.0
LISTENER_STATUS_S = 30.0


class StatusSource(Protocol):
    """What is published: the service's state as a status and as a snapshot (agent/service.py)."""

    def build_status(self, full: bool = False) -> protocol.SyncStatus: ...
    def snapshot(self) -> AgentSnapshot: ...
    def notify_snapshot(self) -> None: ...


class StatusPublisher:
    def __init__(self, settings: Settings, files: DataFiles, source: StatusSource, *, agent_id: str,
                 hostname: str) -> None:  # fmt: skip
        self.settings, self.files, self.source = settings, files, source
        self.agent_id, self.hostname = agent_id, hostname
        self.outbox: PusherOutbox | None = None
        self.reporter: ManagerReporter | None = None
        self.dirty = False  # progress not yet published
        self._held = False  # inside a command: statuses wait for its ack
        self._pending = False  # a status was held
        self._last_pusher = 0.0
        self._last_manager = 0.0
        self._last_listener_status = 0.0

    def open(self, socket_id: Callable[[], str | None]) -> None:
        settings = self.settings
        if settings.status.configured:
            from sync.manager import ManagerClient

            client = ManagerClient(settings.status.url, settings.status.token,
                                   verify=str(settings.ca_bundle) if settings.ca_bundle else True,
                                   timeout_scale=settings.time_scale)  # fmt: skip
            self.reporter = ManagerReporter(client).start()
        if settings.pusher.configured:
            from sync.pusher.publisher import Publisher

            self.outbox = PusherOutbox(Publisher.from_settings(settings), socket_id).start()

    def flush(self) -> None:
        if self.outbox is not None:
            self.outbox.flush(3.0)

    def close(self) -> None:
        if self.outbox is not None:
            self.outbox.stop()
        if self.reporter is not None:
            self.reporter.stop()

    # -- statuses ----------------------------------------------------------------------------------

    def changed(self) -> None:
        """A state change: published at once, or after the ack of the command that caused it."""
        if self._held:
            self._pending = True
            self.source.notify_snapshot()
            return
        self.publish(full=False)

    def progressed(self) -> None:
        """Progress within a state: the next tick publishes it (throttled); the windows redraw now."""
        self.dirty = True
        self.source.notify_snapshot()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Statuses caused inside the block wait for `release` (the ack leaves before the status it causes)."""
        self._held = True
        try:
            yield
        finally:
            self._held = False

    def release(self, force: bool = False, full: bool = False) -> None:
        if self._pending or force:
            self._pending = False
            self.publish(full)

    def publish(self, full: bool) -> None:
        status = self.source.build_status(full)
        self._last_pusher = time.monotonic()
        self.dirty = False
        if self.outbox is not None:
            try:
                encoded = protocol_encode.encode_status(status, self.settings.signing_key)
                self.outbox.put(protocol.EVENT_STATUS, encoded)
            except protocol.PayloadTooLarge as exc:
                log.error("Status not published: %s", exc.reason)
        self.write_listener_status()
        self.source.notify_snapshot()

    def post_manager(self) -> None:
        self._last_manager = time.monotonic()
        if self.reporter is None:
            return
        status = self.source.build_status()
        # Only the active agent reports to Manager: a standby's "idle" would overwrite the real status.
        if status.role == Role.ACTIVE:
            self.reporter.post(protocol_encode.manager_status_body(status))

    def tick(self, running: bool) -> None:
        now = time.monotonic()
        scaled = self.settings.scaled
        since = now - self._last_pusher
        throttled = running and self.dirty and since >= scaled(STATUS_MIN_INTERVAL_S)
        if throttled or since >= scaled(HEARTBEAT_S):  # progress at most once a second; else a heartbeat
            self.publish(full=False)
        if now - self._last_manager >= scaled(MANAGER_RUNNING_S if running else MANAGER_IDLE_S):
            self.post_manager()
        if now - self._last_listener_status >= scaled(LISTENER_STATUS_S):
            self.write_listener_status()

    def write_listener_status(self) -> None:
        self._last_listener_status = time.monotonic()
        snap, now = self.source.snapshot(), protocol.iso_utc(protocol.now_utc())
        self.files.write_status({
            "state": snap.state, "role": snap.role, "status": RunState.parse(snap.state).wire[0],
            "connection": snap.connection, "progress": snap.progress_text or None, "message": snap.message,
            "run_id": snap.run_id, "hostname": self.hostname, "agent": self.agent_id, "pid": os.getpid(),
            "version": __version__, "active_agent": snap.active_agent, "legacy_listener": snap.legacy_listener,
            "heartbeat": datetime.now().strftime("%Y-%m-%d %H:%M:%S"), "updated_at": now, "signing": snap.signing,
        })  # fmt: skip

    # -- acks --------------------------------------------------------------------------------------

    def ack(self, request_id: str, result: AckResult | str, reason: str | None) -> protocol.Ack:
        return protocol.build_ack(request_id, result, agent=self.agent_id, hostname=self.hostname, reason=reason)

    def send_ack(self, request_id: str, result: AckResult | str, reason: str | None) -> protocol.Ack:
        ack = self.ack(request_id, result, reason)
        if self.outbox is not None:
            signed = signing.sign_event(ack.to_wire(), self.settings.signing_key)  # a window tells forgeries
            self.outbox.put(protocol.EVENT_ACK, protocol_encode.encode_event(signed, "la confirmación"))
        if result != "accepted":
            log.info("Ack %s %s: %s", result, request_id, reason)
        return ack
