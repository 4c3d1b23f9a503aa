"""What the service thread checks on every tick besides statuses: the control files (`listener.quit`,
`sync.pause`), auto-sync, and the list of FerraWin years (read in a throwaway thread)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from agent.files import QUIT, SYNC_PAUSE
from sync.config import save_settings
from sync.errors import FerraSyncError

if TYPE_CHECKING:
    from agent.service import AgentService

log = logging.getLogger("ferrasync.agent")

YEARS_MAX_AGE_S = 600.0


class PeriodicChecks:
    def __init__(self, svc: AgentService) -> None:
        self.svc = svc
        self._years_at: float | None = None
        self._years_busy = False

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
        s = svc.schedule
        if svc.role != "active" or svc.runs.worker is not None:
            return
        if not s.due(svc.clock(), svc.started_wall, svc.settings.time_scale):
            return
        now = svc.clock()
        with svc.lock:
            svc.schedule = replace(s, last_run=now)
        try:
            save_settings({"FERRASYNC_AUTOSYNC_LAST_RUN": round(now, 3)}, home=svc.settings.home)
        except FerraSyncError as exc:
            log.warning("Could not persist the auto-sync time: %s", exc.message)
        log.info("Auto-sync: launching an incremental sync (every %d min)", s.interval_min)
        svc.commands.local("start", {"modo": "incremental", "target": s.target}, user="auto-sync")

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
