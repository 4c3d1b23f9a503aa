"""Plans and runs one sync: FerraWin → batches → Manager, with the journal as the record.

Kept whole: the run loop — one run's state (_Run) and the steps that read, batch, send, settle and end
it share that state; what is not the loop lives apart (planner, readahead, claim, sender).

The engine knows nothing of how FerraWin is queried (a `Source` does) nor of Qt: it reports through
a plain callback and is steered through a RunControl (pause/stop at the next planilla boundary,
kill at once). Work overlaps: a reader thread fetches and builds the next group of planillas; the
run's thread batches and encodes; each batch is gzipped, posted (at most `batches_in_flight` at once,
in build order) and recorded in the journal on its own thread (SendPipeline); Manager's sync-control
is asked in the background. The run's thread takes the outcomes back in build order for the counts.

The FerraWin connection is closed only once no thread is inside a query on it (closing sqlite3 under
a running query can crash the process): after a kill, a closer thread waits for the abandoned ones.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sync.claim import SyncTurn
from sync.detection import Plan
from sync.detection_cache import MAX_AGE_S as RESCAN_DEFAULT_S
from sync.errors import FerraSyncError
from sync.journal import Journal
from sync.manager import ManagerClient, ManagerError
from sync.model import Phase, RunState
from sync.planner import Listing, Planner, PlannerOptions, SafetyLimitExceeded
from sync.readahead import read_ahead
from sync.request import StartRequest, StartRequestError
from sync.runcontrol import Action, Killed, RemotePoller, RunControl
from sync.runlock import RunLock
from sync.runmodel import Counts, Progress, RunSummary
from sync.sender import (
    FINAL_PASS_DELAYS_S,
    FINAL_PASS_WAIT_S,
    RETRY_DELAYS_S,
    Batch,
    BatchSender,
    Outcome,
    PayloadDump,
    SendPipeline,
    call_abandonable,
)

log = logging.getLogger("ferrasync.engine")

CONTROL_POLL_EVERY = 10  # planillas between sync-control polls (as the PHP tool)
DEFAULT_SAFETY_LIMIT = 2000
DEFAULT_IN_FLIGHT = 1  # batches posted at once (see batches_in_flight)

T = TypeVar("T")


class Source(Listing, Protocol):
    """FerraWin as the engine sees it (implemented in sync/ferrawin/source.py); the planner's part is `Listing`."""

    def read_planillas(self, codes: list[str]) -> list[dict[str, Any]]: ...
    def encode_body(self, planillas: list[dict[str, Any]], modo: str) -> bytes: ...
    def cancel(self) -> None: ...
    def close(self) -> None: ...


@dataclass
class EngineOptions:
    data_dir: Path
    hostname: str
    time_scale: float = 1.0
    batch_planillas: int = 5
    batch_elements: int = 200
    safety_limit: int = DEFAULT_SAFETY_LIMIT
    dump_dir: Path | None = None  # --dump-payloads: every batch body as sent (with dry_run: as it would be)
    detection_cache: bool = True  # skip the grouped scan when FerraWin's tables are unchanged (detection_cache.py)
    rescan_s: float = RESCAN_DEFAULT_S  # a full scan at least this often (FERRASYNC_RESCAN_MINUTES)
    # Batches posted at once. 1 (the default) keeps two guarantees: Manager receives batches in build order,
    # and a kill or crash leaves at most one batch to re-send. N > 1 hides HTTP latency but weakens both to N.
    batches_in_flight: int = DEFAULT_IN_FLIGHT


