"""FerraSync's vocabulary: every state, mode and name a run, a command or a window speaks of.

Defined once, here, as `StrEnum`s: a member *is* its string, so the journal, the wire and the
files keep exactly the bytes they had (`RunState.PAUSED == "paused"`, `json.dumps` writes
`"paused"`). Everything that asks a question about a state ("is a run busy?", "can a new run
start?") asks it here, through the predicates below; no other module keeps a table of state words.
docs/engine.md says what each state means and how it maps to the wire; docs/ui.md how it is shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class RunState(StrEnum):
    """Where a run (or the agent, between runs) is. Stored in the journal, shown on every surface."""

    IDLE = "idle"
    STARTING = "starting"
    ANALYSING = "analysing"
    SENDING = "sending"
    PAUSING = "pausing"
    PAUSED = "paused"
    STOPPING = "stopping"
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"  # the process died mid-run; found at the next start
    COMPLETED = "completed"
    FAILED = "failed"
    REFUSED = "refused"  # the safety limit or a check said no before anything was sent

    @classmethod
    def parse(cls, text: str) -> RunState:
        """A state read back from a journal or a report; older FerraSync versions wrote a few aliases."""
        return cls(_STATE_ALIASES.get(text, text))

    @classmethod
    def spellings(cls, states: Iterable[RunState]) -> tuple[str, ...]:
        """Every word a stored row may hold for these states, older aliases included (for SQL `IN (...)`)."""
        wanted = frozenset(states)
        return tuple(s.value for s in cls if s in wanted) + tuple(
            alias for alias, word in _STATE_ALIASES.items() if cls(word) in wanted
        )

    @classmethod
    def from_wire(cls, status: object, phase: object = None) -> RunState:
        """The run state a `sync.status` tells: its phase when it agrees with its status, else the status alone
        (the PHP listener and older agents sent no phase); an unknown status reads as idle."""
        state = _BY_PHASE.get(str(phase))
        if state is not None and state.wire[0] == status:
            return state
        return _BY_STATUS.get(str(status), RunState.IDLE)

    @property
    def progressing(self) -> bool:
        """The run moves forward: it can be paused."""
        return self in _PROGRESSING

    @property
    def busy(self) -> bool:
        """A run thread is at work (moving forward, or winding down after pause/stop)."""
        return self in _BUSY

    @property
    def halting(self) -> bool:
        """A pause or stop was asked and the run winds down to its next planilla boundary."""
        return self in (RunState.PAUSING, RunState.STOPPING)

    @property
    def resumable(self) -> bool:
        """The run ended early and `--resume` can pick it up where it stopped."""
        return self in _RESUMABLE

    @property
    def can_start(self) -> bool:
        """A new run may start: nothing is busy and nothing is paused waiting for Reanudar."""
        return not self.busy and self is not RunState.PAUSED

    @property
    def can_stop(self) -> bool:
        return self.progressing or self in (RunState.PAUSING, RunState.PAUSED)

    @property
    def ended(self) -> bool:
        """The run's thread is gone for good: it finished, or was stopped or interrupted (those two can still be
        resumed, as a new leg of the same run); a paused run has not ended."""
        return self.finished or self in (RunState.STOPPED, RunState.INTERRUPTED)

    @property
    def finished(self) -> bool:
        """The run is over and has an end time (a resumable run is not over)."""
        return self in (RunState.COMPLETED, RunState.FAILED, RunState.REFUSED)

    @property
    def wire(self) -> tuple[WireStatus, Phase]:
        """(status, phase) of the `sync.status` event for this state (docs/protocol.md)."""
        return _WIRE[self]


_STATE_ALIASES = {"running": "sending", "done": "completed", "error": "failed"}
_PROGRESSING = frozenset({RunState.STARTING, RunState.ANALYSING, RunState.SENDING})
_BUSY = _PROGRESSING | {RunState.PAUSING, RunState.STOPPING}
_RESUMABLE = frozenset({RunState.PAUSED, RunState.STOPPED, RunState.INTERRUPTED})


class WireStatus(StrEnum):
    """`sync.status`'s `status`: the five words Manager's web monitor understands."""

    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    ERROR = "error"
    IDLE = "idle"


class Phase(StrEnum):
    """`sync.status`'s `phase`: the finer step inside a wire status."""

    STARTING = "starting"
    ANALYSING = "analysing"
    SENDING = "sending"
    PAUSING = "pausing"
    PAUSED = "paused"
    STOPPING = "stopping"
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"
    REFUSED = "refused"
    DONE = "done"
    FAILED = "failed"
    IDLE = "idle"


