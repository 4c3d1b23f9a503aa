"""The remote channel and leadership: the subscriber (commands + presence), who is the active agent, and
what the connection state means. The subscriber's thread only hands work to the service queue."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from agent import strings
from agent.leadership import APP, decide
from agent.snapshot import Notice
from sync import __version__, protocol, signing
from sync.pusher.offline import Offline

if TYPE_CHECKING:
    from agent.service import AgentService

log = logging.getLogger("ferrasync.agent")

CONNECTION = {"connecting": "connecting", "connected": "connecting", "subscribed": "connected",
              "unavailable": "disconnected", "stopped": "disconnected", "failed": "failed"}  # fmt: skip


class PresenceWiring:
    def __init__(self, svc: AgentService) -> None:
        self.svc = svc
        self.subscriber: Any = None
        self._unproven: tuple[str, ...] = ()  # last warned about

    def open(self) -> None:
        svc = self.svc
        if not svc.settings.pusher.configured:
            svc.role, svc.presence_known = "active", True  # alone: local commands and auto-sync still work
            svc.connection, svc.connection_detail = "failed", strings.PUSHER_NOT_CONFIGURED
            return
        from sync.pusher.subscriber import PresenceMember, subscriber_from_settings

        info = {"role": "agent", "app": APP, "version": __version__, "started_at": svc.started_iso,
                "pid": os.getpid()}  # fmt: skip
        key = svc.settings.signing_key

        def proof(socket_id: str) -> dict[str, str]:  # with a key, peers can check we hold it
            return signing.presence_proof(key, svc.agent_id, svc.started_iso, socket_id) if key else {}

        self.subscriber = subscriber_from_settings(
            svc.settings,
            [protocol.CHANNEL, protocol.PRESENCE_CHANNEL],
            presence=PresenceMember(svc.agent_id, info, proof),
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

    # -- the subscriber's thread: hand over, never block --------------------------------------------

    def _on_state(self, state: str, detail: str | None) -> None:
        # The subscriber records why it is offline (and when it retries) just before it reports the state.
        offline = self.subscriber.offline if self.subscriber is not None else None
        self.svc.queue.put(("connection", state, detail, offline))

    def _on_event(self, channel: str, event: str, data: Any) -> None:
        if channel == protocol.CHANNEL and event == protocol.EVENT_COMMAND:
            self.svc.queue.put(("command", data, False, None))

    def _on_presence(self, channel: str, kind: str, payload: Any) -> None:
        if channel == protocol.PRESENCE_CHANNEL and self.subscriber is not None:
            members = {uid: dict(info or {}) for uid, info in self.subscriber.members.items()}
            self.svc.queue.put(("presence", kind, dict(payload or {}), members))

    # -- the service thread ------------------------------------------------------------------------

    def on_change(self, kind: str, payload: dict[str, Any], members: dict[str, dict[str, Any]]) -> None:
        svc = self.svc
        previous_role, previous_active = svc.role, svc.active_agent
        if kind in ("added", "removed"):
            log.info("[RED] PC %s: %s", "conectado" if kind == "added" else "desconectado", payload.get("user_id"))
        proof_key = svc.settings.signing_key if svc.require_signature else None
        lead = decide(svc.agent_id, svc.started_iso, members, proof_key)
        if lead.unproven and lead.unproven != self._unproven:
            log.warning("[RED] %s", strings.UNPROVEN_MEMBERS.format(who=", ".join(lead.unproven)))
        self._unproven = lead.unproven
        was_known = svc.presence_known
        with svc.lock:
            svc.presence_known = True
            svc.role, svc.active_agent, svc.legacy = lead.role, lead.active_agent, lead.legacy_listener
        if lead.legacy_listener:
            log.warning("[RED] %s", strings.LEGACY_LISTENER.format(host=lead.legacy_listener))
        if (lead.role, lead.active_agent) == (previous_role, previous_active) and was_known:
            return
        log.info("[RED] Role: %s (active agent: %s)", lead.role, lead.active_agent or "-")
        if was_known and previous_role == "standby" and lead.role == "active":
            gone = previous_active if previous_active and previous_active not in members else ""
            text = strings.NOTICE_TAKEOVER.format(previous=gone) if gone else strings.NOTICE_TAKEOVER_FIRST
            svc.notice(Notice("takeover", strings.NOTICE_TAKEOVER_TITLE, text))
        svc.publisher.changed()

    def on_connection(self, state: str, detail: str | None, offline: Offline | None = None) -> None:
        svc = self.svc
        connection = CONNECTION.get(state, "connecting")
        if connection == "connected":
            offline = None
        elif connection == "connecting" and offline is not None and svc.connection in ("disconnected", "failed"):
            connection = svc.connection  # a retry under way is still offline: the countdown says so
        with svc.lock:
            changed = connection != svc.connection
            retry_changed = offline != svc.offline
            svc.connection, svc.offline = connection, offline
            svc.connection_detail = (detail or "") if connection in ("failed", "disconnected") else ""
        if changed:
            log.info("Remote channel: %s%s", connection, f" ({detail})" if detail and connection != "connected" else "")
        if state == "subscribed":
            svc.publisher.publish(full=True)  # Pusher never replays: after every (re)subscription a full status
        if changed or retry_changed:
            svc.notify_snapshot()  # the windows show the reason and count down to the next try
