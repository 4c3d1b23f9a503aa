"""What the service thread checks on every tick besides statuses: the control files (`listener.quit`,
`sync.pause`), auto-sync (agent/autosync.py; after a resume it first waits for the network, agent/netprobe.py),
the journal's pruning, and the list of FerraWin years (read in a throwaway thread).

It owns the auto-sync schedule and its timer and the years list; it acts through calls the service wires at
construction (a local command, a quit request, a full status) and asks the run supervisor what runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from agent.autosync import NETWORK_PROBE_S, NETWORK_WAIT_S, AutoSyncTimer, Schedule
from agent.events import Post, YearsRead
from agent.files import QUIT, SYNC_PAUSE, DataFiles, PauseSwitch
from agent.netprobe import NetworkProbe, endpoints
from sync.config.model import Settings
from sync.config.saving import save_settings
from sync.errors import FerraSyncError
from sync.journal import Journal, retention_days
from sync.model import CommandName, Mode, RunState

log = logging.getLogger("ferrasync.agent")

YEARS_MAX_AGE_S = 600.0
PRUNE_EVERY_S = 6 * 3600.0  # journal pruning: at the first tick, then this often (scaled)


class RunsView(Protocol):
    """What the checks ask about the run (agent/runs.py's RunSupervisor)."""

    @property
    def state(self) -> RunState: ...
    @property
    def launched(self) -> bool: ...


@dataclass(frozen=True)
class PeriodicHooks:
    command: Callable[[str, dict[str, Any] | None, str], None]  # a local command: name, params, user
    quit: Callable[[], None]  # `listener.quit` appeared
    years: Callable[[], None]  # a fresh list of years: a full status goes out
    is_active: Callable[[], bool]  # only the active agent runs auto-sync


class PeriodicChecks:
    def __init__(self, settings: Settings, files: DataFiles, pause: PauseSwitch, runs: RunsView,
                 lock: threading.RLock, *, journal: Callable[[], Journal], post: Post, timer: AutoSyncTimer,
                 clock: Callable[[], float], hooks: PeriodicHooks) -> None:  # fmt: skip
        self.settings, self.files, self.pause, self.runs, self.lock = settings, files, pause, runs, lock
        self.journal, self.post, self.timer, self.clock, self.hooks = journal, post, timer, clock, hooks
        a = settings.autosync
        self.schedule = Schedule(a.enabled, a.interval, a.target, a.last_run)
        self.timer.plan(self.schedule)
        self.years: tuple[str, ...] = ()
        self._years_at: float | None = None
        self._years_busy = False
        self._network = NetworkProbe()
        self._after_resume_run = False
        self._pruned_at: float | None = None

    def check_files(self) -> None:
        if self.files.exists(QUIT):
            self.files.remove(QUIT)
            log.info("Quit requested through %s", QUIT)
            self.hooks.quit()
        if not self.pause.flipped():
            return
        # A symmetric manual switch: creating the file pauses a running sync, deleting it resumes.
        state = self.runs.state
        if self.pause.present and state.progressing:
            log.info("Pause requested through %s", SYNC_PAUSE)
            self.hooks.command(CommandName.PAUSE, None, "local")
        elif not self.pause.present and state is RunState.PAUSED:
            log.info("%s removed: resuming", SYNC_PAUSE)
            self.hooks.command(CommandName.RESUME, None, "local")

    def reschedule(self, schedule: Schedule) -> None:
        """A new auto-sync setting (already saved): the first automatic run comes one interval from now."""
        with self.lock:
            self.schedule = schedule
            self.timer.plan(schedule)

    def use_timer(self, timer: AutoSyncTimer) -> None:
        """Benchmarks only (agent/testing.py): a timer whose clocks run faster, planned on the schedule."""
        timer.plan(self.schedule)
        self.timer, self.clock = timer, timer.wall

    def check_autosync(self) -> None:
        timer = self.timer
        if timer.observe():
            log.info("Suspend/resume or a clock change detected: auto-sync waits for the network before its run")
        if not self.hooks.is_active() or self.runs.launched:
            return
        if self._after_resume_run:  # the run launched right after a resume has ended
            self._after_resume_run = False
            if self.runs.state is RunState.FAILED:
                log.info("The auto-sync run after a resume failed: retrying soon instead of an interval later")
                timer.retry_soon()
        if not timer.due():
            return
        if timer.resumed_at is not None and not self._network_ready(timer.resumed_at):
            return
        s = self.schedule
        now = self.clock()
        self._after_resume_run = timer.resumed_at is not None
        with self.lock:
            self.schedule = replace(s, last_run=now)
            timer.ran(s)
        self._network.reset()
        try:
            save_settings({"FERRASYNC_AUTOSYNC_LAST_RUN": round(now, 3)}, home=self.settings.home)
        except FerraSyncError as exc:
            log.warning("Could not persist the auto-sync time: %s", exc.message)
        log.info("Auto-sync: launching an incremental sync (every %d min)", s.interval_min)
        self.hooks.command(CommandName.START, {"modo": Mode.INCREMENTAL, "target": s.target}, "auto-sync")

    def _network_ready(self, resumed_at: float) -> bool:
        """After a resume: FerraWin and Manager answer, or the bounded wait is over (the run then reports
        the real error)."""
        settings = self.settings
        if self.timer.mono() - resumed_at >= settings.scaled(NETWORK_WAIT_S):
            log.info("FerraWin or Manager still unreachable after a resume: running anyway")
            return True
        return self._network.ready(endpoints(settings, self.schedule.target), settings.scaled(NETWORK_PROBE_S))

    def check_journal(self) -> None:
        """Keeps journal.db bounded (sync.journal.Journal.prune); never while a run writes to it."""
        now = time.monotonic()
        if self.runs.launched:
            return
        if self._pruned_at is not None and now - self._pruned_at < self.settings.scaled(PRUNE_EVERY_S):
            return
        self._pruned_at = now
        try:
            deleted = self.journal().prune(retention_days(self.settings.values))
        except FerraSyncError as exc:
            log.warning("Journal not pruned: %s", exc.message)
            return
        if any(deleted.values()):
            log.info("Journal pruned: %s", ", ".join(f"{n} {table}" for table, n in deleted.items() if n))

    def refresh_years(self, only_if_stale: bool = False) -> None:
        """Years present in FerraWin, read in a throwaway thread (the database may be slow or down)."""
        if self._years_busy or self.settings.database is None:
            return
        if only_if_stale and self._years_at and time.monotonic() - self._years_at < YEARS_MAX_AGE_S:
            return
        self._years_busy = True
        threading.Thread(target=self._read_years, name="ferrasync-years", daemon=True).start()

    def _read_years(self) -> None:
        years: tuple[str, ...] | None = None
        try:
            from sync.ferrawin.source import list_years, open_source

            source = open_source(self.settings.ferrawin_database(), login_timeout=10)
            try:
                years = tuple(sorted(set(list_years(source.conn, source.dialect)), reverse=True))
            finally:
                source.close()
        except Exception as exc:
            log.warning("Could not read the years from FerraWin: %s", getattr(exc, "message", type(exc).__name__))
        self.post(YearsRead(years))

    def on_years(self, years: tuple[str, ...] | None) -> None:
        """Service thread: a fresh list goes out in a full status."""
        self._years_busy = False
        if years is not None:
            with self.lock:
                self.years = years
            self._years_at = time.monotonic()
            self.hooks.years()
