"""The auto-sync schedule under clock changes, with injected wall and monotonic clocks: the wall clock set an
hour back or forward, a suspend/resume (Linux' monotonic clock stops, Windows' may not), a restart."""

from __future__ import annotations

import itertools

from agent.autosync import JUMP_S, RETRY_AFTER_RESUME_S, AutoSyncTimer, Schedule

INTERVAL_MIN = 30
START = 1_800_000_000.0


class Clocks:
    def __init__(self) -> None:
        self.wall, self.mono = START, 1000.0

    def idle(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds

    def timer(self) -> AutoSyncTimer:
        return AutoSyncTimer(lambda: self.wall, lambda: self.mono)


def schedule(last_run: float | None = None, interval: int = INTERVAL_MIN) -> Schedule:
    return Schedule(True, interval, "production", last_run)


def run_for(clocks: Clocks, timer: AutoSyncTimer, seconds: float, tick: float = 1.0) -> list[float]:
    """Ticks like the service thread; every due run is taken at once. Returns the wall times of the runs."""
    runs: list[float] = []
    end = clocks.mono + seconds
    while clocks.mono < end:
        clocks.idle(tick)
        timer.observe()
        if timer.due():
            runs.append(clocks.wall)
            timer.ran(schedule(clocks.wall))
    return runs


def test_steady_interval_on_the_monotonic_clock() -> None:
    clocks = Clocks()
    timer = clocks.timer()
    timer.plan(schedule())
    runs = run_for(clocks, timer, 3 * 3600)
    assert len(runs) == 6 and [b - a for a, b in itertools.pairwise(runs)] == [1800.0] * 5


def test_wall_clock_an_hour_back_neither_delays_nor_repeats() -> None:
    clocks = Clocks()
    timer = clocks.timer()
    timer.plan(schedule())
    run_for(clocks, timer, 600)
    clocks.wall -= 3600  # the clock corrected an hour back
    assert timer.observe() is True
    runs = run_for(clocks, timer, 3600)
    assert len(runs) == 2  # on time (20 min and 50 min later on the monotonic clock), no hour skipped
    assert timer.next_run_at() is not None and 0 < timer.next_run_at() - clocks.wall <= 1800  # type: ignore[operator]


def test_wall_clock_an_hour_forward_runs_at_most_once_then_keeps_the_interval() -> None:
    clocks = Clocks()
    timer = clocks.timer()
    timer.plan(schedule())
    run_for(clocks, timer, 600)
    clocks.wall += 3600
    runs = run_for(clocks, timer, 1805)
    assert len(runs) == 2  # one at once (an hour "passed"), the next one interval later: no burst
    assert runs[1] - runs[0] == 1800.0


def test_suspend_of_hours_runs_once_on_wake_whether_monotonic_stopped_or_not() -> None:
    for monotonic_counts_sleep in (False, True):
        clocks = Clocks()
        timer = clocks.timer()
        timer.plan(schedule())
        run_for(clocks, timer, 600)
        clocks.wall += 5 * 3600  # asleep five hours
        if monotonic_counts_sleep:
            clocks.mono += 5 * 3600
        assert timer.observe() is True and timer.resumed_at is not None
        assert timer.due()  # due now, not five hours late
        runs = run_for(clocks, timer, 1800)
        assert len(runs) == 1  # once, not ten times
        assert timer.resumed_at is None  # the run clears the resume


def test_ticks_without_a_jump_are_not_a_resume() -> None:
    clocks = Clocks()
    timer = clocks.timer()
    timer.plan(schedule())
    clocks.idle(JUMP_S * 0.9)
    clocks.wall += 2  # ntp slewing, a late tick
    assert timer.observe() is False and timer.resumed_at is None


def test_restart_resumes_from_the_persisted_run_clamped_to_one_interval() -> None:
    clocks = Clocks()
    timer = clocks.timer()
    timer.plan(schedule(last_run=START - 600))
    assert timer.next_run_at() == START + 1200  # 30 min after the last run
    timer.plan(schedule(last_run=START + 3600))  # a run "in the future": the clock was set back since
    assert timer.next_run_at() == START + 1800  # never more than one interval away
    timer.plan(schedule(last_run=START - 86400))
    assert timer.due()  # missed while the agent was off: now, once


def test_retry_soon_after_a_failed_run_following_a_resume() -> None:
    clocks = Clocks()
    timer = clocks.timer()
    timer.plan(schedule())
    timer.ran(schedule(START))
    timer.retry_soon()
    clocks.idle(RETRY_AFTER_RESUME_S)
    assert timer.due()


def test_disabled_is_never_due() -> None:
    clocks = Clocks()
    timer = clocks.timer()
    timer.plan(Schedule(False, INTERVAL_MIN, "production", None))
    clocks.wall += 10 * 3600
    timer.observe()
    assert not timer.due() and timer.next_run_at() is None
