"""What a run reports while it runs and how it ended (what it is asked to do is `sync.request.StartRequest`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from sync.model import Phase, RunState


@dataclass
class Counts:
    total: int = 0
    done: int = 0
    nuevas: int = 0
    modificadas: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    batchesOk: int = 0  # wire names (docs/protocol.md)
    batchesFailed: int = 0
    elements: int = 0
    created: int = 0  # Manager's answers: planillas it created and updated (what a rebuild really did)
    updated: int = 0
    skippedSinObra: int = 0  # why `skipped`: no valid obra in FerraWin, or no data left to send
    skippedNoData: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Counts:
        """Counts read back (a journal row, a status): unknown keys are ignored, missing ones are 0."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: int(v) for k, v in data.items() if k in known and isinstance(v, int | float)})

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class Progress:
    """One report from a run, for the tray, the status publisher and the CLI's progress bar."""

    run_id: str
    phase: Phase
    counts: Counts
    code: str = ""
    info: str = ""  # "cliente — obra"
    is_update: bool = False
    message: str = ""
    elapsed_s: float = 0.0
    eta_s: float | None = None


@dataclass
class RunSummary:
    run_id: str
    state: RunState  # completed, paused, stopped, failed or refused
    counts: Counts
    message: str
    duration_s: float = 0.0
    failed_codes: list[str] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)
    reasons: dict[str, list[str]] = field(default_factory=dict)
    dry_run: bool = False  # nothing was sent: `planned` is what would have been (state is completed)
    safety_limit: int | None = None  # set when the safety limit refused the run (counts.total = found)

    @property
    def result_text(self) -> str:
        """The run's outcome in one word for the summary table: its state, or `dry-run`."""
        return "dry-run" if self.dry_run else str(self.state)
