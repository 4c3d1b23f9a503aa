"""The remote protocol's messages (docs/protocol.md): `sync.command`, `sync.ack`, `sync.status`, their names and limits.

This module is the message model only: what each message holds and its exact wire form (`to_wire`). Reading
and validating received messages (with the legacy `año` key) is `sync.protocol_parse`; signatures are
`sync.signing`; fitting an event into Pusher's 10 KB and Manager's sync-status body are `sync.protocol_encode`.
The words a message carries (commands, modes, statuses, phases, ack results) are `sync.model`'s enums.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sync.errors import FerraSyncError
from sync.model import AckResult, CommandName, Phase, RunState, Target, WireStatus
from sync.request import StartRequest
from sync.runmodel import Counts  # the status's `counts` is the run's tally, field for field

CHANNEL = "private-sync-control"
PRESENCE_CHANNEL = "presence-ferrawin-listeners"
EVENT_COMMAND = "sync.command"
EVENT_ACK = "sync.ack"
EVENT_STATUS = "sync.status"
EVENT_REPORT = "sync.report"  # the answer to `explain` and `reconcile` (docs/protocol.md)

# Pusher's documented limit is 10 KB per event's data; we count UTF-8 bytes of the JSON text.
MAX_EVENT_BYTES = 10_240

DEFAULT_MAX_AGE_S = 600.0
DEFAULT_MAX_AHEAD_S = 120.0


class ProtocolError(FerraSyncError):
    """A message that breaks the protocol; `reason` is the Spanish text sent back in the ack."""

    def __init__(self, reason: str, request_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.request_id = request_id


class PayloadTooLarge(ProtocolError):
    """An event that would exceed Pusher's 10 KB limit even after trimming."""


# --------------------------------------------------------------------------- commands


def start_wire(request: StartRequest) -> dict[str, Any]:
    """A start's `params` on the wire: `modo`, `target`, `anio` (a number), `codigo_especifico`, `desde_codigo`,
    `force`. The command-line-only fields (limit, dry run) have no wire form: a request with them is not sent."""
    if request.limit is not None or request.dry_run:
        raise ValueError("limit and dry_run are command-line only; a remote start cannot carry them")
    out: dict[str, Any] = {"modo": str(request.mode), "target": str(request.target)}
    if request.year is not None:
        out["anio"] = request.year
    if request.code is not None:
        out["codigo_especifico"] = request.code
    if request.from_code is not None:
        out["desde_codigo"] = request.from_code
    if request.force:
        out["force"] = True
    return out


@dataclass(frozen=True)
class AutoSyncParams:
    enabled: bool
    interval: int | None = None
    target: Target | None = None

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"enabled": self.enabled}
        if self.interval is not None:
            out["interval"] = self.interval
        if self.target is not None:
            out["target"] = str(self.target)
        return out


@dataclass(frozen=True)
class ExplainParams:
    codigo: str  # padded
    target: Target = Target.PRODUCTION

    def to_wire(self) -> dict[str, Any]:
        return {"codigo": self.codigo, "target": str(self.target)}


@dataclass(frozen=True)
class ReconcileParams:
    target: Target = Target.PRODUCTION

    def to_wire(self) -> dict[str, Any]:
        return {"target": str(self.target)}


Params = StartRequest | AutoSyncParams | ExplainParams | ReconcileParams | None


def params_wire(params: Params) -> dict[str, Any]:
    if params is None:
        return {}
    return start_wire(params) if isinstance(params, StartRequest) else params.to_wire()


@dataclass(frozen=True)
class Origin:
    hostname: str | None = None
    user: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return {"hostname": self.hostname, "user": self.user}


