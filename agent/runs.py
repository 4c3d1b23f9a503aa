"""Run supervision: one engine run at a time in `start_worker(fn)`, its progress and end handed back to the
service thread (a token drops messages of an older run), pause/stop/kill, and the end-of-run words.

It owns the run's state (the agent's `RunState`, its message, the current run and the recent ones); the
service reads them for its snapshot and learns of changes through the callbacks it wires at construction.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from agent import strings
from agent.events import Post, RunEnded, RunProgressed
from agent.files import SYNC_PID, DataFiles, PauseSwitch
from agent.runview import RunView, WorkerHandle, view_for_record, view_for_request
from agent.snapshot import Notice
from sync import protocol
from sync.config.model import Settings
from sync.engine import Engine
from sync.errors import FerraSyncError
from sync.journal import Journal, RunRecord
from sync.model import RunState
from sync.request import StartRequest
from sync.runcontrol import Action
from sync.runlock import RunLock
from sync.runmodel import Counts, Progress, RunSummary

log = logging.getLogger("ferrasync.agent")
runlog = logging.getLogger("ferrasync.run")

STOP_WAIT_S = 10.0
# At logoff/shutdown Windows kills the process ~5 s after the notice: stop briefly, then kill, then publish.
SESSION_END_STOP_S, SESSION_END_KILL_S = 1.5, 1.0
RECENT_RUNS = 10
NOTICE_KIND = {  # final state -> notice kind and title
    RunState.COMPLETED: ("completed", strings.NOTICE_COMPLETED_TITLE),
    RunState.FAILED: ("error", strings.NOTICE_ERROR_TITLE),
    RunState.REFUSED: ("refused", strings.NOTICE_REFUSED_TITLE),
}
# The engine's progress phases that are agent states too (its "done" is not: the summary ends a run).
PHASE_STATES = {state.value: state for state in RunState if state.progressing}


def who(origin: dict[str, Any] | None, local: bool) -> str:
    if not origin:
        return "local" if local else "?"
    return "/".join(str(v) for v in (origin.get("hostname"), origin.get("user")) if v) or "?"


@dataclass(frozen=True)
class RunHooks:
    """What the service does when the run's state moves (wired once, called on the service thread)."""

    changed: Callable[[], None]  # a new state: published at once (or after the ack of the command)
    progressed: Callable[[], None]  # progress within a state: the throttle publishes it
    notice: Callable[[Notice], None]
    ended: Callable[[], None]  # a run ended: Manager hears of it now


