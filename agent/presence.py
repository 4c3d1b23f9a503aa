"""The remote channel and leadership: the subscriber (commands + presence), who is the active agent, and
what the connection state means. The subscriber's thread only hands work to the service queue.

It owns the agent's role, whom it defers to and the connection state; the service reads them for its
snapshot and learns of changes through the callbacks it wires at construction.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent import strings
from agent.events import CommandArrived, ConnectionChanged, Post, PresenceChanged
from agent.leadership import APP, decide
from agent.snapshot import Notice
from sync import __version__, protocol, signing
from sync.config.model import Settings
from sync.model import Connection, Role
from sync.pusher.offline import Offline

if TYPE_CHECKING:
    from sync.pusher.subscriber import Subscriber

log = logging.getLogger("ferrasync.agent")

CONNECTION = {"connecting": Connection.CONNECTING, "connected": Connection.CONNECTING,
              "subscribed": Connection.CONNECTED, "unavailable": Connection.DISCONNECTED,
              "stopped": Connection.DISCONNECTED, "failed": Connection.FAILED}  # fmt: skip


@dataclass(frozen=True)
class PresenceHooks:
    """What the service does when leadership or the connection moves (called on the service thread)."""

    changed: Callable[[], None]  # role or active agent changed: published at once
    subscribed: Callable[[], None]  # (re)subscribed: Pusher never replays, so a full status goes out
    connection: Callable[[], None]  # the connection state changed: the windows redraw
    notice: Callable[[Notice], None]


class PresenceWiring:
    def __init__(self, settings: Settings, lock: threading.RLock, *, started_iso: str, require_signature: bool,
                 post: Post, hooks: PresenceHooks) -> None:  # fmt: skip
        self.settings, self.lock, self.post, self.hooks = settings, lock, post, hooks
        self.agent_id = settings.agent_id
        self.started_iso = started_iso
        self.require_signature = require_signature
        self.subscriber: Subscriber | None = None
        self._unproven: tuple[str, ...] = ()  # last warned about
        # state (written on the service thread, read by the service's snapshot from any thread under the lock)
        self.role = Role.STANDBY
        self.known = False  # a first presence list arrived
        self.active_agent = ""
        self.legacy = ""  # an old PHP listener's hostname while one is present
        self.connection = Connection.CONNECTING
        self.connection_detail = ""
        self.offline: Offline | None = None  # why the channel is down and when the next try is

    def open(self) -> None:
        settings = self.settings
        if not settings.pusher.configured:
            self.role, self.known = Role.ACTIVE, True  # alone: local commands and auto-sync still work
            self.connection, self.connection_detail = Connection.FAILED, strings.PUSHER_NOT_CONFIGURED
            return
        from sync.pusher.subscriber import PresenceMember, subscriber_from_settings

        info = {"role": "agent", "app": APP, "version": __version__, "started_at": self.started_iso,
                "pid": os.getpid()}  # fmt: skip
        key = settings.signing_key

        def proof(socket_id: str) -> dict[str, str]:  # with a key, peers can check we hold it
            return signing.presence_proof(key, self.agent_id, self.started_iso, socket_id) if key else {}

        self.subscriber = subscriber_from_settings(
            settings,
            [protocol.CHANNEL, protocol.PRESENCE_CHANNEL],
            presence=PresenceMember(self.agent_id, info, proof),
            on_event=self._on_event,
            on_state=self._on_state,
            on_presence=self._on_presence,
        )
        self.subscriber.start()  # after the assignment: the presence callback reads self.subscriber

    def stop(self) -> None:
        if self.subscriber is not None:
            self.subscriber.stop()  # leaves the presence channel: a standby takes over at once

    def socket_id(self) -> str | None:
        return self.subscriber.socket_id if self.subscriber is not None else None

    # -- what the other parts ask --------------------------------------------------------------------

    @property
    def active(self) -> bool:
        return self.role is Role.ACTIVE

    def standby_reason(self) -> str | None:
        """Why this agent refuses to run a sync nobody addressed to it, or None when it is the active one."""
        if self.active:
            return None
        why = (strings.LEGACY_LISTENER.format(host=self.legacy) if self.legacy
               else f"el agente activo es {self.active_agent or '?'}")  # fmt: skip
        return strings.STANDBY_REFUSES.format(why=why)

    def standby_message(self, idle: bool) -> str | None:
        """What a standby that runs nothing shows instead of the run's message, or None to show that."""
        if self.active:
            return None
        if self.legacy:
            return strings.LEGACY_LISTENER.format(host=self.legacy)
        if not idle:
            return None
        if not self.known:
            return strings.STANDBY_WAITING
        return strings.STANDBY_ACTIVE_IS.format(active=self.active_agent or "?")

    # -- the subscriber's thread: hand over, never block --------------------------------------------

    def _on_state(self, state: str, detail: str | None) -> None:
        # The subscriber records why it is offline (and when it retries) just before it reports the state.
        offline = self.subscriber.offline if self.subscriber is not None else None
        self.post(ConnectionChanged(state, detail, offline))

    def _on_event(self, channel: str, event: str, data: Any) -> None:
        if channel == protocol.CHANNEL and event == protocol.EVENT_COMMAND:
            self.post(CommandArrived(data, local=False))

    def _on_presence(self, channel: str, kind: str, payload: Any) -> None:
        if channel == protocol.PRESENCE_CHANNEL and self.subscriber is not None:
            members = {uid: dict(info or {}) for uid, info in self.subscriber.members.items()}
            self.post(PresenceChanged(kind, dict(payload or {}), members))

    # -- the service thread ------------------------------------------------------------------------

    def on_change(self, kind: str, payload: dict[str, Any], members: dict[str, dict[str, Any]]) -> None:
        previous_role, previous_active = self.role, self.active_agent
        if kind in ("added", "removed"):
            log.info("[RED] PC %s: %s", "conectado" if kind == "added" else "desconectado", payload.get("user_id"))
        proof_key = self.settings.signing_key if self.require_signature else None
        lead = decide(self.agent_id, self.started_iso, members, proof_key)
        if lead.unproven and lead.unproven != self._unproven:
            log.warning("[RED] %s", strings.UNPROVEN_MEMBERS.format(who=", ".join(lead.unproven)))
        self._unproven = lead.unproven
        was_known = self.known
        role = Role(lead.role)
        with self.lock:
            self.known = True
            self.role, self.active_agent, self.legacy = role, lead.active_agent, lead.legacy_listener
        if lead.legacy_listener:
            log.warning("[RED] %s", strings.LEGACY_LISTENER.format(host=lead.legacy_listener))
        if (role, lead.active_agent) == (previous_role, previous_active) and was_known:
            return
        log.info("[RED] Role: %s (active agent: %s)", role, lead.active_agent or "-")
        if was_known and previous_role is Role.STANDBY and role is Role.ACTIVE:
            gone = previous_active if previous_active and previous_active not in members else ""
            text = strings.NOTICE_TAKEOVER.format(previous=gone) if gone else strings.NOTICE_TAKEOVER_FIRST
            self.hooks.notice(Notice("takeover", strings.NOTICE_TAKEOVER_TITLE, text))
        self.hooks.changed()

    def on_connection(self, state: str, detail: str | None, offline: Offline | None = None) -> None:
        connection = CONNECTION.get(state, Connection.CONNECTING)
        down = (Connection.FAILED, Connection.DISCONNECTED)
        if connection is Connection.CONNECTED:
            offline = None
        elif connection is Connection.CONNECTING and offline is not None and self.connection in down:
            connection = self.connection  # a retry under way is still offline: the countdown says so
        with self.lock:
            changed = connection != self.connection
            retry_changed = offline != self.offline
            self.connection, self.offline = connection, offline
            self.connection_detail = (detail or "") if connection in down else ""
        if changed:
            log.info("Remote channel: %s%s", connection,
                     f" ({detail})" if detail and connection != Connection.CONNECTED else "")  # fmt: skip
        if state == "subscribed":
            self.hooks.subscribed()
        if changed or retry_changed:
            self.hooks.connection()  # the windows show the reason and count down to the next try
