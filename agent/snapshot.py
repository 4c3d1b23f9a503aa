"""What the agent tells its tray and windows: one immutable snapshot of its state, and notices."""

from __future__ import annotations

from dataclasses import dataclass, field

from sync.journal import RunRecord
from sync.pusher.offline import Offline
from sync.runmodel import Counts

STATES = (
    "idle", "starting", "analysing", "sending", "pausing", "paused", "stopping",
    "stopped", "interrupted", "completed", "failed", "refused",
)  # fmt: skip
RUNNING_STATES = ("starting", "analysing", "sending", "pausing", "stopping")
RESUMABLE_STATES = ("paused", "stopped", "interrupted")
CONNECTIONS = ("connecting", "connected", "disconnected", "failed")


@dataclass(frozen=True)
class AutoSyncView:
    enabled: bool = False
    interval: int = 30  # minutes
    target: str = "production"
    next_run_at: float | None = None  # unix time; None when disabled


@dataclass(frozen=True)
class AgentSnapshot:
    state: str = "idle"
    role: str = "standby"  # "active" | "standby"
    connection: str = "connecting"
    connection_detail: str = ""
    offline: Offline | None = None  # why the remote channel is down and when it retries (sync/pusher/offline.py)
    progress: Counts = field(default_factory=Counts)
    code: str = ""  # the last planilla
    info: str = ""  # "cliente — obra"
    message: str = ""
    run_id: str | None = None
    request_id: str | None = None
    origin: dict[str, str | None] | None = None
    mode: str | None = None
    target: str | None = None
    year: str | None = None  # the seed's `year` field: a year, "incremental", "rebuild"...
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
    signing: str = ""  # sync.signing.MODES: whether remote commands must be signed

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES

    @property
    def progress_text(self) -> str:
        """ "150/500", or "0/?" before the plan is known (the seed's progress field)."""
        if self.state in ("starting", "analysing") or not self.progress.total:
            return f"{self.progress.done}/?" if self.running else ""
        return f"{self.progress.done}/{self.progress.total}"


@dataclass(frozen=True)
class Notice:
    """A user-facing notification (tray balloon): completed, error, takeover."""

    kind: str  # "completed" | "error" | "takeover" | "refused"
    title: str
    text: str