@dataclass(frozen=True)
class Command:
    command: CommandName
    request_id: str
    timestamp: datetime
    params: Params = None
    agent: str | None = None
    origin: Origin | None = None
    signature: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """The event data, without the signature (see `sync.signing.sign_command`)."""
        out: dict[str, Any] = {
            "command": str(self.command),
            "params": params_wire(self.params),
            "requestId": self.request_id,
            "timestamp": iso_utc(self.timestamp),
        }
        if self.agent is not None:
            out["agent"] = self.agent
        if self.origin is not None:
            out["origin"] = self.origin.to_wire()
        if self.signature is not None:
            out["signature"] = self.signature
        return out


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with a `Z`, milliseconds: what Laravel's `toISOString()` produces."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_utc() -> datetime:
    return datetime.now(UTC)


def new_request_id() -> str:
    return str(uuid.uuid4())


# --------------------------------------------------------------------------- acks


@dataclass(frozen=True)
class Ack:
    request_id: str
    result: AckResult
    reason: str | None
    agent: str
    hostname: str
    timestamp: datetime

    def to_wire(self) -> dict[str, Any]:
        return {
            "requestId": self.request_id,
            "result": str(self.result),
            "reason": self.reason,
            "agent": self.agent,
            "hostname": self.hostname,
            "timestamp": iso_utc(self.timestamp),
        }


def build_ack(
    request_id: str,
    result: AckResult | str,
    *,
    agent: str,
    hostname: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> Ack:
    # Reasons are user-facing but must stay small: the ack has to fit one event.
    reason = (reason or None) and str(reason)[:500]
    return Ack(request_id, AckResult(result), reason, agent, hostname, now or now_utc())


# --------------------------------------------------------------------------- status


@dataclass(frozen=True)
class AutoSync:
    enabled: bool = False
    interval: int | None = None
    target: str | None = None
    nextRunAt: str | None = None


@dataclass(frozen=True)
class SyncStatus:
    status: WireStatus
    phase: Phase
    agent: str
    hostname: str
    version: str
    role: str = "active"
    progress: str | None = None
    year: str | None = None
    target: str | None = None
    last_planilla: str | None = None
    last_planilla_info: str | None = None
    message: str | None = None
    request_id: str | None = None
    run_id: str | None = None
    origin: Origin | None = None
    counts: Counts | None = None
    started_at: str | None = None
    elapsed_s: float | None = None
    eta_s: float | None = None
    autosync: AutoSync | None = None
    years: tuple[str, ...] | None = None
    timestamp: datetime = field(default_factory=now_utc)
    # Manager-only: whether the last planilla was a modification (the PHP tool's es_actualizacion).
    last_planilla_update: bool = False
    signing: str | None = None  # the agent's signing mode (sync.signing.MODES); absent from older agents
    safety_limit: int | None = None  # the last run was refused by the safety limit; counts.total was found

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": str(self.status),
            "phase": str(self.phase),
            "role": self.role,
            "progress": self.progress,
            "year": self.year,
            "target": self.target,
            "lastPlanilla": self.last_planilla,
            "lastPlanillaInfo": self.last_planilla_info,
            "message": self.message,
            "requestId": self.request_id,
            "runId": self.run_id,
            "origin": self.origin.to_wire() if self.origin else None,
            "counts": vars(self.counts).copy() if self.counts else None,
            "startedAt": self.started_at,
            "elapsedS": self.elapsed_s,
            "etaS": self.eta_s,
            "agent": self.agent,
            "hostname": self.hostname,
            "version": self.version,
            "timestamp": iso_utc(self.timestamp),
            "autosync": vars(self.autosync).copy() if self.autosync else None,
        }
        if self.years is not None:
            out["years"] = list(self.years)
        if self.signing is not None:
            out["signing"] = self.signing
        if self.safety_limit is not None:
            out["safetyLimit"] = self.safety_limit
        return out


def build_status(state: RunState | str, *, agent: str, hostname: str, version: str, **fields: Any) -> SyncStatus:
    """The status of an agent in `state` (a journal word is read with `RunState.parse`); "disconnected" is
    never sent (a window infers it)."""
    status, phase = RunState.parse(state).wire
    return SyncStatus(status=status, phase=phase, agent=agent, hostname=hostname, version=version, **fields)
