"""What the service thread checks on every tick besides statuses: the control files (`listener.quit`,
`sync.pause`), auto-sync (agent/autosync.py; after a resume it first waits for the network, agent/netprobe.py),
the journal's pruning, and the list of FerraWin years (read in a throwaway thread)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from agent.autosync import NETWORK_PROBE_S, NETWORK_WAIT_S
from agent.files import QUIT, SYNC_PAUSE
from agent.netprobe import NetworkProbe, endpoints
from sync.config.saving import save_settings
from sync.errors import FerraSyncError
from sync.journal import retention_days

if TYPE_CHECKING:
    from agent.service import AgentService

log = logging.getLogger("ferrasync.agent")

YEARS_MAX_AGE_S = 600.0
PRUNE_EVERY_S = 6 * 3600.0  # journal pruning: at the first tick, then this often (scaled)


class PeriodicChecks:
    def __init__(self, svc: AgentService) -> None:
        self.svc = svc
        self._years_at: float | None = None
        self._years_busy = False
        self._network = NetworkProbe()
        self._after_resume_run = False
        self._pruned_at: float | None = None

    def check_files(self) -> None:
        svc = self.svc
        if svc.files.exists(QUIT):
            svc.files.remove(QUIT)
            log.info("Quit requested through %s", QUIT)
            svc.quit_requested.set()
            if svc.on_quit is not None:
                svc.on_quit()
        present = svc.files.exists(SYNC_PAUSE)
        if present == svc.runs.pause_file:
            return
        svc.runs.pause_file = present
        # A symmetric manual switch: creating the file pauses a running sync, deleting it resumes.
        if present and svc.state in ("starting", "analysing", "sending"):
            log.info("Pause requested through %s", SYNC_PAUSE)
            svc.commands.local("pause")
        elif not present and svc.state == "paused":
            log.info("%s removed: resuming", SYNC_PAUSE)
            svc.commands.local("resume")

    def check_autosync(self) -> None:
        svc = self.svc
        timer = svc.autosync
        if timer.observe():
            log.info("Suspend/resume or a clock change detected: auto-sync waits for the network before its run")
        if svc.role != "active" or svc.runs.worker is not None:
            return
        if self._after_resume_run:  # the run launched right after a resume has ended
            self._after_resume_run = False
            if svc.state == "failed":
                log.info("The auto-sync run after a resume failed: retrying soon instead of an interval later")
                timer.retry_soon()
        if not timer.due():
            return
        if timer.resumed_at is not None and not self._network_ready(timer.resumed_at):
            return
        s = svc.schedule
        now = svc.clock()
        self._after_resume_run = timer.resumed_at is not None
        with svc.lock:
            svc.schedule = replace(s, last_run=now)
            timer.ran(s)
        self._network.reset()
        try:
            save_settings({"FERRASYNC_AUTOSYNC_LAST_RUN": round(now, 3)}, home=svc.settings.home)
        except FerraSyncError as exc:
            log.warning("Could not persist the auto-sync time: %s", exc.message)
        log.info("Auto-sync: launching an incremental sync (every %d min)", s.interval_min)
        svc.commands.local("start", {"modo": "incremental", "target": s.target}, user="auto-sync")

    def _network_ready(self, resumed_at: float) -> bool:
        """After a resume: FerraWin and Manager answer, or the bounded wait is over (the run then reports
        the real error)."""
        svc = self.svc
        if svc.autosync.mono() - resumed_at >= svc.settings.scaled(NETWORK_WAIT_S):
            log.info("FerraWin or Manager still unreachable after a resume: running anyway")
            return True
        return self._network.ready(endpoints(svc.settings, svc.schedule.target), svc.settings.scaled(NETWORK_PROBE_S))

    def check_journal(self) -> None:
        """Keeps journal.db bounded (sync.journal.Journal.prune); never while a run writes to it."""
        svc = self.svc
        now = time.monotonic()
        if svc.journal is None or svc.runs.worker is not None:
            return
        if self._pruned_at is not None and now - self._pruned_at < svc.settings.scaled(PRUNE_EVERY_S):
            return
        self._pruned_at = now
        try:
            deleted = svc.journal.prune(retention_days(svc.settings.values))
        except FerraSyncError as exc:
            log.warning("Journal not pruned: %s", exc.message)
            return
        if any(deleted.values()):
            log.info("Journal pruned: %s", ", ".join(f"{n} {table}" for table, n in deleted.items() if n))

    def refresh_years(self, only_if_stale: bool = False) -> None:
        """Years present in FerraWin, read in a throwaway thread (the database may be slow or down)."""
        if self._years_busy or self.svc.settings.database is None:
            return
        if only_if_stale and self._years_at and time.monotonic() - self._years_at < YEARS_MAX_AGE_S:
            return
        self._years_busy = True
        threading.Thread(target=self._read_years, name="ferrasync-years", daemon=True).start()

    def _read_years(self) -> None:
        years: tuple[str, ...] | None = None
        try:
            from sync.ferrawin.source import list_years, open_source

            source = open_source(self.svc.settings.ferrawin_database(), login_timeout=10)
            try:
                years = tuple(sorted(set(list_years(source.conn, source.dialect)), reverse=True))
            finally:
                source.close()
        except Exception as exc:
            log.warning("Could not read the years from FerraWin: %s", getattr(exc, "message", type(exc).__name__))
        self.svc.queue.put(("years", years))

    def on_years(self, years: tuple[str, ...] | None) -> None:
        """Service thread: a fresh list goes out in a full status."""
        svc = self.svc
        self._years_busy = False
        if years is not None:
            with svc.lock:
                svc.years = years
            self._years_at = time.monotonic()
            svc.publisher.publish(full=True)
