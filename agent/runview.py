"""The current (or last) run as the agent shows it, and the default background worker."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sync.journal import RunRecord
from sync.request import StartRequest
from sync.runmodel import Counts, Progress


class WorkerHandle(Protocol):
    def join(self, timeout: float | None = None) -> bool: ...
    def is_alive(self) -> bool: ...


class ThreadWorker:
    """The headless worker: a plain daemon thread (the tray passes a QThread-based one)."""

    def __init__(self, fn: Callable[[], None]) -> None:
        self._thread = threading.Thread(target=fn, name="ferrasync-run", daemon=True)
        self._thread.start()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def is_alive(self) -> bool:
        return self._thread.is_alive()


def thread_worker(fn: Callable[[], None]) -> WorkerHandle:
    return ThreadWorker(fn)


@dataclass(frozen=True)
class RunView:
    run_id: str | None = None
    request_id: str | None = None
    origin: dict[str, str | None] | None = None
    mode: str | None = None
    target: str | None = None
    year: str | None = None
    counts: Counts = field(default_factory=Counts)
    code: str = ""
    info: str = ""
    is_update: bool = False
    started_at: str | None = None  # ISO-8601 UTC
    started_mono: float | None = None
    elapsed_s: float | None = None
    eta_s: float | None = None
    safety_limit: int | None = None  # the limit that refused this run (counts.total is what was found)

    def with_progress(self, p: Progress) -> RunView:
        return replace(
            self,
            run_id=p.run_id or self.run_id,
            counts=Counts(**p.counts.as_dict()),
            code=p.code or self.code,
            info=p.info or (self.info if not p.code else ""),
            is_update=p.is_update if p.code else self.is_update,
            elapsed_s=p.elapsed_s,
            eta_s=p.eta_s,
        )

    def elapsed(self) -> float | None:
        if self.started_mono is None:
            return self.elapsed_s
        return time.monotonic() - self.started_mono


def year_label(mode: str | None, anio: str | None = None, codigo: str | None = None) -> str | None:
    """The status's `year` field as the PHP listener filled it: a year, "rebuild", "incremental"."""
    if mode == "historico":
        return anio
    if mode == "especifica":
        return codigo[:4] if codigo else None
    if mode == "rebuild":
        return "rebuild"
    return mode


def view_for_request(
    request: StartRequest, request_id: str | None, origin: dict[str, str | None] | None, started_at: str
) -> RunView:
    """A new run's view, before the engine has given it an id."""
    year = None if request.year is None else str(request.year)  # the status's `year` is text
    return RunView(
        run_id=None,
        request_id=request_id,
        origin=origin,
        mode=request.mode,
        target=request.target,
        year=year_label(request.mode, year, request.code),
        started_at=started_at,
        started_mono=time.monotonic(),
    )


def view_for_record(
    record: RunRecord, request_id: str | None = None, origin: dict[str, str | None] | None = None
) -> RunView:
    params: dict[str, Any] = record.params
    counts = {k: int(v) for k, v in (record.counts or {}).items() if k in Counts.__dataclass_fields__}
    return RunView(
        run_id=record.run_id,
        request_id=request_id or record.request_id,
        origin=origin,
        mode=record.mode,
        target=record.target,
        year=year_label(record.mode, params.get("anio"), params.get("codigo")),
        counts=Counts(**counts),
        code=record.last_confirmed or "",
        started_at=record.started_at,
    )
