"""Run supervision: one engine run at a time in `start_worker(fn)`, its progress and end handed back to the
service thread (a token drops messages of an older run), pause/stop/kill, and the end-of-run words."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from agent import strings
from agent.files import SYNC_PAUSE, SYNC_PID
from agent.runview import WorkerHandle, view_for_record, view_for_request
from agent.snapshot import RESUMABLE_STATES, Notice
from sync import protocol
from sync.errors import FerraSyncError
from sync.model import RunState
from sync.request import StartRequest
from sync.runcontrol import Action
from sync.runlock import RunLock
from sync.runmodel import Counts, Progress, RunSummary

if TYPE_CHECKING:
    from agent.service import AgentService

log = logging.getLogger("ferrasync.agent")
runlog = logging.getLogger("ferrasync.run")

STOP_WAIT_S = 10.0
# At logoff/shutdown Windows kills the process ~5 s after the notice: stop briefly, then kill, then publish.
SESSION_END_STOP_S, SESSION_END_KILL_S = 1.5, 1.0
SUMMARY_STATE = {"completed": "completed", "dry-run": "completed", "paused": "paused", "stopped": "stopped",
                 "failed": "failed", "refused": "refused"}  # fmt: skip
NOTICE_KIND = {  # final state -> notice kind and title
    "completed": ("completed", strings.NOTICE_COMPLETED_TITLE),
    "failed": ("error", strings.NOTICE_ERROR_TITLE),
    "refused": ("refused", strings.NOTICE_REFUSED_TITLE),
}


def who(origin: dict[str, Any] | None, local: bool) -> str:
    if not origin:
        return "local" if local else "?"
    return "/".join(str(v) for v in (origin.get("hostname"), origin.get("user")) if v) or "?"


class RunSupervisor:
    def __init__(self, svc: AgentService) -> None:
        self.svc = svc
        self.engine: Any = None
        self.worker: WorkerHandle | None = None
        self.token = 0  # which run the queued progress belongs to
        self.pause_file = False  # whether sync.pause exists, as last seen or written

    def recover(self) -> None:
        """A run left active by a crash becomes `interrupted` and is reported, never re-run by itself."""
        svc = self.svc
        assert svc.journal is not None
        for record in svc.journal.mark_interrupted():
            log.warning("Run %s was interrupted (the agent or the PC stopped); it waits for a resume", record.run_id)
        latest = svc.journal.recent_runs(1)
        svc.recent = tuple(svc.journal.recent_runs(10))
        if latest and latest[0].state in RESUMABLE_STATES:
            record = latest[0]
            svc.run = view_for_record(record)
            svc.state = record.state
            svc.message = resumable_message(record.state, record.run_id, record.last_confirmed)

    def busy(self) -> bool:
        return self.worker is not None and self.worker.is_alive()

    def busy_reason(self) -> str | None:
        return strings.BUSY.format(progress=self.progress_text() or "0/?") if self.busy() else None

    def progress_text(self) -> str:
        c = self.svc.run.counts
        if self.svc.state in ("starting", "analysing") or not c.total:
            return f"{c.done}/?"
        return f"{c.done}/{c.total}"

    # -- start -------------------------------------------------------------------------------------

    def start(
        self, request: StartRequest, request_id: str, origin: dict[str, Any] | None, record: Any = None
    ) -> str | None:
        """Launch a run (with `record`, resume that journal run); returns why not (another process holds the
        run lock, settings unusable) or None."""
        from sync.run_cli import build_engine
        from sync.runlock import RunLockBusy

        svc = self.svc
        try:
            probe = RunLock(svc.settings.home)
            probe.acquire()  # a `ferrasync run` in a terminal holds it
            probe.release()
        except RunLockBusy as exc:
            return strings.BUSY_OTHER_PROCESS.format(detail=exc.message)
        assert svc.journal is not None
        self.token += 1
        token = self.token
        try:
            engine = build_engine(svc.settings, request.target, svc.journal,
                                  on_progress=lambda p: svc.queue.put(("progress", token, p)))  # fmt: skip
        except FerraSyncError as exc:
            return exc.message
        now = protocol.iso_utc(protocol.now_utc())
        view = (view_for_record(record, request_id, origin) if record else None) or view_for_request(
            request, request_id, origin, now
        )
        with svc.lock:
            svc.run = replace(view, started_at=now, started_mono=time.monotonic())
        self.engine = engine
        svc.files.remove(SYNC_PAUSE)
        self.pause_file = False
        svc.files.write_pid(SYNC_PID)
        svc.set_state("starting", strings.STARTING)
        resume_run_id = record.run_id if record else None
        runlog.info("Run %s: %s → %s (%s)", f"resume {resume_run_id}" if resume_run_id else request.mode,
                    request.target, who(origin, False), request_id)  # fmt: skip
        self.worker = svc.start_worker(lambda: self._work(engine, request, request_id, resume_run_id, token))
        return None

    def _work(
        self, engine: Any, request: StartRequest, request_id: str, resume_run_id: str | None, token: int
    ) -> None:
        """Runs in the worker: the engine, then the summary handed back to the service thread."""
        try:
            summary = engine.run(request, request_id=request_id, resume_run_id=resume_run_id)
        except FerraSyncError as exc:
            summary = RunSummary(run_id=resume_run_id or "", state=RunState.FAILED, counts=Counts(),
                                 message=exc.message)  # fmt: skip
        except Exception as exc:  # never leave the agent believing a run is still going
            runlog.exception("Run crashed")
            summary = RunSummary(run_id=resume_run_id or "", state=RunState.FAILED, counts=Counts(),
                                 message=f"error interno ({type(exc).__name__}); revise el registro")  # fmt: skip
        self.svc.queue.put(("run_done", token, summary))

    # -- pause, stop, kill -------------------------------------------------------------------------

    def halt(self, action: Action, state: str, message: str) -> str | None:
        svc = self.svc
        if not self.busy():
            return strings.ALREADY_PAUSED if svc.state == "paused" else strings.NOTHING_RUNNING
        self.engine.control.request(action)
        if action is Action.PAUSE:
            svc.files.touch_pause()
            self.pause_file = True
        if svc.state != "stopping":  # a stronger request is never downgraded (kill > stop > pause)
            svc.set_state(state, message)
        return None

    def kill(self) -> str | None:
        if not self.busy():
            return strings.NOTHING_RUNNING
        self.engine.kill()  # returns control within 10 s even if FerraWin or Manager hang
        self.svc.set_state("stopping", strings.KILLING)
        return None

    def shutdown(self) -> None:
        """At stop: the run ends at the next planilla boundary, killed if it does not within 10 s."""
        worker, engine = self.worker, self.engine
        stop_wait, kill_wait = (SESSION_END_STOP_S, SESSION_END_KILL_S) if self.svc.session_ending else (
            STOP_WAIT_S, STOP_WAIT_S)  # fmt: skip
        if worker is not None and worker.is_alive() and engine is not None:
            log.info("Agent stopping: stopping the running sync at the next planilla")
            engine.control.request(Action.STOP)
            if not worker.join(stop_wait):
                engine.kill()
                worker.join(kill_wait)

    def interrupt_leftovers(self) -> None:
        """After a session-end stop, on the calling thread (the service thread has ended): a run the worker
        did not finish in time is recorded `interrupted` and published, so nobody keeps seeing "running"."""
        svc = self.svc
        if svc.journal is None:
            return
        for record in svc.journal.mark_interrupted():
            log.warning("Run %s interrupted by the end of the session", record.run_id)
            svc.set_state("interrupted", strings.INTERRUPTED.format(run_id=record.run_id))
            svc.publisher.post_manager()

    # -- progress and end (service thread) ---------------------------------------------------------

    def on_progress(self, token: int, p: Progress) -> None:
        if token != self.token:
            return
        svc = self.svc
        with svc.lock:
            svc.run = svc.run.with_progress(p)
        if p.phase in ("starting", "analysing", "sending") and svc.state not in ("pausing", "stopping"):
            message = p.message or self._message_for(p.phase)
            if svc.state != p.phase:  # a phase change: published at once
                svc.set_state(p.phase, message)
            else:  # progress within the phase: the throttle publishes it, at most once a (scaled) second
                with svc.lock:
                    svc.message = message
        elif p.message and p.phase == "sending":
            svc.message = p.message
        if p.phase == "sending" and p.code and not p.message:
            c = p.counts
            runlog.info("[%d/%d] Preparando %s%s%s", c.done, c.total, p.code, " [ACTUALIZACIÓN]" if p.is_update
                        else "", f" | {p.info}" if p.info else "")  # fmt: skip
        elif p.message:
            runlog.info("%s", p.message)
        svc.publisher.dirty = True
        svc.notify_snapshot()

    def _message_for(self, phase: str) -> str:
        if phase == "analysing":
            return strings.ANALYSING
        if phase == "sending":
            return f"Sincronizando {self.progress_text()}"
        return strings.STARTING

    def on_done(self, token: int, summary: RunSummary) -> None:
        if token != self.token:
            return
        svc = self.svc
        self.worker, self.engine = None, None
        svc.files.remove(SYNC_PID)
        state = SUMMARY_STATE.get(summary.state, "failed")
        if svc.session_ending and state == "stopped" and summary.run_id and svc.journal is not None:
            state = "interrupted"  # not a user's stop: the PC is shutting down; a resume continues it
            svc.journal.set_state(summary.run_id, "interrupted")
        if state != "paused":
            svc.files.remove(SYNC_PAUSE)
            self.pause_file = False
        with svc.lock:
            counts = summary.counts if summary.counts.total or summary.counts.done else svc.run.counts
            svc.run = replace(svc.run, run_id=summary.run_id or svc.run.run_id, counts=Counts(**counts.as_dict()),
                              elapsed_s=summary.duration_s, eta_s=None, started_mono=None)  # fmt: skip
            if svc.journal is not None:
                svc.recent = tuple(svc.journal.recent_runs(10))
        message = self._final_message(state, summary)
        runlog.info("Run %s ended %s: %s", summary.run_id, state, message)
        svc.set_state(state, message)
        if state in NOTICE_KIND:
            kind, title = NOTICE_KIND[state]
            svc.notice(Notice(kind, title, message))
        svc.publisher.post_manager()

    def _final_message(self, state: str, summary: RunSummary) -> str:
        c = summary.counts
        if state == "interrupted":
            return strings.INTERRUPTED.format(run_id=summary.run_id)
        if state == "completed":
            failed = len(summary.failed_codes) or c.failed
            return strings.completed(c.sent, c.nuevas, c.modificadas, summary.duration_s, failed, c.skipped)
        if state == "failed":
            return strings.failed(summary.message, self.svc.run.code)
        if state == "paused":
            return strings.PAUSED_AT.format(code=self.svc.run.code) if self.svc.run.code else strings.PAUSED
        return summary.message


def resumable_message(state: str, run_id: str, code: str | None) -> str:
    if state == "interrupted":
        return strings.INTERRUPTED.format(run_id=run_id)
    if state == "paused":
        return strings.PAUSED_AT.format(code=code) if code else strings.PAUSED
    return "Sincronización detenida. " + strings.RESUME_HINT
