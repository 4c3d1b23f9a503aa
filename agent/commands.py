"""Command handling, on the service thread: validate, decide whether this agent answers (docs/protocol.md), dedupe
through the journal, execute, ack. Remote and local commands (tray, control files, auto-sync) alike.

It owns no agent state: it asks the parts that do (runs, presence, periodic checks) through their calls,
and acknowledges and publishes through the status publisher.
"""

from __future__ import annotations

import contextlib
import getpass
import logging
from collections.abc import Callable
from typing import Any

from agent import strings
from agent.autosync import Schedule
from agent.periodic import PeriodicChecks
from agent.presence import PresenceWiring
from agent.publishing import StatusPublisher
from agent.reports import ReportWorker
from agent.runs import RunSupervisor, who
from sync import protocol, protocol_parse, signing
from sync.config.model import Settings
from sync.config.saving import save_settings
from sync.errors import FerraSyncError
from sync.journal import Journal
from sync.model import AckResult, CommandName, RunState
from sync.request import StartRequest
from sync.runcontrol import Action

log = logging.getLogger("ferrasync.agent")

Origin = dict[str, Any] | None
SEEN = "seen"  # journal outcome of an authenticated command another agent was to answer


def local_user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:
        return None


class CommandHandler:
    def __init__(self, settings: Settings, *, agent_id: str, hostname: str, require_signature: bool,
                 journal: Callable[[], Journal], runs: RunSupervisor, publisher: StatusPublisher,
                 presence: PresenceWiring, periodic: PeriodicChecks) -> None:  # fmt: skip
        self.settings, self.journal = settings, journal
        self.agent_id, self.hostname, self.require_signature = agent_id, hostname, require_signature
        self.runs, self.publisher, self.presence, self.periodic = runs, publisher, presence, periodic
        self.reports = ReportWorker(settings, lambda: publisher.outbox, agent_id=agent_id, hostname=hostname)

    def wire(self, command: str, params: dict[str, Any] | None, user: str) -> dict[str, Any]:
        """A local command as it would come over the channel."""
        return {"command": command, "params": params or {}, "requestId": protocol.new_request_id(),
                "timestamp": protocol.iso_utc(protocol.now_utc()), "agent": self.agent_id,
                "origin": {"hostname": self.hostname, "user": user}}  # fmt: skip

    def local(self, command: str, params: dict[str, Any] | None = None, user: str = "local") -> None:
        self.handle(self.wire(command, params, user), local=True)

    def handle(self, data: Any, *, local: bool) -> protocol.Ack | None:
        """Validate, decide whether this agent answers, dedupe, execute, ack. None = not ours (silent)."""
        journal, publisher = self.journal(), self.publisher
        try:
            cmd = protocol_parse.parse_command(
                data,
                signing_key=None if local else self.settings.signing_key,
                require_signature=self.require_signature and not local,
            )
        except protocol.ProtocolError as exc:
            return self._reject_invalid(data, exc, local)
        authentic = self._authentic(cmd, local)
        if not self._answers(cmd.command, cmd.agent, local):
            if authentic:  # a later copy of these bytes is refused here, never run (docs/decisions.md)
                journal.record_command(cmd.request_id, cmd.command, SEEN, strings.SEEN_NOT_OURS)
            return None
        prior = journal.command(cmd.request_id)
        if prior is not None and prior.outcome == SEEN:
            # Not "duplicate": it never ran here, and a window retrying it must not believe it did.
            return publisher.send_ack(cmd.request_id, "rejected", strings.SEEN_REPLAY)
        if prior is not None:
            outcome = prior.outcome + (f": {prior.reason}" if prior.reason else "")
            return publisher.send_ack(cmd.request_id, "duplicate", strings.DUPLICATE.format(outcome=outcome))
        origin = cmd.origin.to_wire() if cmd.origin else None
        log.info("Command %s (%s) from %s", cmd.command, cmd.request_id, who(origin, local))
        with publisher.held():
            addressed = not local and authentic and cmd.agent == self.agent_id
            result, reason = self._execute(cmd, origin, addressed)
            journal.record_command(cmd.request_id, cmd.command, result, reason or "", self.runs.run.run_id)
            ack = publisher.send_ack(cmd.request_id, result, reason)  # the ack leaves before the status it causes
        is_status = cmd.command == CommandName.STATUS
        publisher.release(force=is_status, full=is_status)
        if is_status:
            self.periodic.refresh_years(only_if_stale=True)
        return ack

    def _authentic(self, cmd: protocol.Command, local: bool) -> bool:
        """A local command, or one whose signature was checked against our key (parse_command verified it)."""
        return local or (bool(self.settings.signing_key) and cmd.signature is not None)

    def _answers(self, command: str | None, target: str | None, local: bool) -> bool:
        """docs/protocol.md: targeted → that agent only; untargeted → the active one; `status` → everyone."""
        if local:
            return True
        if target:
            return target == self.agent_id
        return command == CommandName.STATUS or self.presence.active

    def _reject_invalid(self, data: Any, exc: protocol.ProtocolError, local: bool) -> protocol.Ack | None:
        raw: dict[str, Any] = {}
        with contextlib.suppress(protocol.ProtocolError):
            raw = protocol_parse.decode_data(data)
        target = raw.get("agent") if isinstance(raw.get("agent"), str) else None
        if not self._answers(str(raw.get("command")), target, local):
            return None
        log.warning("Command rejected: %s", exc.reason)
        if not exc.request_id:
            return None  # nothing to answer to: an ack needs the requestId
        journal, publisher = self.journal(), self.publisher
        prior = journal.command(exc.request_id)
        if prior is not None:
            return publisher.send_ack(exc.request_id, "duplicate", strings.DUPLICATE.format(outcome=prior.outcome))
        # Only an authenticated command may take a requestId in the journal: else anyone could poison the id
        # a control window's «Reintentar» reuses. An unauthenticated one is simply refused again if resent.
        if local or signing.signature_valid(raw, self.settings.signing_key):
            journal.record_command(exc.request_id, str(raw.get("command") or "?")[:40], "rejected", exc.reason)
        return publisher.send_ack(exc.request_id, "rejected", exc.reason)

    def _execute(self, cmd: protocol.Command, origin: Origin, addressed: bool) -> tuple[AckResult | str, str | None]:
        """`addressed`: a signed command naming this agent; presence never makes it refuse one (a forged member
        could otherwise keep every agent in reserve)."""
        runs = self.runs
        handlers: dict[str, Callable[[protocol.Command, Origin], str | None]] = {
            CommandName.START: lambda c, o: self._start(c, o, addressed),
            CommandName.RESUME: lambda c, o: self._resume(c, o, addressed),
            CommandName.PAUSE: lambda c, o: runs.halt(Action.PAUSE, RunState.PAUSING, strings.PAUSING),
            CommandName.STOP: lambda c, o: runs.halt(Action.STOP, RunState.STOPPING, strings.STOPPING),
            CommandName.KILL: lambda c, o: runs.kill(),
            CommandName.STATUS: lambda c, o: None,
            CommandName.CONFIGURE_AUTO_SYNC: self._autosync,
            # read-only questions, answered by a sync.report from their own thread (agent/reports.py)
            CommandName.EXPLAIN: self._report,
            CommandName.RECONCILE: self._report,
        }
        handler = handlers[cmd.command]
        reason = handler(cmd, origin)
        return ("rejected", reason) if reason else ("accepted", None)

    def _report(self, cmd: protocol.Command, origin: Origin) -> str | None:
        return self.reports.start(cmd)

    def _start(self, cmd: protocol.Command, origin: Origin, addressed: bool) -> str | None:
        reason = (None if addressed else self.presence.standby_reason()) or self.runs.busy_reason()
        if reason:
            return reason
        assert isinstance(cmd.params, StartRequest)
        return self.runs.start(cmd.params, cmd.request_id, origin)

    def _resume(self, cmd: protocol.Command, origin: Origin, addressed: bool) -> str | None:
        reason = (None if addressed else self.presence.standby_reason()) or self.runs.busy_reason()
        if reason:
            return reason
        record = self.journal().last_resumable()
        if record is None:
            return strings.NOTHING_TO_RESUME
        request = StartRequest.from_params(record.params)
        return self.runs.start(request, cmd.request_id, origin, record=record)

    def _autosync(self, cmd: protocol.Command, origin: Origin) -> str | None:
        p = cmd.params
        assert isinstance(p, protocol.AutoSyncParams)
        s = self.periodic.schedule
        new = Schedule(p.enabled, p.interval or s.interval_min, p.target or s.target, s.last_run)
        try:
            save_settings({"FERRASYNC_AUTOSYNC_ENABLED": new.enabled, "FERRASYNC_AUTOSYNC_INTERVAL": new.interval_min,
                           "FERRASYNC_AUTOSYNC_TARGET": new.target}, home=self.settings.home)  # fmt: skip
        except FerraSyncError as exc:
            return exc.message
        self.periodic.reschedule(new)
        state = f"activado cada {new.interval_min} min → {new.target}" if new.enabled else "desactivado"
        log.info("Auto-sync %s", state)
        self.publisher.changed()
        return None
