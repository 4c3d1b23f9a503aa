"""What the agent tells its tray and windows: one immutable snapshot of its state, and notices."""

from __future__ import annotations

from dataclasses import dataclass, field

from sync import words
from sync.journal import RunRecord
from sync.model import Connection, Mode, Role, RunState, Target
from sync.pusher.offline import Offline
from sync.runmodel import Counts


@dataclass(frozen=True)
class AutoSyncView:
    enabled: bool = False
    interval: int = 30  # minutes
    target: Target = Target.PRODUCTION
    next_run_at: float | None = None  # unix time; None when disabled

    def __post_init__(self) -> None:
        object.__setattr__(self, "target", Target(self.target))  # the schedule file holds it as text


@dataclass(frozen=True)
class AgentSnapshot:
    state: RunState = RunState.IDLE
    role: Role = Role.STANDBY
    connection: Connection = Connection.CONNECTING
    connection_detail: str = ""
    offline: Offline | None = None  # why the remote channel is down and when it retries (sync/pusher/offline.py)
    progress: Counts = field(default_factory=Counts)
    code: str = ""  # the last planilla
    info: str = ""  # "cliente — obra"
    message: str = ""
    run_id: str | None = None
    request_id: str | None = None
    origin: dict[str, str | None] | None = None
    mode: Mode | None = None
    target: Target | None = None
    year: str | None = None  # the status's `year` field: a year, "incremental", "rebuild"...
    started_at: str | None = None  # ISO-8601 UTC
    elapsed_s: float | None = None
    eta_s: float | None = None
    autosync: AutoSyncView = field(default_factory=AutoSyncView)
    years: tuple[str, ...] = ()
    active_agent: str = ""  # id of the active agent when this one is standby
    legacy_listener: str = ""  # hostname of an old PHP listener in the presence channel, or ""
    recent_runs: tuple[RunRecord, ...] = ()
    agent_id: str = ""
    hostname: str = ""
    version: str = ""
    signing: str = ""  # a sync.signing.SigningMode ("" until known): whether remote commands must be signed
    safety_limit: int | None = None  # the last run was refused by this limit (progress.total was found)

    def __post_init__(self) -> None:
        # Whoever builds a snapshot may still hold these words as text (the journal, tests): typed here, once.
        typed = {
            "state": RunState.parse(self.state),
            "role": Role(self.role),
            "connection": Connection(self.connection),
            "mode": Mode(self.mode) if self.mode else None,
            "target": Target(self.target) if self.target else None,
        }
        for name, value in typed.items():
            object.__setattr__(self, name, value)

    @property
    def running(self) -> bool:
        return self.state.busy

    @property
    def progress_text(self) -> str:
        """ "150/500", or "0/?" before the plan is known (the status's progress field)."""
        known = words.progress_text(self.progress) if self.state not in (RunState.STARTING, RunState.ANALYSING) else ""
        return known or (f"{self.progress.done}/?" if self.running else "")


@dataclass(frozen=True)
class Notice:
    """A user-facing notification (tray balloon): completed, error, takeover."""

    kind: str  # "completed" | "error" | "takeover" | "refused"
    title: str
    text: str