_WIRE: dict[RunState, tuple[WireStatus, Phase]] = {
    RunState.IDLE: (WireStatus.IDLE, Phase.IDLE),
    RunState.STARTING: (WireStatus.RUNNING, Phase.STARTING),
    RunState.ANALYSING: (WireStatus.RUNNING, Phase.ANALYSING),
    RunState.SENDING: (WireStatus.RUNNING, Phase.SENDING),
    RunState.PAUSING: (WireStatus.RUNNING, Phase.PAUSING),
    RunState.STOPPING: (WireStatus.RUNNING, Phase.STOPPING),
    RunState.PAUSED: (WireStatus.PAUSED, Phase.PAUSED),
    RunState.STOPPED: (WireStatus.PAUSED, Phase.STOPPED),
    RunState.INTERRUPTED: (WireStatus.PAUSED, Phase.INTERRUPTED),
    RunState.COMPLETED: (WireStatus.COMPLETED, Phase.DONE),
    RunState.FAILED: (WireStatus.ERROR, Phase.FAILED),
    RunState.REFUSED: (WireStatus.IDLE, Phase.REFUSED),
}

_BY_PHASE = {phase.value: state for state, (_status, phase) in _WIRE.items()}
_BY_STATUS = {
    WireStatus.RUNNING.value: RunState.SENDING,
    WireStatus.PAUSED.value: RunState.PAUSED,
    WireStatus.COMPLETED.value: RunState.COMPLETED,
    WireStatus.ERROR.value: RunState.FAILED,
    WireStatus.IDLE.value: RunState.IDLE,
}


class Role(StrEnum):
    """Leadership among the agents of one office: only the active one runs syncs."""

    ACTIVE = "active"
    STANDBY = "standby"


class Connection(StrEnum):
    """The agent's (or the window's) link to the remote channel."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    FAILED = "failed"


class Mode(StrEnum):
    """What a run looks at (docs/engine.md, "Modes")."""

    INCREMENTAL = "incremental"
    NUEVAS = "nuevas"
    HISTORICO = "historico"
    REBUILD = "rebuild"
    ESPECIFICA = "especifica"


class Target(StrEnum):
    """Which Manager a run sends to."""

    PRODUCTION = "production"
    LOCAL = "local"


class CommandName(StrEnum):
    """`sync.command`'s `command`."""

    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    KILL = "kill"
    STATUS = "status"
    CONFIGURE_AUTO_SYNC = "configure-auto-sync"
    EXPLAIN = "explain"
    RECONCILE = "reconcile"

    @property
    def answered_by_report(self) -> bool:
        """Read-only questions answered by a `sync.report` rather than by a run."""
        return self in (CommandName.EXPLAIN, CommandName.RECONCILE)


class AckResult(StrEnum):
    """`sync.ack`'s `result`."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


# Limits every surface validates against (the form, the CLI, the wire).
MIN_YEAR, MAX_YEAR = 1990, 2100
AUTOSYNC_MIN_MINUTES, AUTOSYNC_MAX_MINUTES = 2, 1440

# Liveness (docs/protocol.md "Cadence" and "Liveness and leadership"): an idle agent publishes a status every
# HEARTBEAT_S; a window shows it late after two missed heartbeats and offline after OFFLINE_AFTER_S of silence.
HEARTBEAT_S = 60.0
LATE_AFTER_S = 2 * HEARTBEAT_S
OFFLINE_AFTER_S = 150.0

class LogMark(StrEnum):
    """How a line written for users starts, on every surface (the agent's activity log, both windows'
    Registro): a mark a person reads at a glance instead of an English level name."""

    OK = "✓"
    INFO = "·"
    WARN = "⚠"
    ERROR = "✗"


class OfflineReason(StrEnum):
    """Why the remote channel is not connected, in the terms a user can act on (sync/pusher/offline.py
    derives it from what the subscriber saw and words it)."""

    NO_RESPONSE = "no_response"  # refused, timed out, dropped, or the server asked us to come back later
    NO_INTERNET = "no_internet"  # the name does not resolve or the network is unreachable
    BAD_KEY = "bad_key"  # the app key or the signature was refused (4001, 4009, subscription error)
    DISABLED = "disabled"  # the app is disabled or over its quota (4003, 4004)
    REJECTED = "rejected"  # any other refusal (wrong scheme, path, protocol)
