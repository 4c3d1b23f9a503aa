"""What a run sends: the planillas its mode selects, with incremental detection and the safety limit.

The planner only decides; the run loop (`sync.engine`) reads, batches and sends what it returns. A
resumed run is not planned here: it sends what its journal still holds pending. Modes, detection
rules and the safety limit are described in docs/engine.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from sync import detection_cache
from sync.detection import Fingerprint, Plan, plan_incremental
from sync.manager import ManagerClient
from sync.model import Mode, Phase
from sync.request import StartRequest, StartRequestError
from sync.runcontrol import RunControl
from sync.sender import call_abandonable
from sync.words import thousands

# The engine's logger: planning is a step of the run, and the run log (agent/logs.py) follows this name.
log = logging.getLogger("ferrasync.engine")

T = TypeVar("T")



class SafetyLimitExceeded(StartRequestError):
    """An incremental run found more planillas than the safety limit; nothing was sent.

    Carries both numbers so a window can ask "¿Enviarlas igualmente?" and re-send the start with force.
    """

    def __init__(self, found: int, limit: int) -> None:
        super().__init__(
            f"Se detectaron {thousands(found)} planillas para enviar, más que el límite de seguridad "
            f"({thousands(limit)}). No se ha enviado nada."
        )
        self.found, self.limit = found, limit

class Listing(Protocol):
    """The part of FerraWin the planner reads (sync.engine.Source extends it)."""

    def list_codes(self, *, year: int | None = None, desde_codigo: str | None = None) -> list[str]: ...
    def fingerprints(self) -> dict[str, Fingerprint]: ...
    def sin_obra(self) -> set[str]: ...


@dataclass
class Planned:
    codes: list[str]  # what to send, in order
    plan: Plan | None = None  # incremental modes: which are new, which modified and why
    detection: str = ""  # incremental modes: "cache" or "scan"


@dataclass(frozen=True)
class PlannerOptions:
    """The engine's options the planner uses (filled from sync.engine.EngineOptions)."""

    data_dir: Path  # where the detection cache lives
    safety_limit: int  # an incremental run plans at most this many planillas without «forzar»
    detection_cache: bool  # skip the grouped scan when FerraWin's tables are unchanged
    rescan_s: float  # a full scan at least this often


class Query(Protocol):
    """Runs a FerraWin call so that a kill abandons it (the engine's `_Run.query`)."""

    def __call__(self, fn: Callable[[], T]) -> T: ...


class Planner:
    """Plans one run. `query` runs a FerraWin call that a kill abandons; `report` sends a progress phase."""

    def __init__(
        self,
        client: ManagerClient,
        control: RunControl,
        options: PlannerOptions,
        query: Query,
        report: Callable[..., None],  # the run's report(phase: Phase, **fields)
    ) -> None:
        self.client = client
        self.control = control
        self.options = options
        self.query = query
        self.report = report
        self.detection = ""

    def plan(self, source: Listing, request: StartRequest) -> Planned:
        self.report(Phase.ANALYSING, message="Analizando cambios en FerraWin...")
        plan: Plan | None = None
        if request.mode == Mode.ESPECIFICA:
            assert request.code is not None
            codes = [c for c in self.query(source.list_codes) if c == request.code]
            if not codes:
                raise StartRequestError(f"La planilla {request.code} no existe en FerraWin.")
        elif request.mode in (Mode.HISTORICO, Mode.REBUILD):
            codes = self.query(lambda: source.list_codes(year=request.year, desde_codigo=request.from_code))
        else:
            manager = call_abandonable(self.client.existing_codes, self.control)
            listing, fingerprints, sin_obra = self.detect(source, need_fingerprints=request.mode != Mode.NUEVAS)
            if request.from_code:
                listing = [c for c in listing if c <= request.from_code]
            plan = plan_incremental(listing, fingerprints, manager, sin_obra, nuevas_only=request.mode == Mode.NUEVAS)
            codes = plan.codes
            if len(codes) > self.options.safety_limit and not request.force:
                raise SafetyLimitExceeded(len(codes), self.options.safety_limit)
        if request.limit:
            codes = codes[: request.limit]
        return Planned(codes, plan, self.detection)

    def detect(self, source: Listing, *, need_fingerprints: bool) -> tuple[list[str], dict[str, Fingerprint], set[str]]:
        """FerraWin's listing, fingerprints and sin-obra set: remembered when its tables are unchanged.

        Manager's side is always fetched fresh by the caller; only FerraWin's side is remembered, and
        only while the whole-table fingerprint taken now equals the one taken before the remembered scan.
        """
        path = detection_cache.cache_path(self.options.data_dir)
        identity = str(getattr(source, "identity", "") or "")
        table_fingerprint: Callable[[], str | None] | None = getattr(source, "table_fingerprint", None)
        current = None
        if self.options.detection_cache and identity and table_fingerprint is not None:
            current = self.query(table_fingerprint)
            snapshot = detection_cache.load(path, identity, current, max_age_s=self.options.rescan_s)
            if snapshot is not None:
                self.detection = "cache"
                log.info("FerraWin unchanged since the scan of %s: detection from the cache", _stamp(snapshot.taken_at))
                self.report(
                    Phase.ANALYSING, message="FerraWin sin cambios desde el último análisis: se compara con Manager"
                )
                return list(snapshot.listing), snapshot.fingerprints, set(snapshot.sin_obra)
        self.detection = "scan"
        taken_at = time.time()
        listing = self.query(source.list_codes)
        fingerprints = self.query(source.fingerprints) if need_fingerprints else {}
        sin_obra = self.query(source.sin_obra)
        if current and need_fingerprints:
            snapshot = detection_cache.DetectionSnapshot(identity, current, taken_at, listing, fingerprints, sin_obra)
            try:
                detection_cache.save(path, snapshot)
            except OSError as exc:  # the cache is an optimisation: a full scan next time is the fallback
                log.warning("Could not write the detection cache %s: %s", path, exc)
        return listing, fingerprints, sin_obra


def _stamp(unix: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(unix))