class RunSupervisor:
    def __init__(self, settings: Settings, files: DataFiles, pause: PauseSwitch, lock: threading.RLock, *,
                 journal: Callable[[], Journal], post: Post, start_worker: Callable[[Callable[[], None]], WorkerHandle],
                 hooks: RunHooks) -> None:  # fmt: skip
        self.settings, self.files, self.pause, self.lock = settings, files, pause, lock
        self.journal, self.post, self.start_worker, self.hooks = journal, post, start_worker, hooks
        # state (written on the service thread, read by the service's snapshot from any thread under the lock)
        self.state = RunState.IDLE
        self.message = strings.IDLE
        self.run = RunView()
        self.recent: tuple[RunRecord, ...] = ()
        self.session_ending = False  # logoff/shutdown: a stop interrupts the run at once
        self.engine: Engine | None = None
        self.worker: WorkerHandle | None = None
        self.token = 0  # which run the queued progress belongs to

    def recover(self) -> None:
        """A run left active by a crash becomes `interrupted` and is reported, never re-run by itself."""
        journal = self.journal()
        for record in journal.mark_interrupted():
            log.warning("Run %s was interrupted (the agent or the PC stopped); it waits for a resume", record.run_id)
        latest = journal.recent_runs(1)
        self.recent = tuple(journal.recent_runs(RECENT_RUNS))
        state = RunState.parse(latest[0].state) if latest else RunState.IDLE
        if state.resumable:
            record = latest[0]
            self.run = view_for_record(record)
            self.state = state
            self.message = resumable_message(state, record.run_id, record.last_confirmed)

    def end_session(self) -> None:
        """Logoff or shutdown: a stop now waits only briefly, and a run it stops is recorded `interrupted`."""
        self.session_ending = True

    def set_state(self, state: RunState, message: str) -> None:
        with self.lock:
            changed = (state, message) != (self.state, self.message)
            self.state, self.message = state, message
        if changed:
            self.hooks.changed()

    @property
    def launched(self) -> bool:
        """A run was started and its end is not handled yet (its worker may already have returned)."""
        return self.worker is not None

    def busy(self) -> bool:
        return self.worker is not None and self.worker.is_alive()

    def busy_reason(self) -> str | None:
        return strings.BUSY.format(progress=self.progress_text() or "0/?") if self.busy() else None

    def progress_text(self) -> str:
        c = self.run.counts
        if self.state in (RunState.STARTING, RunState.ANALYSING) or not c.total:
            return f"{c.done}/?"
        return f"{c.done}/{c.total}"

    # -- start -------------------------------------------------------------------------------------

    def start(
        self, request: StartRequest, request_id: str, origin: dict[str, Any] | None, record: RunRecord | None = None
    ) -> str | None:
        """Launch a run (with `record`, resume that journal run); returns why not (another process holds the
        run lock, settings unusable) or None."""
        from sync.runlock import RunLockBusy
        from sync.runsetup import build_engine

        try:
            probe = RunLock(self.settings.home)
            probe.acquire()  # a `ferrasync run` in a terminal holds it
            probe.release()
        except RunLockBusy as exc:
            return strings.BUSY_OTHER_PROCESS.format(detail=exc.message)
        self.token += 1
        token = self.token
        try:
            engine = build_engine(self.settings, request.target, self.journal(),
                                  on_progress=lambda p: self.post(RunProgressed(token, p)))  # fmt: skip
        except FerraSyncError as exc:
            return exc.message
        now = protocol.iso_utc(protocol.now_utc())
        view = (view_for_record(record, request_id, origin) if record else None) or view_for_request(
            request, request_id, origin, now
        )
        with self.lock:
            self.run = replace(view, started_at=now, started_mono=time.monotonic())
        self.engine = engine
        self.pause.set(False)
        self.files.write_pid(SYNC_PID)
        self.set_state(RunState.STARTING, strings.STARTING)
        resume_run_id = record.run_id if record else None
        runlog.info("Run %s: %s → %s (%s)", f"resume {resume_run_id}" if resume_run_id else request.mode,
                    request.target, who(origin, False), request_id)  # fmt: skip
        self.worker = self.start_worker(lambda: self._work(engine, request, request_id, resume_run_id, token))
        return None

    def _work(
        self, engine: Engine, request: StartRequest, request_id: str, resume_run_id: str | None, token: int
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
        self.post(RunEnded(token, summary))

    # -- pause, stop, kill -------------------------------------------------------------------------

    def halt(self, action: Action, state: RunState, message: str) -> str | None:
        engine = self.engine
        if not self.busy() or engine is None:
            return strings.ALREADY_PAUSED if self.state is RunState.PAUSED else strings.NOTHING_RUNNING
        engine.control.request(action)
        if action is Action.PAUSE:
            self.pause.set(True)
        if self.state is not RunState.STOPPING:  # a stronger request is never downgraded (kill > stop > pause)
            self.set_state(state, message)
        return None

    def kill(self) -> str | None:
        engine = self.engine
        if not self.busy() or engine is None:
            return strings.NOTHING_RUNNING
        engine.kill()  # returns control within 10 s even if FerraWin or Manager hang
        self.set_state(RunState.STOPPING, strings.KILLING)
        return None

    def shutdown(self) -> None:
        """At stop: the run ends at the next planilla boundary, killed if it does not within 10 s."""
        worker, engine = self.worker, self.engine
        stop_wait, kill_wait = (SESSION_END_STOP_S, SESSION_END_KILL_S) if self.session_ending else (
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
        for record in self.journal().mark_interrupted():
            log.warning("Run %s interrupted by the end of the session", record.run_id)
            self.set_state(RunState.INTERRUPTED, strings.INTERRUPTED.format(run_id=record.run_id))
            self.hooks.ended()

    # -- progress and end (service thread) ---------------------------------------------------------

    def on_progress(self, token: int, p: Progress) -> None:
        if token != self.token:
            return
        with self.lock:
            self.run = self.run.with_progress(p)
        phase = PHASE_STATES.get(p.phase)
        if phase is not None and not self.state.halting:
            message = p.message or self._message_for(phase)
            if self.state is not phase:  # a phase change: published at once
                self.set_state(phase, message)
            else:  # progress within the phase: the throttle publishes it, at most once a (scaled) second
                with self.lock:
                    self.message = message
        elif p.message and phase is RunState.SENDING:
            self.message = p.message
        if phase is RunState.SENDING and p.code and not p.message:
            c = p.counts
            runlog.info("[%d/%d] Preparando %s%s%s", c.done, c.total, p.code, " [ACTUALIZACIÓN]" if p.is_update
                        else "", f" | {p.info}" if p.info else "")  # fmt: skip
        elif p.message:
            runlog.info("%s", p.message)
        self.hooks.progressed()

    def _message_for(self, phase: RunState) -> str:
        if phase is RunState.ANALYSING:
            return strings.ANALYSING
        if phase is RunState.SENDING:
            return f"Sincronizando {self.progress_text()}"
        return strings.STARTING

    def on_done(self, token: int, summary: RunSummary) -> None:
        if token != self.token:
            return
        self.worker, self.engine = None, None
        self.files.remove(SYNC_PID)
        state = RunState.parse(summary.state)
        journal = self.journal()
        if self.session_ending and state is RunState.STOPPED and summary.run_id:
            state = RunState.INTERRUPTED  # not a user's stop: the PC is shutting down; a resume continues it
            journal.set_state(summary.run_id, RunState.INTERRUPTED)
        if state is not RunState.PAUSED:
            self.pause.set(False)
        with self.lock:
            counts = summary.counts if summary.counts.total or summary.counts.done else self.run.counts
            self.run = replace(self.run, run_id=summary.run_id or self.run.run_id, counts=Counts(**counts.as_dict()),
                               elapsed_s=summary.duration_s, eta_s=None, started_mono=None,
                               safety_limit=summary.safety_limit)  # fmt: skip
            self.recent = tuple(journal.recent_runs(RECENT_RUNS))
        message = self._final_message(state, summary)
        runlog.info("Run %s ended %s: %s", summary.run_id, state, message)
        self.set_state(state, message)
        if state in NOTICE_KIND:
            kind, title = NOTICE_KIND[state]
            self.hooks.notice(Notice(kind, title, message))
        self.hooks.ended()

    def _final_message(self, state: RunState, summary: RunSummary) -> str:
        c = summary.counts
        if state is RunState.INTERRUPTED:
            return strings.INTERRUPTED.format(run_id=summary.run_id)
        if state is RunState.COMPLETED:
            failed = len(summary.failed_codes) or c.failed
            return strings.completed(c.sent, c.nuevas, c.modificadas, summary.duration_s, failed, c.skipped)
        if state is RunState.FAILED:
            return strings.failed(summary.message, self.run.code)
        if state is RunState.PAUSED:
            return strings.PAUSED_AT.format(code=self.run.code) if self.run.code else strings.PAUSED
        return summary.message


def resumable_message(state: RunState, run_id: str, code: str | None) -> str:
    if state is RunState.INTERRUPTED:
        return strings.INTERRUPTED.format(run_id=run_id)
    if state is RunState.PAUSED:
        return strings.PAUSED_AT.format(code=code) if code else strings.PAUSED
    return "Sincronización detenida. " + strings.RESUME_HINT
