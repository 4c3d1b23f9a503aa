"""Snapshots for every tray state and a scripted service with AgentService's interface (for the Qt tests,
the Xvfb tray harness and scripts/screenshots_agent.py).

The scripted service keeps the real state machine's visible contract for the local commands the tray
sends: pause -> pausing -> paused (reported from another thread, as the real run thread does),
resume -> sending, stop -> stopping -> stopped, kill -> stopped; a start while busy is rejected.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

from agent.snapshot import AgentSnapshot, AutoSyncView, Notice
from sync.journal import RunRecord
from sync.model import OfflineReason
from sync.pusher.offline import Offline
from sync.runmodel import Counts

# The journal's counts of three runs as the engine leaves them (Counts.as_dict()): a year or a rebuild has no
# nuevas/modificadas split; done counts the skipped planillas too.
RECENT = (
    RunRecord("r3", "q3", "incremental", {}, "production", "completed", "2026-03-02T09:40:00Z",
              "2026-03-02T09:41:20Z", "2026-000010",
              Counts(total=37, done=37, nuevas=12, modificadas=25, sent=37, batchesOk=8).as_dict()),
    RunRecord("r2", "q2", "historico", {"anio": 2025}, "local", "failed", "2026-03-01T17:05:00Z",
              "2026-03-01T17:09:00Z", None,
              Counts(total=120, done=40, sent=36, failed=4, batchesOk=7, batchesFailed=1).as_dict(), "timeout"),
    RunRecord("r1", "q1", "rebuild", {}, "production", "stopped", "2026-03-01T08:00:00Z",
              "2026-03-01T08:30:00Z", "2025-007000",
              Counts(total=900, done=280, sent=270, skipped=10, batchesOk=54).as_dict()),
)  # fmt: skip
BASE = AgentSnapshot(
    state="idle", role="active", connection="connected", agent_id="PC-OFICINA", hostname="PC-OFICINA",
    version="0.1.0", years=("2026", "2025", "2024"), recent_runs=RECENT,
    autosync=AutoSyncView(True, 30, "production", None),
)  # fmt: skip
RUN = {
    "run_id": "r4",
    "code": "2025-007850",
    "info": "CONSTRUCCIONES ÁLVAREZ — OBRA PEÑÍSCOLA",
    "started_at": "2026-03-02T10:41:02Z",
    "elapsed_s": 130.0,
    "eta_s": 250.0,
    "progress": Counts(total=500, done=150, nuevas=12, modificadas=138, sent=150, batchesOk=30, elements=4100),
}


def sample(visual: str) -> AgentSnapshot:
    """A realistic snapshot for each visual state of docs/ui.md."""
    if visual == "running":
        return replace(BASE, state="sending", message="Sincronizando 150/500", **RUN)
    if visual == "pausing":
        return replace(BASE, state="pausing", message="Pausando tras la planilla actual", **RUN)
    if visual == "paused":
        message = "Pausada en 2025-007850. Use Reanudar para continuar donde se quedó."
        return replace(BASE, state="paused", message=message, **RUN)
    if visual == "completed":
        return replace(BASE, state="completed", code="2026-000010",
                       message="Sincronización completada: 37 planillas (12 nuevas, 25 modificadas) en 1 min 20 s",
                       progress=Counts(total=37, done=37, nuevas=12, modificadas=25, sent=37, batchesOk=8))  # fmt: skip
    if visual == "idle":
        return replace(BASE, state="idle", recent_runs=(), message="En espera: sin sincronización activa")
    if visual == "error":
        return replace(BASE, state="failed", code="2025-007850",
                       message="Error de sincronización en 2025-007850: el servidor tardó más de 5 minutos en "
                       "responder. Revise la conexión con Manager y vuelva a sincronizar.")  # fmt: skip
    if visual == "disconnected":
        # What a real subscriber records for a closed port (tests/gui/test_offline_windows.py), next try in 8 s.
        offline = Offline(OfflineReason.NO_RESPONSE, time.time() + 7.9, "ConnectionRefusedError: [Errno 111] "
                          "Connection refused")  # fmt: skip
        return replace(BASE, connection="disconnected", connection_detail=offline.detail, offline=offline)
    if visual == "standby":
        return replace(BASE, role="standby", active_agent="PC-OFICINA2", recent_runs=())
    raise ValueError(visual)


class ScriptedService:
    def __init__(self, settings: Any = None, *, on_snapshot: Any = None, on_notice: Any = None,
                 start_worker: Any = None, on_quit: Any = None, initial: AgentSnapshot | None = None,
                 settle_s: float = 0.2) -> None:  # fmt: skip
        self.settings = settings
        self.on_snapshot, self.on_notice = on_snapshot, on_notice
        self.start_worker, self.on_quit = start_worker, on_quit
        self.snap = initial or sample("running")
        self.settle_s = settle_s
        self.commands: list[tuple[str, dict[str, Any] | None]] = []
        self.started = self.stopped = 0
        self.session_ended = False
        self.lock = threading.Lock()

    def start(self) -> None:
        self.started += 1

    def stop(self) -> None:
        self.stopped += 1

    def end_session(self) -> None:
        self.session_ended = True

    def snapshot(self) -> AgentSnapshot:
        with self.lock:
            return self.snap

    def set(self, snap: AgentSnapshot) -> None:
        with self.lock:
            self.snap = snap
        if self.on_snapshot:
            self.on_snapshot(snap)

    def notice(self, kind: str, title: str, text: str) -> None:
        if self.on_notice:
            self.on_notice(Notice(kind, title, text))

    def _later(self, snap: AgentSnapshot) -> None:
        timer = threading.Timer(self.settle_s, self.set, args=(snap,))
        timer.daemon = True
        timer.start()

    def submit(self, command: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.commands.append((command, params))
        state = self.snapshot().state
        if command == "start":
            if state in ("starting", "analysing", "sending", "pausing", "stopping", "paused"):
                return {"result": "rejected", "reason": "ya hay una sincronización en curso (150/500)"}
            self.set(replace(self.snapshot(), state="analysing", progress=Counts()))
        elif command == "pause":
            self.set(replace(self.snapshot(), state="pausing"))
            self._later(replace(self.snapshot(), state="paused"))
        elif command == "resume":
            self.set(replace(self.snapshot(), state="sending"))
        elif command == "stop":
            self.set(replace(self.snapshot(), state="stopping"))
        elif command == "kill":
            self.set(replace(self.snapshot(), state="stopped"))
        return {"result": "accepted", "reason": None}
