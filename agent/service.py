"""The agent's service: one state machine for every command, runs, status, leadership and control files.

Qt-free; the tray and `--headless` both run it. Threads:

* the service thread owns all state changes: it takes work from one queue (remote commands handed over
  by the subscriber's thread, local commands from `submit`, run progress, presence changes) and runs
  the timers (throttled status, heartbeats, Manager posts, control files, auto-sync);
* the run itself goes to `start_worker(fn)` (a daemon thread by default, a QThread in the tray);
* network sends go through `PusherOutbox` and `ManagerReporter` threads, so nothing here blocks on them.

This module holds the thread, the queue and the lifecycle, and composes the parts; each part owns its own
state and works on the service thread: `runs.RunSupervisor` (the run's state, the engine worker),
`presence.PresenceWiring` (subscriber, role, connection), `periodic.PeriodicChecks` (control files, the
auto-sync schedule, FerraWin years), `publishing.StatusPublisher` (Pusher, Manager and file statuses, acks)
and `commands.CommandHandler` (validate, answer, execute, ack). A part learns of the others only through the
calls and callbacks wired here; none imports this module (tests/unit/test_agent_imports.py).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from agent.activity import ActivityLog
from agent.autosync import AutoSyncTimer
from agent.commands import CommandHandler, local_user
from agent.events import (
    CommandArrived,
    ConnectionChanged,
    PresenceChanged,
    Quit,
    RunEnded,
    RunProgressed,
    ServiceEvent,
    YearsRead,
)
from agent.files import LISTENER_PID, QUIT, SYNC_PAUSE, SYNC_PID, DataFiles, PauseSwitch
from agent.logs import secret_values
from agent.periodic import PeriodicChecks, PeriodicHooks
from agent.presence import PresenceHooks, PresenceWiring
from agent.publishing import StatusPublisher
from agent.runs import STOP_WAIT_S, RunHooks, RunSupervisor
from agent.runview import WorkerHandle, thread_worker
from agent.snapshot import AgentSnapshot, AutoSyncView, Notice
from sync import __version__, protocol, signing
from sync.config.model import Settings
from sync.journal import Journal
from sync.model import Mode, RunState, Target
from sync.runmodel import Counts

log = logging.getLogger("ferrasync.agent")

JOURNAL_NAME = "journal.db"  # the same journal as `ferrasync run`
SUBMIT_WAIT_S = 5.0


class AgentService:
    def __init__(
        self,
        settings: Settings,
        *,
        on_snapshot: Callable[[AgentSnapshot], None] | None = None,
        on_notice: Callable[[Notice], None] | None = None,
        start_worker: Callable[[Callable[[], None]], WorkerHandle] | None = None,
        clock: Callable[[], float] = time.time,
        mono: Callable[[], float] = time.monotonic,
        on_quit: Callable[[], None] | None = None,
        require_signature: bool | None = None,
    ) -> None:
        self.settings = settings
        self.on_snapshot = on_snapshot
        self.on_notice = on_notice
        self.on_quit = on_quit
        # Stored setting (FERRASYNC_REQUIRE_SIGNED, on by default with a key); an explicit argument is for tests.
        self.require_signature = settings.require_signed if require_signature is None else require_signature
        self.agent_id = settings.agent_id
        self.hostname = settings.agent_id
        self.files = DataFiles(settings.home)
        self.journal: Journal | None = None
        self.quit_requested = threading.Event()
        self.lock = threading.RLock()  # the parts write their state under it; snapshot() reads it
        self.queue: queue.Queue[ServiceEvent] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._service_ident: int | None = None
        self.started_iso = protocol.iso_utc(protocol.now_utc())
        # the parts, one job each, wired to each other here
        post, pause = self.queue.put, PauseSwitch(self.files)
        self.publisher = StatusPublisher(settings, self.files, self, agent_id=self.agent_id, hostname=self.hostname)
        self.runs = RunSupervisor(
            settings, self.files, pause, self.lock, journal=self._journal, post=post,
            start_worker=start_worker or thread_worker,
            hooks=RunHooks(changed=self.publisher.changed, progressed=self.publisher.progressed, notice=self.notice,
                           ended=self.publisher.post_manager),
        )  # fmt: skip
        self.presence = PresenceWiring(
            settings, self.lock, started_iso=self.started_iso, require_signature=self.require_signature, post=post,
            hooks=PresenceHooks(changed=self.publisher.changed, subscribed=lambda: self.publisher.publish(full=True),
                                connection=self.notify_snapshot, notice=self.notice),
        )  # fmt: skip
        self.periodic = PeriodicChecks(
            settings, self.files, pause, self.runs, self.lock, journal=self._journal, post=post,
            timer=AutoSyncTimer(clock, mono, settings.time_scale), clock=clock,
            hooks=PeriodicHooks(command=self._local_command, quit=self._quit_requested,
                                years=lambda: self.publisher.publish(full=True),
                                is_active=lambda: self.presence.active),
        )  # fmt: skip
        self.commands = CommandHandler(
            settings, agent_id=self.agent_id, hostname=self.hostname, require_signature=self.require_signature,
            journal=self._journal, runs=self.runs, publisher=self.publisher, presence=self.presence,
            periodic=self.periodic,
        )  # fmt: skip
        self.activity = ActivityLog(settings.home / "logs", secret_values(settings))
        self._tick_s = max(0.02, min(1.0, settings.scaled(1.0)))

    def _journal(self) -> Journal:
        """The parts' journal: opened by `start`, before the service thread runs anything that needs it."""
        if self.journal is None:
            raise RuntimeError("the agent service is not started")
        return self.journal

    def _local_command(self, command: str, params: dict[str, Any] | None, user: str) -> None:
        self.commands.local(command, params, user)

    def _quit_requested(self) -> None:
        self.quit_requested.set()
        if self.on_quit is not None:
            self.on_quit()

    # ================================================================== lifecycle

    def start(self) -> None:
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self.journal = Journal(self.settings.home / JOURNAL_NAME)
        self.runs.recover()
        for stale in (SYNC_PID, SYNC_PAUSE, QUIT):
            self.files.remove(stale)  # left by a crash; the journal says what the last run did
        self.files.write_pid(LISTENER_PID)
        self.publisher.open(self.presence.socket_id)
        self.presence.open()
        self._thread = threading.Thread(target=self._loop, name="ferrasync-agent", daemon=True)
        self._thread.start()
        self.periodic.refresh_years()
        log.info("FerraSync agent %s started (agent id %s, pid in %s)", __version__, self.agent_id, LISTENER_PID)

    def stop(self) -> None:
        """Cooperative: a running sync stops at the next planilla boundary (killed if it does not within
        10 s), a last status is published, the presence channel is left."""
        if self._thread is None:
            return
        self.runs.shutdown()
        self.queue.put(Quit())
        self._thread.join(STOP_WAIT_S)
        self._thread = None
        if self.runs.session_ending:
            self.runs.interrupt_leftovers()
        self.publisher.flush()
        self.presence.stop()
        self.publisher.close()
        self.files.remove(LISTENER_PID)
        self.files.write_status({"state": RunState.STOPPED, "updated_at": protocol.iso_utc(protocol.now_utc()),
                                 "hostname": self.hostname})  # fmt: skip
        if self.journal is not None:
            self.journal.close()
        self.activity.close()
        log.info("FerraSync agent stopped")

    def end_session(self) -> None:
        """Logoff or shutdown: Windows ends the process about 5 s after telling it. The next `stop()` interrupts
        the run within ~3 s and records and publishes it as `interrupted` (resumable) before the agent leaves."""
        log.warning("The session is ending (logoff or shutdown): interrupting any run and leaving")
        self.runs.end_session()
        self.quit_requested.set()

    def wait_quit(self, timeout: float | None = None) -> bool:
        return self.quit_requested.wait(timeout)

    # ================================================================== public API

    def submit(self, command: str, params: dict[str, Any] | None = None) -> protocol.Ack:
        """A local command (tray menu, --quit...) through the same state machine; returns its ack."""
        wire = self.commands.wire(command, params, local_user() or "local")
        rejected = self.publisher.ack
        if threading.get_ident() == self._service_ident:
            return self.commands.handle(wire, local=True) or rejected(wire["requestId"], "rejected", "?")
        if self._thread is None:
            return rejected(wire["requestId"], "rejected", "el agente no está en marcha")
        reply: queue.Queue[protocol.Ack | None] = queue.Queue()
        self.queue.put(CommandArrived(wire, True, reply))
        try:
            ack = reply.get(timeout=SUBMIT_WAIT_S)
        except queue.Empty:
            ack = None
        return ack or rejected(wire["requestId"], "rejected", "el agente no respondió a tiempo")

    def snapshot(self) -> AgentSnapshot:
        with self.lock:
            runs, presence, periodic = self.runs, self.presence, self.periodic
            run, state = runs.run, runs.state
            return AgentSnapshot(
                state=state,
                role=presence.role,
                connection=presence.connection,
                connection_detail=presence.connection_detail,
                offline=presence.offline,
                progress=replace(run.counts),
                code=run.code,
                info=run.info,
                message=self._shown_message(),
                run_id=run.run_id,
                request_id=run.request_id,
                origin=dict(run.origin) if run.origin else None,
                mode=Mode(run.mode) if run.mode else None,
                target=Target(run.target) if run.target else None,
                year=run.year,
                started_at=run.started_at,
                elapsed_s=run.elapsed() if state.busy else run.elapsed_s,
                eta_s=run.eta_s if state.busy else None,
                autosync=self._autosync_view(),
                years=periodic.years,
                active_agent=self.agent_id if presence.active else presence.active_agent,
                legacy_listener=presence.legacy,
                recent_runs=runs.recent,
                agent_id=self.agent_id,
                hostname=self.hostname,
                version=__version__,
                signing=signing.mode(self.settings.signing_key, self.require_signature),
                safety_limit=run.safety_limit,
            )

    def _shown_message(self) -> str:
        state = self.runs.state
        standby = None if state.busy else self.presence.standby_message(idle=state is RunState.IDLE)
        return standby or self.runs.message

    def _autosync_view(self) -> AutoSyncView:
        s, timer = self.periodic.schedule, self.periodic.timer
        return AutoSyncView(s.enabled, s.interval_min, Target(s.target), timer.next_run_at())

    def build_status(self, full: bool = False) -> protocol.SyncStatus:
        snap = self.snapshot()
        run, a = self.runs.run, snap.autosync
        next_at = protocol.iso_utc(datetime.fromtimestamp(a.next_run_at, UTC)) if a.next_run_at else None
        origin = protocol.Origin(run.origin.get("hostname"), run.origin.get("user")) if run.origin else None
        return protocol.build_status(
            snap.state, agent=self.agent_id, hostname=self.hostname, version=__version__,
            role=snap.role, progress=snap.progress_text or None, year=snap.year, target=snap.target,
            last_planilla=snap.code or None, last_planilla_info=snap.info or None, message=snap.message,
            request_id=snap.request_id, run_id=snap.run_id, origin=origin,
            counts=Counts(**snap.progress.as_dict()) if snap.run_id or snap.running else None,
            started_at=snap.started_at, elapsed_s=round(snap.elapsed_s, 1) if snap.elapsed_s is not None else None,
            eta_s=round(snap.eta_s, 1) if snap.eta_s is not None else None,
            autosync=protocol.AutoSync(a.enabled, a.interval, a.target, next_at),
            years=snap.years if full else None, last_planilla_update=run.is_update, signing=snap.signing,
            safety_limit=snap.safety_limit,
        )  # fmt: skip

    # ================================================================== the service thread

    def _loop(self) -> None:
        self._service_ident = threading.get_ident()
        self.publisher.publish(full=False)
        while True:
            try:
                item: ServiceEvent | None = self.queue.get(timeout=self._tick_s)
            except queue.Empty:
                item = None
            if isinstance(item, Quit):
                self.publisher.publish(full=False)
                return
            try:
                if item is not None:
                    self._dispatch(item)
                self._tick()
            except Exception:  # one bad item must not end the agent
                log.exception("Agent loop error")

    def _dispatch(self, item: ServiceEvent) -> None:
        """Each item to the part that owns what it changes."""
        match item:
            case CommandArrived(data, local, reply):
                ack = self.commands.handle(data, local=local)
                if reply is not None:
                    reply.put(ack)
            case RunProgressed(token, progress):
                self.runs.on_progress(token, progress)
            case RunEnded(token, summary):
                self.runs.on_done(token, summary)
            case PresenceChanged(kind, payload, members):
                self.presence.on_change(kind, payload, members)
            case ConnectionChanged(state, detail, offline):
                self.presence.on_connection(state, detail, offline)
            case YearsRead(years):
                self.periodic.on_years(years)

    def _tick(self) -> None:
        self.publisher.tick(running=self.runs.state.busy)
        self.periodic.check_files()
        self.periodic.check_autosync()
        self.periodic.check_journal()

    def notice(self, notice: Notice) -> None:
        log.info("Notice: %s — %s", notice.title, notice.text)
        if self.on_notice is not None:
            try:
                self.on_notice(notice)
            except Exception:
                log.exception("on_notice failed")

    def notify_snapshot(self) -> None:
        snap = self.snapshot()
        try:
            self.activity.observe(snap)  # the users' lines (agent/activity.py), headless or with a tray
        except Exception:
            log.exception("activity log failed")
        if self.on_snapshot is not None:
            try:
                self.on_snapshot(snap)
            except Exception:
                log.exception("on_snapshot failed")
