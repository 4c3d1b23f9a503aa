"""What a run is asked to do, what it reports while it runs, and how it ended."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from sync.codes import parse_user_code
from sync.errors import FerraSyncError

MODES = ("incremental", "nuevas", "historico", "rebuild", "especifica")
TARGETS = ("production", "local")


class RunRequestError(FerraSyncError):
    """The run was asked for with bad parameters; nothing was read or sent."""


def thousands(n: int) -> str:
    """2688 → "2.688": how a Spanish user writes a count of planillas."""
    return f"{n:,}".replace(",", ".")


class SafetyLimitExceeded(RunRequestError):
    """An incremental run found more planillas than the safety limit; nothing was sent.

    Carries both numbers so a window can ask "¿Enviarlas igualmente?" and re-send the start with force.
    """

    def __init__(self, found: int, limit: int) -> None:
        super().__init__(
            f"Se detectaron {thousands(found)} planillas para enviar, más que el límite de seguridad "
            f"({thousands(limit)}). No se ha enviado nada."
        )
        self.found, self.limit = found, limit


def normalise_code(text: str) -> str:
    """`2026-886` → `2026-000886`; raises RunRequestError for anything that is not YYYY-N."""
    code = parse_user_code(text)
    if code is None:
        raise RunRequestError(
            f"Código de planilla no válido: {text!r}. Use el formato AAAA-NNNNNN, p. ej. 2026-000886."
        )
    return code


@dataclass(frozen=True)
class RunRequest:
    mode: str = "incremental"
    target: str = "production"
    anio: str | None = None
    codigo: str | None = None
    desde_codigo: str | None = None
    limit: int | None = None
    dry_run: bool = False
    force: bool = False
    request_id: str | None = None
    resume_run_id: str | None = None

    def validated(self) -> RunRequest:
        """The same request with its codes normalised, or RunRequestError saying what is wrong."""
        if self.mode not in MODES:
            raise RunRequestError(f"Modo desconocido {self.mode!r}. Modos: {', '.join(MODES)}.")
        if self.target not in TARGETS:
            raise RunRequestError(f"Destino desconocido {self.target!r}: use production o local.")
        anio = self.anio
        if self.mode == "historico":
            if not anio or not re.fullmatch(r"\d{4}", anio.strip()) or not 1990 <= int(anio) <= 2100:
                raise RunRequestError(f"El modo histórico necesita un año de 4 cifras (p. ej. 2025), no {anio!r}.")
            anio = anio.strip()
        codigo = self.codigo
        if self.mode == "especifica":
            if not codigo:
                raise RunRequestError("El modo especifica necesita el código de la planilla (p. ej. 2026-886).")
            codigo = normalise_code(codigo)
        desde = normalise_code(self.desde_codigo) if self.desde_codigo else None
        if self.limit is not None and self.limit <= 0:
            raise RunRequestError(f"El límite debe ser un número positivo, no {self.limit}.")
        return RunRequest(**{**asdict(self), "anio": anio, "codigo": codigo, "desde_codigo": desde})

    @property
    def metadata_modo(self) -> str:
        """`metadata.modo` as the PHP tool sent it (docs/engine.md)."""
        if self.mode == "rebuild":
            return "rebuild"
        if self.mode == "historico":
            return f"historico-{self.anio}"
        return "incremental"

    def params(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, False) and k not in ("request_id",)}


@dataclass
class Counts:
    total: int = 0
    done: int = 0
    nuevas: int = 0
    modificadas: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    batchesOk: int = 0  # wire names (docs/protocol.md)
    batchesFailed: int = 0
    elements: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class Progress:
    """One report from a run, for the tray, the status publisher and the CLI's progress bar."""

    run_id: str
    phase: str  # starting, analysing, sending, pausing, paused, stopping, stopped, done, failed, refused
    counts: Counts
    code: str = ""
    info: str = ""  # "cliente — obra"
    is_update: bool = False
    message: str = ""
    elapsed_s: float = 0.0
    eta_s: float | None = None


@dataclass
class RunSummary:
    run_id: str
    state: str  # completed | paused | stopped | failed | refused | dry-run
    counts: Counts
    message: str
    duration_s: float = 0.0
    failed_codes: list[str] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)
    reasons: dict[str, list[str]] = field(default_factory=dict)
    safety_limit: int | None = None  # set when the safety limit refused the run (counts.total = found)
