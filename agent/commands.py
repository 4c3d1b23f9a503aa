"""Command handling, on the service thread: validate, decide whether this agent answers (design §4), dedupe
through the journal, execute, ack. Remote and local commands (tray, control files, auto-sync) alike."""

from __future__ import annotations

import contextlib
import getpass
import logging
from typing import TYPE_CHECKING, Any

from agent import strings
from agent.autosync import Schedule
from agent.reports import ReportWorker
from agent.runs import who
from sync import protocol, protocol_parse, signing
from sync.config import save_settings
from sync.errors import FerraSyncError
from sync.model import AckResult
from sync.request import StartRequest
from sync.runcontrol import Action

if TYPE_CHECKING:
    from agent.service import AgentService

log = logging.getLogger("ferrasync.agent")

Origin = dict[str, Any] | None
SEEN = "seen"  # journal outcome of an authenticated command another agent was to answer


def local_user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:
        return None


class CommandHandler:
    def __init__(self, svc: AgentService) -> None:
        self.svc = svc
        self.reports = ReportWorker(svc)

    def wire(self, command: str, params: dict[str, Any] | None, user: str) -> dict[str, Any]:
        """A local command as it would come over the channel."""
        svc = self.svc
        return {"command": command, "params": params or {}, "requestId": protocol.new_request_id(),
                "timestamp": protocol.iso_utc(protocol.now_utc()), "agent": svc.agent_id,
                "origin": {"hostname": svc.hostname, "user": user}}  # fmt: skip

    def local(self, command: str, params: dict[str, Any] | None = None, user: str = "local") -> None:
        self.handle(self.wire(command, params, user), local=True)

    def handle(self, data: Any, *, local: bool) -> protocol.Ack | None:
        """Validate, decide whether this agent answers, dedupe, execute, ack. None = not ours (silent)."""
        svc = self.svc
        assert svc.journal is not None
        try:
            cmd = protocol_parse.parse_command(
                data,
                signing_key=None if local else svc.settings.signing_key,
                require_signature=svc.require_signature and not local,
            )
        except protocol.ProtocolError as exc:
            return self._reject_invalid(data, exc, local)
        authentic = self._authentic(cmd, local)
        if not self._answers(cmd.command, cmd.agent, local):
            if authentic:  # a later copy of these bytes is refused here, never run (docs/decisions.md)
                svc.journal.record_command(cmd.request_id, cmd.command, SEEN, strings.SEEN_NOT_OURS)
            return None
        prior = svc.journal.command(cmd.request_id)
        if prior is not None and prior.outcome == SEEN:
            # Not "duplicate": it never ran here, and a window retrying it must not believe it did.
            return svc.publisher.send_ack(cmd.request_id, "rejected", strings.SEEN_REPLAY)
        if prior is not None:
            outcome = prior.outcome + (f": {prior.reason}" if prior.reason else "")
            return svc.publisher.send_ack(cmd.request_id, "duplicate", strings.DUPLICATE.format(outcome=outcome))
        origin = cmd.origin.to_wire() if cmd.origin else None
        log.info("Command %s (%s) from %s", cmd.command, cmd.request_id, who(origin, local))
        with svc.publisher.held():
            addressed = not local and authentic and cmd.agent == svc.agent_id
            result, reason = self._execute(cmd, origin, addressed)
            svc.journal.record_command(cmd.request_id, cmd.command, result, reason or "", svc.run.run_id)
            ack = svc.publisher.send_ack(cmd.request_id, result, reason)  # the ack leaves before the status it causes
        is_status = cmd.command == "status"
        svc.publisher.release(force=is_status, full=is_status)
        if is_status:
            svc.periodic.refresh_years(only_if_stale=True)
        return ack

    def _authentic(self, cmd: protocol.Command, local: bool) -> bool:
        """A local command, or one whose signature was checked against our key (parse_command verified it)."""
        return local or (bool(self.svc.settings.signing_key) and cmd.signature is not None)

    def _answers(self, command: str | None, target: str | None, local: bool) -> bool:
        """design §4: targeted → that agent only; untargeted → the active one; `status` → everyone."""
        if local:
            return True
        if target:
            return target == self.svc.agent_id
        return command == "status" or self.svc.role == "active"

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
        journal, publisher = self.svc.journal, self.svc.publisher
        assert journal is not None
        prior = journal.command(exc.request_id)
        if prior is not None:
            return publisher.send_ack(exc.request_id, "duplicate", strings.DUPLICATE.format(outcome=prior.outcome))
        # Only an authenticated command may take a requestId in the journal: else anyone could poison the id
        # a control window's «Reintentar» reuses. An unauthenticated one is simply refused again if resent.
        if local or signing.signature_valid(raw, self.svc.settings.signing_key):
            journal.record_command(exc.request_id, str(raw.get("command") or "?")[:40], "rejected", exc.reason)
        return publisher.send_ack(exc.request_id, "rejected", exc.reason)

    def _execute(self, cmd: protocol.Command, origin: Origin, addressed: bool) -> tuple[AckResult | str, str | None]:
        """`addressed`: a signed command naming this agent; presence never makes it refuse one (a forged member
        could otherwise keep every agent in reserve)."""
        runs = self.svc.runs
        handler = {
            "start": lambda c, o: self._start(c, o, addressed),
            "resume": lambda c, o: self._resume(c, o, addressed),
            "pause": lambda c, o: runs.halt(Action.PAUSE, "pausing", strings.PAUSING),
            "stop": lambda c, o: runs.halt(Action.STOP, "stopping", strings.STOPPING),
            "kill": lambda c, o: runs.kill(),
            "status": lambda c, o: None,
            "configure-auto-sync": self._autosync,
            # read-only questions, answered by a sync.report from their own thread (agent/reports.py)
            "explain": self._report,
            "reconcile": self._report,
        }[cmd.command]
        reason = handler(cmd, origin)
        return ("rejected", reason) if reason else ("accepted", None)

    def _report(self, cmd: protocol.Command, origin: Origin) -> str | None:
        return self.reports.start(cmd)

    def _standby_reason(self) -> str | None:
        svc = self.svc
        if svc.role == "active":
            return None
        why = (strings.LEGACY_LISTENER.format(host=svc.legacy) if svc.legacy
               else f"el agente activo es {svc.active_agent or '?'}")  # fmt: skip
        return strings.STANDBY_REFUSES.format(why=why)

    def _start(self, cmd: protocol.Command, origin: Origin, addressed: bool) -> str | None:
        reason = (None if addressed else self._standby_reason()) or self.svc.runs.busy_reason()
        if reason:
            return reason
        assert isinstance(cmd.params, StartRequest)
        return self.svc.runs.start(cmd.params, cmd.request_id, origin)

    def _resume(self, cmd: protocol.Command, origin: Origin, addressed: bool) -> str | None:
        reason = (None if addressed else self._standby_reason()) or self.svc.runs.busy_reason()
        if reason:
            return reason
        assert self.svc.journal is not None
        record = self.svc.journal.last_resumable()
        if record is None:
            return strings.NOTHING_TO_RESUME
        request = StartRequest.from_params(record.params)
        return self.svc.runs.start(request, cmd.request_id, origin, record=record)

    def _autosync(self, cmd: protocol.Command, origin: Origin) -> str | None:
        svc = self.svc
        p = cmd.params
        assert isinstance(p, protocol.AutoSyncParams)
        s = svc.schedule
        new = Schedule(p.enabled, p.interval or s.interval_min, p.target or s.target, s.last_run)
        try:
            save_settings({"FERRASYNC_AUTOSYNC_ENABLED": new.enabled, "FERRASYNC_AUTOSYNC_INTERVAL": new.interval_min,
                           "FERRASYNC_AUTOSYNC_TARGET": new.target}, home=svc.settings.home)  # fmt: skip
        except FerraSyncError as exc:
            return exc.message
        with svc.lock:
            svc.schedule = new
            svc.autosync.plan(new)  # the first automatic run comes one interval from now
        state = f"activado cada {new.interval_min} min → {new.target}" if new.enabled else "desactivado"
        log.info("Auto-sync %s", state)
        svc.publisher.changed()
        return None
