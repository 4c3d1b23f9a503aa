"""The agent's service: one state machine for every command, runs, status, leadership and control files.

Qt-free; the tray and `--headless` both run it. Threads:

* the service thread owns all state changes: it takes work from one queue (remote commands handed over
  by the subscriber's thread, local commands from `submit`, run progress, presence changes) and runs
  the timers (throttled status, heartbeats, Manager posts, control files, auto-sync);
* the run itself goes to `start_worker(fn)` (a daemon thread by default, a QThread in the tray);
* network sends go through `PusherOutbox` and `ManagerReporter` threads, so nothing here blocks on them.

This module holds the state and the thread; each job is a part of its own, all working on this state on
the service thread: `commands.CommandHandler` (validate, answer, execute, ack), `runs.RunSupervisor` (the
engine worker), `publishing.StatusPublisher` (Pusher, Manager and file statuses, acks),
`presence.PresenceWiring` (subscriber, leadership, connection) and `periodic.PeriodicChecks` (control
files, auto-sync, FerraWin years).
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

from agent import strings
from agent.activity import ActivityLog
from agent.autosync import AutoSyncTimer, Schedule
from agent.commands import CommandHandler, local_user
from agent.files import LISTENER_PID, QUIT, SYNC_PAUSE, SYNC_PID, DataFiles
from agent.logs import secret_values
from agent.periodic import PeriodicChecks
from agent.presence import PresenceWiring
from agent.publishing import StatusPublisher
from agent.runs import STOP_WAIT_S, RunSupervisor
from agent.runview import RunView, WorkerHandle, thread_worker
from agent.snapshot import RUNNING_STATES, AgentSnapshot, AutoSyncView, Notice
from sync import __version__, protocol, signing
from sync.config import Settings
from sync.journal import Journal
from sync.pusher.offline import Offline

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
        self.start_worker = start_worker or thread_worker
        self.clock = clock
        # Stored setting (FERRASYNC_REQUIRE_SIGNED, on by default with a key); an explicit argument is for tests.
        self.require_signature = settings.require_signed if require_signature is None else require_signature
        self.agent_id = settings.agent_id
        self.hostname = settings.agent_id
        self.files = DataFiles(settings.home)
        self.journal: Journal | None = None
        self.quit_requested = threading.Event()
        self.session_ending = False  # logoff/shutdown: stop() interrupts the run at once (end_session)
        self.lock = threading.RLock()
        self.queue: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._service_ident: int | None = None
        self.started_iso = protocol.iso_utc(protocol.now_utc())
        # state (written on the service thread, read by snapshot() from any thread under the lock)
        self.state = "idle"
        self.message = strings.IDLE
        self.run = RunView()
        self.role = "standby"
        self.presence_known = False
        self.active_agent = ""
        self.legacy = ""
        self.connection, self.connection_detail = "connecting", ""
        self.offline: Offline | None = None  # why the remote channel is down, when it retries
        a = settings.autosync
        self.schedule = Schedule(a.enabled, a.interval, a.target, a.last_run)
        self.autosync = AutoSyncTimer(clock, mono, settings.time_scale)
        self.autosync.plan(self.schedule)
        self.years: tuple[str, ...] = ()
        self.recent: tuple[Any, ...] = ()
        # the parts, one job each
        self.commands = CommandHandler(self)
        self.runs = RunSupervisor(self)
        self.publisher = StatusPublisher(self)
        self.presence = PresenceWiring(self)
        self.periodic = PeriodicChecks(self)
        self.activity = ActivityLog(settings.home / "logs", secret_values(settings))
        self._tick_s = max(0.02, min(1.0, settings.scaled(1.0)))

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
        self.queue.put(("quit",))
        self._thread.join(STOP_WAIT_S)
        self._thread = None
        if self.session_ending:
            self.runs.interrupt_leftovers()
        self.publisher.flush()
        self.presence.stop()
        self.publisher.close()
        self.files.remove(LISTENER_PID)
        self.files.write_status({"state": "stopped", "updated_at": protocol.iso_utc(protocol.now_utc()),
                                 "hostname": self.hostname})  # fmt: skip
        if self.journal is not None:
            self.journal.close()
        self.activity.close()
        log.info("FerraSync agent stopped")

    def end_session(self) -> None:
        """Logoff or shutdown: Windows ends the process about 5 s after telling it. The next `stop()` interrupts
        the run within ~3 s and records and publishes it as `interrupted` (resumable) before the agent leaves."""
        log.warning("The session is ending (logoff or shutdown): interrupting any run and leaving")
        self.session_ending = True
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
        self.queue.put(("command", wire, True, reply))
        try:
            ack = reply.get(timeout=SUBMIT_WAIT_S)
        except queue.Empty:
            ack = None
        return ack or rejected(wire["requestId"], "rejected", "el agente no respondió a tiempo")

    def snapshot(self) -> AgentSnapshot:
        with self.lock:
            run = self.run
            running = self.state in RUNNING_STATES
            return AgentSnapshot(
                state=self.state,
                role=self.role,
                connection=self.connection,
                connection_detail=self.connection_detail,
                offline=self.offline,
                progress=replace(run.counts),
                code=run.code,
                info=run.info,
                message=self._shown_message(),
                run_id=run.run_id,
                request_id=run.request_id,
                origin=dict(run.origin) if run.origin else None,
                mode=run.mode,
                target=run.target,
                year=run.year,
                started_at=run.started_at,
                elapsed_s=run.elapsed() if running else run.elapsed_s,
                eta_s=run.eta_s if running else None,
                autosync=self._autosync_view(),
                years=self.years,
                active_agent=self.active_agent if self.role == "standby" else self.agent_id,
                legacy_listener=self.legacy,
                recent_runs=self.recent,
                agent_id=self.agent_id,
                hostname=self.hostname,
                version=__version__,
                signing=signing.mode(self.settings.signing_key, self.require_signature),
            )

    def _shown_message(self) -> str:
        if self.role == "standby" and self.state not in RUNNING_STATES:
            if self.legacy:
                return strings.LEGACY_LISTENER.format(host=self.legacy)
            if self.state == "idle":
                if not self.presence_known:
                    return strings.STANDBY_WAITING
                return strings.STANDBY_ACTIVE_IS.format(active=self.active_agent or "?")
        return self.message

    def _autosync_view(self) -> AutoSyncView:
        s = self.schedule
        return AutoSyncView(s.enabled, s.interval_min, s.target, self.autosync.next_run_at())

    def build_status(self, full: bool = False) -> protocol.SyncStatus:
        snap = self.snapshot()
        run, a = self.run, snap.autosync
        next_at = protocol.iso_utc(datetime.fromtimestamp(a.next_run_at, UTC)) if a.next_run_at else None
        origin = protocol.Origin(run.origin.get("hostname"), run.origin.get("user")) if run.origin else None
        return protocol.build_status(
            snap.state, agent=self.agent_id, hostname=self.hostname, version=__version__,
            role=snap.role, progress=snap.progress_text or None, year=snap.year, target=snap.target,
            last_planilla=snap.code or None, last_planilla_info=snap.info or None, message=snap.message,
            request_id=snap.request_id, run_id=snap.run_id, origin=origin,
            counts=protocol.Counts(**snap.progress.as_dict()) if snap.run_id or snap.running else None,
            started_at=snap.started_at, elapsed_s=round(snap.elapsed_s, 1) if snap.elapsed_s is not None else None,
            eta_s=round(snap.eta_s, 1) if snap.eta_s is not None else None,
            autosync=protocol.AutoSync(a.enabled, a.interval, a.target, next_at),
            years=snap.years if full else None, last_planilla_update=run.is_update, signing=snap.signing,
        )  # fmt: skip

    # ================================================================== the service thread

    def _loop(self) -> None:
        self._service_ident = threading.get_ident()
        self.publisher.publish(full=False)
        while True:
            try:
                item = self.queue.get(timeout=self._tick_s)
            except queue.Empty:
                item = None
            if item is not None and item[0] == "quit":
                self.publisher.publish(full=False)
                return
            try:
                if item is not None:
                    self._dispatch(item)
                self._tick()
            except Exception:  # one bad item must not end the agent
                log.exception("Agent loop error")

    def _dispatch(self, item: tuple[Any, ...]) -> None:
        kind, args = item[0], item[1:]
        if kind == "command":
            data, local, reply = args
            ack = self.commands.handle(data, local=local)
            if reply is not None:
                reply.put(ack)
            return
        handlers: dict[str, Callable[..., None]] = {
            "progress": self.runs.on_progress,
            "run_done": self.runs.on_done,
            "presence": self.presence.on_change,
            "connection": self.presence.on_connection,
            "years": self.periodic.on_years,
        }
        handlers[kind](*args)

    def _tick(self) -> None:
        self.publisher.tick(running=self.state in RUNNING_STATES)
        self.periodic.check_files()
        self.periodic.check_autosync()
        self.periodic.check_journal()

    def set_state(self, state: str, message: str) -> None:
        with self.lock:
            changed = (state, message) != (self.state, self.message)
            self.state, self.message = state, message
        if changed:
            self.publisher.changed()

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
