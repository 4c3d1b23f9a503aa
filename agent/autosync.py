"""When the next automatic incremental run is due.

The interval is counted on the monotonic clock, so the wall clock set an hour back or forward (a
corrected clock, a badly handled daylight-saving change) neither delays a run by an hour nor fires a
burst. The wall clock is used for two things only: the persisted time of the last run (to resume the
schedule across restarts, clamped to one interval) and detecting a suspend/resume or a clock jump,
seen as wall time and monotonic time diverging between two ticks. Time the PC slept counts as time
passed (Linux' monotonic clock stops during a suspend): a PC that slept through the due time runs
once when it wakes, never a burst of missed runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

JUMP_S = 60.0  # wall vs monotonic divergence (or a tick gap) beyond this between two ticks: suspend or clock jump
NETWORK_WAIT_S = 180.0  # after a resume, wait at most this long for FerraWin and Manager before running anyway
NETWORK_PROBE_S = 10.0  # between two reachability probes while waiting
RETRY_AFTER_RESUME_S = 120.0  # a run after a resume that failed anyway is retried this soon, not an interval later


@dataclass(frozen=True)
class Schedule:
    enabled: bool
    interval_min: int
    target: str
    last_run: float | None  # unix time of the last automatic run (persisted)

    def interval_s(self, time_scale: float = 1.0) -> float:
        return self.interval_min * 60.0 * time_scale


class AutoSyncTimer:
    """The monotonic deadline of the next automatic run; `wall` and `mono` are injectable for tests."""

    def __init__(self, wall: Callable[[], float], mono: Callable[[], float], time_scale: float = 1.0) -> None:
        self.wall, self.mono, self.scale = wall, mono, time_scale
        self.jump_s = JUMP_S * time_scale
        self._seen = (wall(), mono())
        self._deadline: float | None = None  # monotonic
        self._next_wall: float | None = None  # the same instant on the wall clock, for display
        self.resumed_at: float | None = None  # monotonic time of the last resume/jump, until the next run

    def plan(self, schedule: Schedule) -> None:
        """At start and on a settings change: one interval after the persisted last run, but never more than
        one interval from now (a clock set back after that run must not postpone it) nor in the past."""
        if not schedule.enabled:
            self._deadline = self._next_wall = None
            return
        interval = schedule.interval_s(self.scale)
        remaining = interval
        if schedule.last_run is not None:
            remaining = min(max(schedule.last_run + interval - self.wall(), 0.0), interval)
        self._set(remaining)

    def ran(self, schedule: Schedule) -> None:
        self.resumed_at = None
        self._set(schedule.interval_s(self.scale))

    def retry_soon(self) -> None:
        self._set(RETRY_AFTER_RESUME_S * self.scale)

    def observe(self) -> bool:
        """Every tick: True when a suspend/resume or a wall-clock jump happened since the last tick."""
        wall, mono = self.wall(), self.mono()
        skew = (wall - self._seen[0]) - (mono - self._seen[1])
        gap = mono - self._seen[1]
        self._seen = (wall, mono)
        limit = self.jump_s
        if abs(skew) <= limit and gap <= limit:
            return False
        if self._deadline is not None:
            if skew > limit:  # slept (or clock moved forward): that time counts; due at most once, now
                self._deadline -= skew
            self._next_wall = wall + max(self._deadline - mono, 0.0)
        self.resumed_at = mono
        return True

    def due(self) -> bool:
        return self._deadline is not None and self.mono() >= self._deadline

    def next_run_at(self) -> float | None:
        """Unix time of the next run (None when disabled)."""
        return self._next_wall

    def _set(self, remaining: float) -> None:
        self._deadline = self.mono() + remaining
        self._next_wall = self.wall() + remaining