class Engine:
    def __init__(
        self,
        open_source: Callable[[], Source],
        client: ManagerClient,
        journal: Journal,
        options: EngineOptions,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self.open_source = open_source
        self.client = client
        self.journal = journal
        self.options = options
        self.on_progress = on_progress or (lambda _p: None)
        self.control = RunControl()
        self._source: Source | None = None
        self._source_threads: list[threading.Thread] = []  # every thread that may be inside a query on it

    # -- public ------------------------------------------------------------------------------------

    def kill(self) -> None:
        """Return control at once: stop waiting, cancel the running query, abandon the HTTP call."""
        self.control.request(Action.KILL)
        source = self._source
        if source is not None:
            cancel = threading.Thread(target=source.cancel, name="ferrasync-cancel", daemon=True)
            self._source_threads.append(cancel)  # interrupting a closed sqlite3 connection is not safe either
            cancel.start()

    def open_run_source(self) -> tuple[Source, list[threading.Thread]]:
        """Open FerraWin for one run. The list it returns collects every thread that may be inside a query on
        the source: `kill` cancels through it and the end of the run closes the source only after them."""
        self._source_threads = []
        self._source = self.open_source()
        return self._source, self._source_threads

    def run(
        self, request: StartRequest, *, request_id: str | None = None, resume_run_id: str | None = None
    ) -> RunSummary:
        """One run of `request`; with `resume_run_id`, that paused run continues with the request it was
        started with (the journal's), and `request` is not used. `request_id` is the command that asked."""
        run = _Run(self, request, request_id, resume_run_id)
        with RunLock(self.options.data_dir):
            try:
                return run.execute()
            finally:
                self._release_source()

    def _release_source(self) -> None:
        """Close the source now, or — when abandoned threads still use it — as soon as they are out."""
        source, threads = self._source, [t for t in self._source_threads if t.is_alive()]
        self._source, self._source_threads = None, []
        if source is None:
            return
        if not threads:
            source.close()
            return
        log.info("Closing FerraWin after %d abandoned call(s) end", len(threads))
        # A query that never returns keeps the connection (and this daemon thread) until the process ends.
        threading.Thread(target=_close_after, args=(source, threads), name="ferrasync-close", daemon=True).start()


def unexpected_error_message(exc: BaseException) -> str:
    """What a person reads when something unforeseen broke a run; the traceback goes to the log."""
    return (f"Error inesperado durante la sincronización ({type(exc).__name__}). No se ha perdido nada: lo no "
            "confirmado se reenviará en la próxima sincronización. El detalle está en el registro.")


class _Run:
    """The state of one run; lives only inside Engine.run."""

    def __init__(
        self, engine: Engine, request: StartRequest, request_id: str | None, resume_run_id: str | None
    ) -> None:
        self.e = engine
        self.request = request
        self.request_id = request_id
        self.resume_run_id = resume_run_id
        self.run_id = resume_run_id or uuid.uuid4().hex[:12]
        self.counts = Counts()
        self.started = time.monotonic()
        self.updates: set[str] = set()
        self.failed: list[Batch] = []
        self.turn = SyncTurn(engine.client, engine.options.hostname, engine.options.time_scale)
        self.detection = ""  # "cache" or "scan" once an incremental run has planned
        self.safety_limit: int | None = None  # the limit that refused this run, if it did
        self.source_threads: list[threading.Thread] = []  # the engine's, from open_run_source

    # -- flow --------------------------------------------------------------------------------------

    def execute(self) -> RunSummary:
        self.report(Phase.STARTING, message="Iniciando sincronización")
        try:
            source, self.source_threads = self.e.open_run_source()
            self.e.client.check_status()
            codes, plan = self.plan(source, self.request)
            request = self.request  # a resumed run's own request, read back from the journal
            if request.dry_run and self.e.options.dump_dir is not None:
                self.dump_dry_run(source, codes)
            if request.dry_run:
                message = f"Se sincronizarían {len(codes)} planillas."
                return self.summary(RunState.COMPLETED, message, planned=codes, plan=plan, dry_run=True)
            if not codes:
                return self.finish(RunState.COMPLETED, "No hay planillas para sincronizar.")
            refusal = self.turn.take()
            if refusal:
                return self.summary(RunState.REFUSED, refusal)
            return self.send_all(source, request, codes)
        except Killed:
            return self.finish(
                RunState.STOPPED, "Sincronización detenida a la fuerza; lo no confirmado se reenviará al reanudar."
            )
        except SafetyLimitExceeded as exc:
            self.safety_limit = exc.limit
            self.counts.total = exc.found  # what a window shows next to the limit
            return self.finish(RunState.REFUSED, exc.message)  # nothing was sent: the user decides (docs/ui.md)
        except (ManagerError, FerraSyncError) as exc:
            return self.finish(RunState.FAILED, exc.message)
        except Exception as exc:  # a bug or an unforeseen driver error: a failed run, never a traceback
            log.exception("Run %s failed unexpectedly", self.run_id)
            return self.finish(RunState.FAILED, unexpected_error_message(exc))

    def plan(self, source: Source, request: StartRequest) -> tuple[list[str], Plan | None]:
        if self.resume_run_id:
            return self.plan_resume(self.resume_run_id), None
        options = self.e.options
        planner = Planner(
            self.e.client,
            self.e.control,
            PlannerOptions(options.data_dir, options.safety_limit, options.detection_cache, options.rescan_s),
            query=self.query,
            report=self.report,
        )
        planned = planner.plan(source, request)
        self.detection = planned.detection
        if planned.plan is not None:
            self.updates = set(planned.plan.modificadas)
            self.counts.nuevas, self.counts.modificadas = len(planned.plan.nuevas), len(planned.plan.modificadas)
        return planned.codes, planned.plan

    def query(self, fn: Callable[[], T]) -> T:
        """A FerraWin call that a kill abandons (returning at once); the connection outlives it."""
        return call_abandonable(fn, self.e.control, threads=self.source_threads)

    def plan_resume(self, run_id: str) -> list[str]:
        record = self.e.journal.run(run_id)
        if record is None:
            raise StartRequestError(f"No existe la sincronización {run_id} en el registro.")
        if not RunState.parse(record.state).resumable:
            raise StartRequestError(f"La sincronización {run_id} está «{record.state}»; solo se reanuda una pausada.")
        self.request = StartRequest.from_params(record.params)
        # The counts go on from where the run stopped: the journal's planillas and batches are the truth; the
        # rest (the plan's split, why some were skipped) is what the run recorded when it paused.
        journal = self.e.journal
        self.counts = Counts.from_dict(record.counts)
        codes = journal.code_counts(run_id)
        self.counts.sent, self.counts.skipped = codes.get("confirmed", 0), codes.get("skipped", 0)
        self.counts.done = self.counts.sent + self.counts.skipped
        self.counts.failed = self.counts.batchesFailed = 0  # failed codes are pending again: retried now
        self.counts.batchesOk = journal.confirmed_batches(run_id)
        self.counts.created, self.counts.updated = journal.manager_totals(run_id)
        return journal.pending_codes(run_id)

    def send_all(self, source: Source, request: StartRequest, codes: list[str]) -> RunSummary:
        journal = self.e.journal
        if self.resume_run_id:
            journal.set_state(self.run_id, RunState.SENDING)
            self.counts.total = self.counts.done + len(codes)
        else:
            journal.start_run(
                self.run_id,
                request_id=self.request_id,
                mode=request.mode,
                params=request.to_params(),
                target=request.target,
                codes=codes,
            )
            self.counts.total = len(codes)
        modo = self.request.metadata_modo
        dump = PayloadDump(self.e.options.dump_dir) if self.e.options.dump_dir is not None else None
        sender = BatchSender(
            self.e.client,
            self.e.control,
            lambda planillas: source.encode_body(planillas, modo),
            time_scale=self.e.options.time_scale,
            on_failure=lambda b, exc, n: log.warning("Intento %d fallido (%s): %s", n, ", ".join(b.codes), exc.message),
            dump=dump.write if dump is not None else None,
        )
        pipeline = SendPipeline(sender, self.e.control, self.e.options.batches_in_flight, record=self.record)
        poller = RemotePoller(self.e.client.control_action)
        pending = Batch(codes=[], planillas=[], elements=0)
        try:
            for index, planilla in enumerate(self.read_ahead(source, codes)):
                self.settle_ready(pipeline)
                action = self.boundary(index, poller)
                if action is not Action.CONTINUE:
                    self.flush(pipeline, pending, final=True)
                    self.drain(pipeline)
                    return self.halt(action)
                self.add(pending, planilla)
                if self.batch_full(pending):
                    self.flush(pipeline, pending)
                    pending = Batch(codes=[], planillas=[], elements=0)
            self.flush(pipeline, pending)
            self.drain(pipeline)
        except FerraSyncError:
            # FerraWin dropped or Manager refused the token: the run ends failed, but only after every
            # batch in flight has been answered and recorded — none may land after the run (and its lock).
            self.drain_quietly(pipeline)
            raise
        self.final_pass(sender)
        return self.complete()

    # -- steps -------------------------------------------------------------------------------------

    def dump_dry_run(self, source: Source, codes: list[str]) -> None:
        """--dry-run --dump-payloads: read and batch exactly as a run would; write the bodies, send nothing."""
        assert self.e.options.dump_dir is not None
        dump = PayloadDump(self.e.options.dump_dir)
        modo = self.request.metadata_modo
        pending = Batch(codes=[], planillas=[], elements=0)
        for planilla in self.read_ahead(source, codes, record=False):
            self.e.control.check_killed()
            if not _has_obra(planilla):
                continue
            pending.codes.append(str(planilla["codigo"]))
            pending.planillas.append(planilla)
            pending.elements += len(planilla.get("elementos") or [])
            if self.batch_full(pending):
                dump.write(source.encode_body(pending.planillas, modo))
                pending = Batch(codes=[], planillas=[], elements=0)
        if pending.codes:
            dump.write(source.encode_body(pending.planillas, modo))
        self.report(Phase.DONE, message=f"Escritos {len(dump.written)} lotes en {self.e.options.dump_dir} (sin enviar)")

    def batch_full(self, pending: Batch) -> bool:
        return len(pending.codes) >= self.e.options.batch_planillas or pending.elements >= self.e.options.batch_elements

    def read_ahead(self, source: Source, codes: list[str], *, record: bool = True) -> Iterator[dict[str, Any]]:
        """Planillas in plan order, read ahead on a thread; codes without data are recorded as skipped."""
        on_missing = self.skip_empty if record else None
        return read_ahead(source, codes, self.e.control, self.source_threads, on_missing)

    def skip_empty(self, codes: set[str]) -> None:
        """Codes FerraWin has no data for any more (the PHP tool's "vacía"): recorded, never sent."""
        if not codes:
            return
        self.e.journal.mark_codes(self.run_id, codes, "skipped")
        self.counts.skipped += len(codes)
        self.counts.skippedNoData += len(codes)
        self.counts.done += len(codes)
        for code in sorted(codes, reverse=True):
            log.warning("Sin datos para formatear: %s", code)

    def boundary(self, index: int, poller: RemotePoller) -> Action:
        control = self.e.control
        control.check_killed()
        if index and index % CONTROL_POLL_EVERY == 0:
            poller.kick()  # answered in the background: applied at the first boundary after it arrives
        remote = poller.take()
        if remote is not None:
            if remote == "pause":
                control.request(Action.PAUSE)
            elif remote == "stop":
                control.request(Action.STOP)
        self.turn.renew_if_due()
        return control.requested

    def add(self, pending: Batch, planilla: dict[str, Any]) -> None:
        code = str(planilla["codigo"])
        if not _has_obra(planilla):
            # the in-loop sin-obra guard (docs/ferrawin.md, "Guards"): skipped, never sent
            self.e.journal.mark_codes(self.run_id, [code], "skipped")
            self.counts.skipped += 1
            self.counts.skippedSinObra += 1
            self.counts.done += 1
            self.report(Phase.SENDING, code=code, message=f"OMITIDA {code}: sin obra válida en FerraWin")
            return
        pending.codes.append(code)
        pending.planillas.append(planilla)
        pending.elements += len(planilla.get("elementos") or [])
        self.counts.done += 1
        self.report(Phase.SENDING, code=code, info=_info(planilla), is_update=code in self.updates)

    def flush(self, pipeline: SendPipeline, batch: Batch, *, final: bool = False) -> None:
        """Post a batch (once if a pause/stop flush); a slot is freed first by recording the oldest outcome."""
        if not batch.codes:
            return
        while pipeline.full:
            self.settle(pipeline.oldest())
        pipeline.submit(batch, () if final else RETRY_DELAYS_S, final=final)
        self.settle_ready(pipeline)

    def settle_ready(self, pipeline: SendPipeline) -> None:
        for outcome in pipeline.ready():
            self.settle(outcome)

    def drain(self, pipeline: SendPipeline) -> None:
        """Wait for every batch in flight (a pause/stop/end waits for them; a kill raises Killed here)."""
        while len(pipeline):
            self.settle(pipeline.oldest())

    def drain_quietly(self, pipeline: SendPipeline) -> None:
        """Drain after a failure: record what was confirmed, ignore further errors (the first one wins)."""
        while len(pipeline):
            try:
                self.settle(pipeline.oldest())
            except FerraSyncError:
                continue

    def settle(self, outcome: Outcome) -> None:
        """Record one batch's outcome: confirmed parts in the journal, or a failure for the final pass."""
        batch, exc = outcome.batch, outcome.error
        if exc is not None:
            if not isinstance(exc, ManagerError) or exc.kind == "auth":
                raise exc
            self.counts.batchesFailed += 1
            if not outcome.final:
                self.failed.append(batch)
            self.report(Phase.SENDING, message=f"Error en lote ({', '.join(batch.codes)}): {exc.message}")
            return
        self.count(outcome.confirmed)  # already in the journal: the batch's thread recorded it
        self.report(Phase.SENDING, message=f"Lote correcto: {len(batch.codes)} planillas")

    def record(self, confirmed: list[tuple[Batch, dict[str, Any]]]) -> None:
        """Confirmed (sub-)batches into the journal, one transaction each (called on the batch's thread)."""
        for part, answer in confirmed:
            self.e.journal.confirm_batch(self.run_id, part.codes, part.elements, answer.get("data") or {})

    def count(self, confirmed: list[tuple[Batch, dict[str, Any]]]) -> None:
        for part, answer in confirmed:
            self.counts.batchesOk += 1
            self.counts.sent += len(part.codes)
            self.counts.elements += part.elements
            data = answer.get("data") or {}
            self.counts.created += int(data.get("planillas_creadas") or 0)
            self.counts.updated += int(data.get("planillas_actualizadas") or 0)

    def final_pass(self, sender: BatchSender) -> None:
        if not self.failed:
            return
        self.report(Phase.SENDING, message=f"Pasada final: reintentando {len(self.failed)} lotes fallidos")
        self.e.control.sleep(FINAL_PASS_WAIT_S * self.e.options.time_scale, wake_on_request=True)
        for batch in self.failed:
            if self.e.control.requested is not Action.CONTINUE:
                return
            try:
                confirmed = sender.send(batch, FINAL_PASS_DELAYS_S)
            except ManagerError as exc:
                if exc.kind == "auth":
                    raise
                self.e.journal.mark_codes(self.run_id, batch.codes, "failed")
                self.counts.failed += len(batch.codes)
                continue
            self.counts.batchesFailed -= 1
            self.record(confirmed)
            self.count(confirmed)
        self.failed = []

    # -- endings -----------------------------------------------------------------------------------

    def halt(self, action: Action) -> RunSummary:
        if action is Action.PAUSE:
            return self.finish(
                RunState.PAUSED, f"Pausada en {self.e.journal.run(self.run_id) and self.last_code()}. Use Reanudar."
            )
        return self.finish(RunState.STOPPED, "Sincronización detenida. Use Reanudar para continuar donde se quedó.")

    def complete(self) -> RunSummary:
        failed = self.e.journal.code_counts(self.run_id).get("failed", 0)
        duration = time.monotonic() - self.started
        c = self.counts
        message = (
            f"Total: {c.total} | OK: {c.sent} | Errores: {failed} | Omitidas: {c.skipped} | "
            f"Lotes: {c.batchesOk} ✓ {c.batchesFailed} ✗ | Duración: {duration:.1f}s"
        )
        return self.finish(RunState.COMPLETED, message)

    def finish(self, state: RunState, message: str) -> RunSummary:
        if self.e.journal.run(self.run_id) is not None:
            self.e.journal.set_state(
                self.run_id, state, counts=self.counts.as_dict(), error=message if state is RunState.FAILED else ""
            )
        if self.turn.taken and state is not RunState.PAUSED:
            self.turn.release()
        self.report(state.wire[1], message=message)
        return self.summary(state, message)

    def summary(
        self,
        state: RunState,
        message: str,
        planned: list[str] | None = None,
        plan: Plan | None = None,
        dry_run: bool = False,
    ) -> RunSummary:
        failed_codes: list[str] = []
        if self.e.journal.run(self.run_id) is not None and state is RunState.COMPLETED and not dry_run:
            failed_codes = self.e.journal.pending_codes(self.run_id)
        return RunSummary(
            run_id=self.run_id,
            state=state,
            counts=self.counts,
            message=message,
            duration_s=time.monotonic() - self.started,
            failed_codes=failed_codes,
            planned=planned or [],
            reasons=plan.reasons if plan else {},
            safety_limit=self.safety_limit,
            dry_run=dry_run,
        )

    def last_code(self) -> str:
        record = self.e.journal.run(self.run_id)
        return record.last_confirmed or "" if record else ""

    def report(self, phase: Phase, **fields: Any) -> None:
        elapsed = time.monotonic() - self.started
        eta = None
        if phase is Phase.SENDING and self.counts.done and self.counts.total:
            eta = elapsed / self.counts.done * (self.counts.total - self.counts.done)
        self.e.on_progress(Progress(self.run_id, phase, self.counts, elapsed_s=elapsed, eta_s=eta, **fields))


def _close_after(source: Source, threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join()
    source.close()


def _has_obra(planilla: dict[str, Any]) -> bool:
    return bool(str(planilla.get("codigo_obra") or _first_element(planilla).get("codigo_obra") or "").strip())


def _first_element(planilla: dict[str, Any]) -> dict[str, Any]:
    elementos = planilla.get("elementos") or []
    return elementos[0] if elementos and isinstance(elementos[0], dict) else {}


def _info(planilla: dict[str, Any]) -> str:
    first = _first_element(planilla)
    cliente = planilla.get("nombre_cliente") or first.get("nombre_cliente") or ""
    obra = planilla.get("nombre_obra") or first.get("nombre_obra") or ""
    return f"{cliente} — {obra}" if cliente or obra else ""
