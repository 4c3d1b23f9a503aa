"""The agent's service: one state machine for every command, runs, status, leadership and control files.

Qt-free; the tray and `--headless` both run it. Threads:

* the service thread owns all state changes: it takes work from one queue (remote commands handed over
  by the subscriber's thread, local commands from `submit`, run progress, presence changes) and runs
  the timers (throttled status, heartbeats, Manager posts, control files, auto-sync);
* the run itself goes to `start_worker(fn)` (a daemon thread by default, a QThread in the tray);
* network sends go through `PusherOutbox` and `ManagerReporter` threads, so nothing here blocks on them.
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from agent import strings
from agent.autosync import Schedule
from agent.files import LISTENER_PID, QUIT, SYNC_PAUSE, SYNC_PID, DataFiles
from agent.leadership import APP, decide
from agent.outbox import ManagerReporter, PusherOutbox
from agent.runview import RunView, WorkerHandle, thread_worker, view_for_record, view_for_request
from agent.snapshot import RESUMABLE_STATES, RUNNING_STATES, AgentSnapshot, AutoSyncView, Notice
from sync import __version__, protocol
from sync.config import Settings, save_settings
from sync.errors import FerraSyncError
from sync.journal import Journal
from sync.runcontrol import Action
from sync.runlock import RunLock
from sync.runmodel import Counts, Progress, RunRequest, RunSummary

log = logging.getLogger("ferrasync.agent")
runlog = logging.getLogger("ferrasync.run")

JOURNAL_NAME = "journal.db"  # the same journal as `ferrasync run`
STATUS_MIN_INTERVAL_S = 1.0
HEARTBEAT_S = 60.0
MANAGER_RUNNING_S, MANAGER_IDLE_S = 10.0, 60.0
LISTENER_STATUS_S = 30.0
YEARS_MAX_AGE_S = 600.0
STOP_WAIT_S = 10.0
SUBMIT_WAIT_S = 5.0

_CONNECTION = {"connecting": "connecting", "connected": "connecting", "subscribed": "connected",
               "unavailable": "disconnected", "stopped": "disconnected", "failed": "failed"}  # fmt: skip
_SUMMARY_STATE = {"completed": "completed", "dry-run": "completed", "paused": "paused", "stopped": "stopped",
                  "failed": "failed", "refused": "refused"}  # fmt: skip


def _iso_now() -> str:
    return protocol.iso_utc(datetime.now(UTC))


class AgentService:
    def __init__(
        self,
        settings: Settings,
        *,
        on_snapshot: Callable[[AgentSnapshot], None] | None = None,
        on_notice: Callable[[Notice], None] | None = None,
        start_worker: Callable[[Callable[[], None]], WorkerHandle] | None = None,
        clock: Callable[[], float] = time.time,
        on_quit: Callable[[], None] | None = None,
        require_signature: bool = False,
    ) -> None:
        self.settings = settings
        self.on_snapshot = on_snapshot
        self.on_notice = on_notice
        self.on_quit = on_quit
        self.start_worker = start_worker or thread_worker
        self.clock = clock
        self.require_signature = require_signature
        self.agent_id = settings.agent_id
        self.hostname = settings.agent_id
        self.files = DataFiles(settings.home)
        self.journal: Journal | None = None
        self.quit_requested = threading.Event()
        self._lock = threading.RLock()
        self._queue: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._service_ident: int | None = None
        self._started_wall = clock()
        self._started_iso = _iso_now()
        # state (written on the service thread, read by snapshot() from any thread under the lock)
        self._state = "idle"
        self._message = strings.IDLE
        self._run = RunView()
        self._role = "standby"
        self._presence_known = False
        self._active_agent = ""
        self._legacy = ""
        self._connection, self._connection_detail = "connecting", ""
        a = settings.autosync
        self._schedule = Schedule(a.enabled, a.interval, a.target, a.last_run)
        self._years: tuple[str, ...] = ()
        self._years_at: float | None = None
        self._years_busy = False
        self._recent: tuple[Any, ...] = ()
        # run machinery
        self._engine: Any = None
        self._worker: WorkerHandle | None = None
        self._token = 0
        self._pause_file = False
        # publishing
        self._subscriber: Any = None
        self._outbox: PusherOutbox | None = None
        self._reporter: ManagerReporter | None = None
        self._defer_publish = False
        self._pending_publish = False
        self._dirty = False
        self._last_pusher = 0.0
        self._last_manager = 0.0
        self._last_listener_status = 0.0
        self._tick_s = max(0.02, min(1.0, settings.scaled(1.0)))

    # ================================================================== lifecycle

    def start(self) -> None:
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self.journal = Journal(self.settings.home / JOURNAL_NAME)
        self._recover_runs()
        for stale in (SYNC_PID, SYNC_PAUSE, QUIT):
            self.files.remove(stale)  # left by a crash; the journal says what the last run did
        self.files.write_pid(LISTENER_PID)
        self._open_channels()
        self._thread = threading.Thread(target=self._loop, name="ferrasync-agent", daemon=True)
        self._thread.start()
        self._refresh_years()
        log.info("FerraSync agent %s started (agent id %s, pid in %s)", __version__, self.agent_id, LISTENER_PID)

    def stop(self) -> None:
        """Cooperative: a running sync stops at the next planilla boundary (killed if it does not within
        10 s), a last status is published, the presence channel is left."""
        if self._thread is None:
            return
        worker, engine = self._worker, self._engine
        if worker is not None and worker.is_alive() and engine is not None:
            log.info("Agent stopping: stopping the running sync at the next planilla")
            engine.control.request(Action.STOP)
            if not worker.join(STOP_WAIT_S):
                engine.kill()
                worker.join(STOP_WAIT_S)
        self._queue.put(("quit",))
        self._thread.join(STOP_WAIT_S)
        self._thread = None
        self._close_channels()
        self.files.remove(LISTENER_PID)
        self.files.write_status({"state": "stopped", "updated_at": _iso_now(), "hostname": self.hostname})
        if self.journal is not None:
            self.journal.close()
        log.info("FerraSync agent stopped")

    def wait_quit(self, timeout: float | None = None) -> bool:
        return self.quit_requested.wait(timeout)

    def _open_channels(self) -> None:
        ps = self.settings.pusher
        if self.settings.status.configured:
            from sync.manager import ManagerClient

            client = ManagerClient(self.settings.status.url, self.settings.status.token,
                                   verify=str(self.settings.ca_bundle) if self.settings.ca_bundle else True,
                                   timeout_scale=self.settings.time_scale)  # fmt: skip
            self._reporter = ManagerReporter(client).start()
        if not ps.configured:
            self._role, self._presence_known = "active", True  # alone: local commands and auto-sync still work
            self._connection, self._connection_detail = "failed", strings.PUSHER_NOT_CONFIGURED
            return
        from sync.pusher.publisher import Publisher
        from sync.pusher.subscriber import PresenceMember, subscriber_from_settings

        self._outbox = PusherOutbox(Publisher.from_settings(self.settings), lambda: self._socket_id()).start()
        info = {"role": "agent", "app": APP, "version": __version__, "started_at": self._started_iso,
                "pid": _pid()}  # fmt: skip
        self._subscriber = subscriber_from_settings(
            self.settings,
            [protocol.CHANNEL, protocol.PRESENCE_CHANNEL],
            presence=PresenceMember(self.agent_id, info),
            on_event=self._on_event,
            on_state=lambda state, detail: self._queue.put(("connection", state, detail)),
            on_presence=self._on_presence,
        )
        self._subscriber.start()  # after the assignment: the presence callback reads self._subscriber

    def _close_channels(self) -> None:
        if self._outbox is not None:
            self._outbox.flush(3.0)
        if self._subscriber is not None:
            self._subscriber.stop()  # leaves the presence channel: a standby takes over at once
        if self._outbox is not None:
            self._outbox.stop()
        if self._reporter is not None:
            self._reporter.stop()

    def _socket_id(self) -> str | None:
        return self._subscriber.socket_id if self._subscriber is not None else None

    def _recover_runs(self) -> None:
        """A run left active by a crash becomes `interrupted` and is reported, never re-run by itself."""
        assert self.journal is not None
        interrupted = self.journal.mark_interrupted()
        for record in interrupted:
            log.warning("Run %s was interrupted (the agent or the PC stopped); it waits for a resume", record.run_id)
        latest = self.journal.recent_runs(1)
        self._recent = tuple(self.journal.recent_runs(10))
        if latest and latest[0].state in RESUMABLE_STATES:
            record = latest[0]
            self._run = view_for_record(record)
            self._state = record.state
            self._message = self._resumable_message(record.state, record.run_id, record.last_confirmed)

    # ================================================================== public API

    def submit(self, command: str, params: dict[str, Any] | None = None) -> protocol.Ack:
        """A local command (tray menu, --quit...) through the same state machine; returns its ack."""
        wire: dict[str, Any] = {"command": command, "params": params or {}, "requestId": protocol.new_request_id(),
                                "timestamp": _iso_now(), "agent": self.agent_id,
                                "origin": {"hostname": self.hostname, "user": _user() or "local"}}  # fmt: skip
        if threading.get_ident() == self._service_ident:
            return self._handle_command(wire, local=True) or self._ack(wire["requestId"], "rejected", "?")
        if self._thread is None:
            return self._ack(wire["requestId"], "rejected", "el agente no está en marcha")
        reply: queue.Queue[protocol.Ack | None] = queue.Queue()
        self._queue.put(("command", wire, True, reply))
        try:
            ack = reply.get(timeout=SUBMIT_WAIT_S)
        except queue.Empty:
            ack = None
        return ack or self._ack(wire["requestId"], "rejected", "el agente no respondió a tiempo")

    def snapshot(self) -> AgentSnapshot:
        with self._lock:
            run = self._run
            running = self._state in RUNNING_STATES
            return AgentSnapshot(
                state=self._state,
                role=self._role,
                connection=self._connection,
                connection_detail=self._connection_detail,
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
                years=self._years,
                active_agent=self._active_agent if self._role == "standby" else self.agent_id,
                legacy_listener=self._legacy,
                recent_runs=self._recent,
                agent_id=self.agent_id,
                hostname=self.hostname,
                version=__version__,
            )

    def _shown_message(self) -> str:
        if self._role == "standby" and self._state not in RUNNING_STATES:
            if self._legacy:
                return strings.LEGACY_LISTENER.format(host=self._legacy)
            if self._state == "idle":
                if not self._presence_known:
                    return strings.STANDBY_WAITING
                return strings.STANDBY_ACTIVE_IS.format(active=self._active_agent or "?")
        return self._message

    def _autosync_view(self) -> AutoSyncView:
        s = self._schedule
        return AutoSyncView(s.enabled, s.interval_min, s.target,
                            s.next_run_at(self._started_wall, self.settings.time_scale))  # fmt: skip

    # ================================================================== thread hand-over

    def _on_event(self, channel: str, event: str, data: Any) -> None:
        # The subscriber's thread only hands work over: never block it.
        if channel == protocol.CHANNEL and event == protocol.EVENT_COMMAND:
            self._queue.put(("command", data, False, None))

    def _on_presence(self, channel: str, kind: str, payload: Any) -> None:
        if channel == protocol.PRESENCE_CHANNEL and self._subscriber is not None:
            members = {uid: dict(info or {}) for uid, info in self._subscriber.members.items()}
            self._queue.put(("presence", kind, dict(payload or {}), members))

    def _loop(self) -> None:
        self._service_ident = threading.get_ident()
        self._publish(full=False)
        while True:
            try:
                item = self._queue.get(timeout=self._tick_s)
            except queue.Empty:
                item = None
            if item is not None and item[0] == "quit":
                self._publish(full=False)
                return
            try:
                if item is not None:
                    self._dispatch(item)
                self._tick()
            except Exception:  # one bad item must not end the agent
                log.exception("Agent loop error")

    def _dispatch(self, item: tuple[Any, ...]) -> None:
        kind = item[0]
        if kind == "command":
            ack = self._handle_command(item[1], local=item[2])
            if item[3] is not None:
                item[3].put(ack)
        elif kind == "progress":
            self._on_progress(item[1], item[2])
        elif kind == "run_done":
            self._on_run_done(item[1], item[2])
        elif kind == "presence":
            self._on_presence_change(item[1], item[2], item[3])
        elif kind == "connection":
            self._on_connection(item[1], item[2])
        elif kind == "years":
            self._years_busy = False
            if item[1] is not None:
                with self._lock:
                    self._years, self._years_at = item[1], time.monotonic()
                self._publish(full=True)

    # ================================================================== commands

    def _handle_command(self, data: Any, *, local: bool) -> protocol.Ack | None:
        """Validate, decide whether this agent answers, dedupe, execute, ack. None = not ours (silent)."""
        assert self.journal is not None
        try:
            cmd = protocol.parse_command(
                data,
                signing_key=None if local else self.settings.signing_key,
                require_signature=self.require_signature and not local,
            )
        except protocol.ProtocolError as exc:
            return self._reject_invalid(data, exc, local)
        if not self._answers(cmd.command, cmd.agent, local):
            return None
        prior = self.journal.command(cmd.request_id)
        if prior is not None:
            outcome = prior.outcome + (f": {prior.reason}" if prior.reason else "")
            return self._send_ack(cmd.request_id, "duplicate", strings.DUPLICATE.format(outcome=outcome))
        origin = cmd.origin.to_wire() if cmd.origin else None
        log.info("Command %s (%s) from %s", cmd.command, cmd.request_id, _who(origin, local))
        self._defer_publish = True
        try:
            result, reason = self._execute(cmd, origin)
            self.journal.record_command(cmd.request_id, cmd.command, result, reason or "", self._run.run_id)
            ack = self._send_ack(cmd.request_id, result, reason)  # the ack leaves before the status it causes
        finally:
            self._defer_publish = False
        if self._pending_publish or cmd.command == "status":
            self._pending_publish = False
            self._publish(full=cmd.command == "status")
        if cmd.command == "status":
            self._refresh_years(only_if_stale=True)
        return ack

    def _answers(self, command: str | None, target: str | None, local: bool) -> bool:
        """design §4: targeted → that agent only; untargeted → the active one; `status` → everyone."""
        if local:
            return True
        if target:
            return target == self.agent_id
        return command == "status" or self._role == "active"

    def _reject_invalid(self, data: Any, exc: protocol.ProtocolError, local: bool) -> protocol.Ack | None:
        raw: dict[str, Any] = {}
        with contextlib.suppress(protocol.ProtocolError):
            raw = protocol.decode_data(data)
        target = raw.get("agent") if isinstance(raw.get("agent"), str) else None
        if not self._answers(str(raw.get("command")), target, local):
            return None
        log.warning("Command rejected: %s", exc.reason)
        if not exc.request_id:
            return None  # nothing to answer to: an ack needs the requestId
        assert self.journal is not None
        prior = self.journal.command(exc.request_id)
        if prior is not None:
            return self._send_ack(exc.request_id, "duplicate", strings.DUPLICATE.format(outcome=prior.outcome))
        self.journal.record_command(exc.request_id, str(raw.get("command") or "?")[:40], "rejected", exc.reason)
        return self._send_ack(exc.request_id, "rejected", exc.reason)

    def _execute(self, cmd: protocol.Command, origin: dict[str, Any] | None) -> tuple[protocol.Result, str | None]:
        handler = {
            "start": self._cmd_start,
            "resume": self._cmd_resume,
            "pause": self._cmd_pause,
            "stop": self._cmd_stop,
            "kill": self._cmd_kill,
            "status": lambda c, o: None,
            "configure-auto-sync": self._cmd_autosync,
        }[cmd.command]
        reason = handler(cmd, origin)
        return ("rejected", reason) if reason else ("accepted", None)

    def _standby_reason(self) -> str | None:
        if self._role == "active":
            return None
        why = (strings.LEGACY_LISTENER.format(host=self._legacy) if self._legacy
               else f"el agente activo es {self._active_agent or '?'}")  # fmt: skip
        return strings.STANDBY_REFUSES.format(why=why)

    def _busy_reason(self) -> str | None:
        if self._worker is not None and self._worker.is_alive():
            return strings.BUSY.format(progress=self._progress_text() or "0/?")
        return None

    def _cmd_start(self, cmd: protocol.Command, origin: dict[str, Any] | None) -> str | None:
        reason = self._standby_reason() or self._busy_reason()
        if reason:
            return reason
        p = cmd.params
        assert isinstance(p, protocol.StartParams)
        request = RunRequest(mode=p.modo, target=p.target, anio=str(p.anio) if p.anio else None,
                             codigo=p.codigo_especifico, desde_codigo=p.desde_codigo, force=p.force,
                             request_id=cmd.request_id)  # fmt: skip
        return self._start_run(request, cmd.request_id, origin)

    def _cmd_resume(self, cmd: protocol.Command, origin: dict[str, Any] | None) -> str | None:
        reason = self._standby_reason() or self._busy_reason()
        if reason:
            return reason
        assert self.journal is not None
        record = self.journal.last_resumable()
        if record is None:
            return strings.NOTHING_TO_RESUME
        request = RunRequest(mode=record.mode, target=record.target, anio=record.params.get("anio"),
                             codigo=record.params.get("codigo"), request_id=record.request_id,
                             resume_run_id=record.run_id)  # fmt: skip
        return self._start_run(request, cmd.request_id, origin, record=record)

    def _cmd_pause(self, cmd: protocol.Command, origin: dict[str, Any] | None) -> str | None:
        return self._request_halt(Action.PAUSE, "pausing", strings.PAUSING)

    def _cmd_stop(self, cmd: protocol.Command, origin: dict[str, Any] | None) -> str | None:
        return self._request_halt(Action.STOP, "stopping", strings.STOPPING)

    def _cmd_kill(self, cmd: protocol.Command, origin: dict[str, Any] | None) -> str | None:
        if self._busy_reason() is None:
            return strings.NOTHING_RUNNING
        self._engine.kill()  # returns control within 10 s even if FerraWin or Manager hang
        self._set_state("stopping", strings.KILLING)
        return None

    def _request_halt(self, action: Action, state: str, message: str) -> str | None:
        if self._busy_reason() is None:
            return strings.ALREADY_PAUSED if self._state == "paused" else strings.NOTHING_RUNNING
        self._engine.control.request(action)
        if action is Action.PAUSE:
            self.files.touch_pause()
            self._pause_file = True
        if self._state != "stopping":  # a stronger request is never downgraded (kill > stop > pause)
            self._set_state(state, message)
        return None

    def _cmd_autosync(self, cmd: protocol.Command, origin: dict[str, Any] | None) -> str | None:
        p = cmd.params
        assert isinstance(p, protocol.AutoSyncParams)
        s = self._schedule
        new = Schedule(p.enabled, p.interval or s.interval_min, p.target or s.target, s.last_run)
        try:
            save_settings({"FERRASYNC_AUTOSYNC_ENABLED": new.enabled, "FERRASYNC_AUTOSYNC_INTERVAL": new.interval_min,
                           "FERRASYNC_AUTOSYNC_TARGET": new.target}, home=self.settings.home)  # fmt: skip
        except FerraSyncError as exc:
            return exc.message
        if new.enabled and new.last_run is None:
            self._started_wall = self.clock()  # the first automatic run comes one interval from now
        with self._lock:
            self._schedule = new
        state = f"activado cada {new.interval_min} min → {new.target}" if new.enabled else "desactivado"
        log.info("Auto-sync %s", state)
        self._changed()
        return None

    # ================================================================== runs

    def _start_run(
        self, request: RunRequest, request_id: str, origin: dict[str, Any] | None, record: Any = None
    ) -> str | None:
        from sync.run_cli import build_engine
        from sync.runlock import RunLockBusy

        try:
            probe = RunLock(self.settings.home)
            probe.acquire()  # a `ferrasync run` in a terminal holds it
            probe.release()
        except RunLockBusy as exc:
            return strings.BUSY_OTHER_PROCESS.format(detail=exc.message)
        assert self.journal is not None
        self._token += 1
        token = self._token
        try:
            engine = build_engine(self.settings, request.target, self.journal,
                                  on_progress=lambda p: self._queue.put(("progress", token, p)))  # fmt: skip
        except FerraSyncError as exc:
            return exc.message
        view = view_for_record(record, request_id, origin) if record else None
        view = view or view_for_request(request, request_id, origin, _iso_now())
        with self._lock:
            self._run = replace(view, started_at=_iso_now(), started_mono=time.monotonic())
        self._engine = engine
        self.files.remove(SYNC_PAUSE)
        self._pause_file = False
        self.files.write_pid(SYNC_PID)
        self._set_state("starting", strings.STARTING)
        runlog.info("Run %s: %s → %s (%s)", "resume " + str(request.resume_run_id) if request.resume_run_id
                    else request.mode, request.target, _who(origin, False), request_id)  # fmt: skip
        self._worker = self.start_worker(lambda: self._work(engine, request, token))
        return None

    def _work(self, engine: Any, request: RunRequest, token: int) -> None:
        """Runs in the worker: the engine, then the summary handed back to the service thread."""
        try:
            summary = engine.run(request)
        except FerraSyncError as exc:
            summary = RunSummary(run_id=request.resume_run_id or "", state="failed", counts=Counts(),
                                 message=exc.message)  # fmt: skip
        except Exception as exc:  # never leave the agent believing a run is still going
            runlog.exception("Run crashed")
            summary = RunSummary(run_id=request.resume_run_id or "", state="failed", counts=Counts(),
                                 message=f"error interno ({type(exc).__name__}); revise el registro")  # fmt: skip
        self._queue.put(("run_done", token, summary))

    def _on_progress(self, token: int, p: Progress) -> None:
        if token != self._token:
            return
        with self._lock:
            self._run = self._run.with_progress(p)
        if p.phase in ("starting", "analysing", "sending") and self._state not in ("pausing", "stopping"):
            self._set_state(p.phase, p.message or self._message_for(p.phase))
        elif p.message and p.phase == "sending":
            self._message = p.message
        if p.phase == "sending" and p.code and not p.message:
            c = p.counts
            runlog.info("[%d/%d] Preparando %s%s%s", c.done, c.total, p.code, " [ACTUALIZACIÓN]" if p.is_update
                        else "", f" | {p.info}" if p.info else "")  # fmt: skip
        elif p.message:
            runlog.info("%s", p.message)
        self._dirty = True
        self._notify_snapshot()

    def _message_for(self, phase: str) -> str:
        if phase == "analysing":
            return strings.ANALYSING
        if phase == "sending":
            return f"Sincronizando {self._progress_text()}"
        return strings.STARTING

    def _on_run_done(self, token: int, summary: RunSummary) -> None:
        if token != self._token:
            return
        self._worker, self._engine = None, None
        self.files.remove(SYNC_PID)
        state = _SUMMARY_STATE.get(summary.state, "failed")
        if state != "paused":
            self.files.remove(SYNC_PAUSE)
            self._pause_file = False
        with self._lock:
            counts = summary.counts if summary.counts.total or summary.counts.done else self._run.counts
            self._run = replace(self._run, run_id=summary.run_id or self._run.run_id, counts=Counts(**counts.as_dict()),
                                elapsed_s=summary.duration_s, eta_s=None, started_mono=None)  # fmt: skip
            if self.journal is not None:
                self._recent = tuple(self.journal.recent_runs(10))
        message = self._final_message(state, summary)
        runlog.info("Run %s ended %s: %s", summary.run_id, state, message)
        self._set_state(state, message)
        self._notice_for(state, message)
        self._post_manager()

    def _final_message(self, state: str, summary: RunSummary) -> str:
        c = summary.counts
        if state == "completed":
            failed = len(summary.failed_codes) or c.failed
            return strings.completed(c.sent, c.nuevas, c.modificadas, summary.duration_s, failed, c.skipped)
        if state == "failed":
            return strings.failed(summary.message, self._run.code)
        if state == "paused":
            return strings.PAUSED_AT.format(code=self._run.code) if self._run.code else strings.PAUSED
        return summary.message

    def _notice_for(self, state: str, message: str) -> None:
        titles = {"completed": strings.NOTICE_COMPLETED_TITLE, "failed": strings.NOTICE_ERROR_TITLE,
                  "refused": strings.NOTICE_REFUSED_TITLE}  # fmt: skip
        if state in titles:
            self._notice(Notice("completed" if state == "completed" else "error" if state == "failed" else "refused",
                                titles[state], message))  # fmt: skip

    def _resumable_message(self, state: str, run_id: str, code: str | None) -> str:
        if state == "interrupted":
            return strings.INTERRUPTED.format(run_id=run_id)
        if state == "paused":
            return strings.PAUSED_AT.format(code=code) if code else strings.PAUSED
        return "Sincronización detenida. " + strings.RESUME_HINT

    # ================================================================== presence and connection

    def _on_presence_change(self, kind: str, payload: dict[str, Any], members: dict[str, dict[str, Any]]) -> None:
        previous_role, previous_active = self._role, self._active_agent
        if kind == "added":
            log.info("[RED] PC conectado: %s", payload.get("user_id"))
        elif kind == "removed":
            log.info("[RED] PC desconectado: %s", payload.get("user_id"))
        lead = decide(self.agent_id, self._started_iso, members)
        was_known = self._presence_known
        with self._lock:
            self._presence_known = True
            self._role, self._active_agent, self._legacy = lead.role, lead.active_agent, lead.legacy_listener
        if lead.legacy_listener:
            log.warning("[RED] %s", strings.LEGACY_LISTENER.format(host=lead.legacy_listener))
        if (lead.role, lead.active_agent) == (previous_role, previous_active) and was_known:
            return
        log.info("[RED] Role: %s (active agent: %s)", lead.role, lead.active_agent or "-")
        if was_known and previous_role == "standby" and lead.role == "active":
            gone = previous_active if previous_active and previous_active not in members else ""
            text = strings.NOTICE_TAKEOVER.format(previous=gone) if gone else strings.NOTICE_TAKEOVER_FIRST
            self._notice(Notice("takeover", strings.NOTICE_TAKEOVER_TITLE, text))
        self._changed()

    def _on_connection(self, state: str, detail: str | None) -> None:
        connection = _CONNECTION.get(state, "connecting")
        with self._lock:
            changed = connection != self._connection
            self._connection = connection
            self._connection_detail = (detail or "") if connection in ("failed", "disconnected") else ""
        if changed:
            log.info("Remote channel: %s%s", connection, f" ({detail})" if detail and connection != "connected" else "")
        if state == "subscribed":
            self._publish(full=True)  # Pusher never replays: after every (re)subscription a full status
        if changed:
            self._notify_snapshot()

    # ================================================================== state, status, timers

    def _set_state(self, state: str, message: str) -> None:
        with self._lock:
            changed = (state, message) != (self._state, self._message)
            self._state, self._message = state, message
        if changed:
            self._changed()

    def _changed(self) -> None:
        """A state change: published at once (after the ack when a command caused it)."""
        if self._defer_publish:
            self._pending_publish = True
            self._notify_snapshot()
            return
        self._publish(full=False)

    def _progress_text(self) -> str:
        c = self._run.counts
        if self._state in ("starting", "analysing") or not c.total:
            return f"{c.done}/?"
        return f"{c.done}/{c.total}"

    def build_status(self, full: bool = False) -> protocol.SyncStatus:
        snap = self.snapshot()
        run, a = self._run, snap.autosync
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
            years=snap.years if full else None, last_planilla_update=run.is_update,
        )  # fmt: skip

    def _publish(self, full: bool) -> None:
        status = self.build_status(full)
        self._last_pusher = time.monotonic()
        self._dirty = False
        if self._outbox is not None:
            try:
                self._outbox.put(protocol.EVENT_STATUS, protocol.encode_status(status))
            except protocol.PayloadTooLarge as exc:
                log.error("Status not published: %s", exc.reason)
        self._write_listener_status()
        self._notify_snapshot()

    def _post_manager(self) -> None:
        self._last_manager = time.monotonic()
        # Only the active agent reports to Manager: a standby's "idle" would overwrite the real status.
        if self._reporter is not None and self._role == "active":
            self._reporter.post(protocol.manager_status_body(self.build_status()))

    def _tick(self) -> None:
        now = time.monotonic()
        running = self._state in RUNNING_STATES
        scaled = self.settings.scaled
        since = now - self._last_pusher
        throttled = running and self._dirty and since >= scaled(STATUS_MIN_INTERVAL_S)
        if throttled or since >= scaled(HEARTBEAT_S):  # progress at most once a second; else a heartbeat
            self._publish(full=False)
        if now - self._last_manager >= scaled(MANAGER_RUNNING_S if running else MANAGER_IDLE_S):
            self._post_manager()
        if now - self._last_listener_status >= scaled(LISTENER_STATUS_S):
            self._write_listener_status()
        self._check_files()
        self._check_autosync()

    def _check_files(self) -> None:
        if self.files.exists(QUIT):
            self.files.remove(QUIT)
            log.info("Quit requested through %s", QUIT)
            self.quit_requested.set()
            if self.on_quit is not None:
                self.on_quit()
        present = self.files.exists(SYNC_PAUSE)
        if present == self._pause_file:
            return
        self._pause_file = present
        if present and self._state in ("starting", "analysing", "sending"):
            log.info("Pause requested through %s", SYNC_PAUSE)
            self._local_command("pause")
        elif not present and self._state == "paused":
            log.info("%s removed: resuming", SYNC_PAUSE)
            self._local_command("resume")

    def _check_autosync(self) -> None:
        s = self._schedule
        if self._role != "active" or self._worker is not None:
            return
        if not s.due(self.clock(), self._started_wall, self.settings.time_scale):
            return
        now = self.clock()
        with self._lock:
            self._schedule = replace(s, last_run=now)
        try:
            save_settings({"FERRASYNC_AUTOSYNC_LAST_RUN": round(now, 3)}, home=self.settings.home)
        except FerraSyncError as exc:
            log.warning("Could not persist the auto-sync time: %s", exc.message)
        log.info("Auto-sync: launching an incremental sync (every %d min)", s.interval_min)
        self._local_command("start", {"modo": "incremental", "target": s.target}, user="auto-sync")

    def _local_command(self, command: str, params: dict[str, Any] | None = None, user: str = "local") -> None:
        wire = {"command": command, "params": params or {}, "requestId": protocol.new_request_id(),
                "timestamp": _iso_now(), "agent": self.agent_id,
                "origin": {"hostname": self.hostname, "user": user}}  # fmt: skip
        self._handle_command(wire, local=True)

    def _write_listener_status(self) -> None:
        self._last_listener_status = time.monotonic()
        snap = self.snapshot()
        self.files.write_status({
            "state": snap.state, "role": snap.role, "status": protocol.wire_state(snap.state)[0],
            "connection": snap.connection, "progress": snap.progress_text or None, "message": snap.message,
            "run_id": snap.run_id, "hostname": self.hostname, "agent": self.agent_id, "pid": _pid(),
            "version": __version__, "active_agent": snap.active_agent, "legacy_listener": snap.legacy_listener,
            "heartbeat": datetime.now().strftime("%Y-%m-%d %H:%M:%S"), "updated_at": _iso_now(),
        })  # fmt: skip

    def _refresh_years(self, only_if_stale: bool = False) -> None:
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
        self._queue.put(("years", years))

    # ================================================================== helpers

    def _ack(self, request_id: str, result: protocol.Result, reason: str | None) -> protocol.Ack:
        return protocol.build_ack(request_id, result, agent=self.agent_id, hostname=self.hostname, reason=reason)

    def _send_ack(self, request_id: str, result: protocol.Result, reason: str | None) -> protocol.Ack:
        ack = self._ack(request_id, result, reason)
        if self._outbox is not None:
            self._outbox.put(protocol.EVENT_ACK, protocol.encode_event(ack.to_wire(), "la confirmación"))
        if result != "accepted":
            log.info("Ack %s %s: %s", result, request_id, reason)
        return ack

    def _notice(self, notice: Notice) -> None:
        log.info("Notice: %s — %s", notice.title, notice.text)
        if self.on_notice is not None:
            try:
                self.on_notice(notice)
            except Exception:
                log.exception("on_notice failed")

    def _notify_snapshot(self) -> None:
        if self.on_snapshot is not None:
            try:
                self.on_snapshot(self.snapshot())
            except Exception:
                log.exception("on_snapshot failed")


def _pid() -> int:
    import os

    return os.getpid()


def _user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:
        return None


def _who(origin: dict[str, Any] | None, local: bool) -> str:
    if not origin:
        return "local" if local else "?"
    return "/".join(str(v) for v in (origin.get("hostname"), origin.get("user")) if v) or "?"
