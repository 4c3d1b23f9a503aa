"""When the next automatic incremental run is due.

Wall-clock based on purpose: a PC that slept through the due time finds `now >= next_run_at` when it
wakes and runs once (then the next one is `interval` after that run, not a burst of missed ones).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    enabled: bool
    interval_min: int
    target: str
    last_run: float | None  # unix time of the last automatic run (persisted)

    def next_run_at(self, started_at: float, time_scale: float = 1.0) -> float | None:
        """None when disabled; else the last run (or the agent's start) plus the interval (scaled)."""
        if not self.enabled:
            return None
        base = self.last_run if self.last_run is not None else started_at
        return base + self.interval_min * 60.0 * time_scale

    def due(self, now: float, started_at: float, time_scale: float = 1.0) -> bool:
        at = self.next_run_at(started_at, time_scale)
        return at is not None and now >= at
