"""What "start a sync" asks for: one frozen, typed request from the form, the CLI or the wire to `Engine.run`.

A `StartRequest` cannot exist in a bad shape: its constructor checks the combination (a historic run
has a year, a specific run a code...). The trust boundaries (the control window's form, the command
line, a `sync.command`) turn loose input into one with `StartRequest.parse`, the only parser; nothing
renames or re-maps it on the way. The journal stores it with `to_params`, in the keys earlier versions
wrote, so a run paused by an older FerraSync resumes (docs/engine.md, "Resume").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeVar

from sync.codes import CodeError, normalise_code
from sync.errors import FerraSyncError
from sync.model import MAX_YEAR, MIN_YEAR, Mode, Target

_Choice = TypeVar("_Choice", Mode, Target)


class StartRequestError(FerraSyncError):
    """The run was asked for with bad parameters; nothing was read or sent. The message is for the user."""


@dataclass(frozen=True)
class StartRequest:
    mode: Mode = Mode.INCREMENTAL
    target: Target = Target.PRODUCTION
    year: int | None = None  # historico only
    code: str | None = None  # especifica only; as Manager stores it (2026-000886)
    from_code: str | None = None  # start at this planilla (not with especifica)
    force: bool = False  # go past the safety limit
    limit: int | None = None  # at most this many planillas (command line only)
    dry_run: bool = False  # read and plan, send nothing (command line only)

    def __post_init__(self) -> None:
        problem = _problem(self)
        if problem:
            raise StartRequestError(problem)

    @classmethod
    def parse(
        cls,
        mode: object = None,
        target: object = None,
        year: object = None,
        code: object = None,
        from_code: object = None,
        force: object = False,
        limit: object = None,
        dry_run: object = False,
    ) -> StartRequest:
        """A request from loose input (text typed or read from JSON); StartRequestError says what is wrong."""
        try:
            return cls(
                mode=_member(Mode, mode, Mode.INCREMENTAL, "Modo"),
                target=parse_target(target),
                year=parse_year(year),
                code=_code(code),
                from_code=_code(from_code),
                force=_flag(force, "force"),
                limit=_limit(limit),
                dry_run=_flag(dry_run, "dry_run"),
            )
        except CodeError as exc:
            raise StartRequestError(str(exc)) from exc

    @property
    def metadata_modo(self) -> str:
        """`metadata.modo` of the batches, as the PHP tool sent it (docs/engine.md, "Batches")."""
        if self.mode is Mode.REBUILD:
            return "rebuild"
        if self.mode is Mode.HISTORICO:
            return f"historico-{self.year}"
        return "incremental"

    def to_params(self) -> dict[str, Any]:
        """The journal's `params` column: the keys and value types earlier versions stored."""
        out: dict[str, Any] = {"mode": str(self.mode), "target": str(self.target)}
        optional = {"anio": None if self.year is None else str(self.year), "codigo": self.code,
                    "desde_codigo": self.from_code, "limit": self.limit}  # fmt: skip
        out.update({k: v for k, v in optional.items() if v is not None})
        out.update({k: True for k, v in (("force", self.force), ("dry_run", self.dry_run)) if v})
        return out

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> StartRequest:
        """A request read back from the journal (`to_params`, or what an earlier version wrote)."""
        return cls.parse(
            mode=params.get("mode"),
            target=params.get("target"),
            year=params.get("anio"),
            code=params.get("codigo"),
            from_code=params.get("desde_codigo"),
            force=params.get("force", False),
            limit=params.get("limit"),
            dry_run=params.get("dry_run", False),
        )


def parse_year(value: object) -> int | None:
    """A 4-digit year between MIN_YEAR and MAX_YEAR (int or text), or None when empty."""
    if value is None or value == "":
        return None
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not re.fullmatch(r"\d{4}", text) or not MIN_YEAR <= int(text) <= MAX_YEAR:
        raise StartRequestError(
            f"Año no válido: {str(value)[:20]!r}. Escriba un año de 4 cifras entre {MIN_YEAR} y {MAX_YEAR}."
        )
    return int(text)


def parse_target(value: object) -> Target:
    """A Manager to send to, by name (production when empty); StartRequestError names the valid ones."""
    return _member(Target, value, Target.PRODUCTION, "Destino")


def _problem(request: StartRequest) -> str:
    """What is wrong with a request's combination of fields, in Spanish, or ""."""
    mode = request.mode
    if not isinstance(mode, Mode) or not isinstance(request.target, Target):
        return "Modo o destino no válidos."
    if mode is Mode.HISTORICO and request.year is None:
        return "El modo histórico necesita un año de 4 cifras (p. ej. 2025)."
    if mode is not Mode.HISTORICO and request.year is not None:
        return f"El año solo se usa con el modo histórico, no con {mode}."
    if mode is Mode.ESPECIFICA and request.code is None:
        return "El modo especifica necesita el código de la planilla (p. ej. 2026-886)."
    if mode is not Mode.ESPECIFICA and request.code is not None:
        return "El código de planilla solo se usa con el modo especifica."
    if mode is Mode.ESPECIFICA and request.from_code is not None:
        return "«Desde el código» no se usa con el modo especifica."
    if request.limit is not None and request.limit <= 0:
        return f"El límite debe ser un número positivo, no {request.limit}."
    return ""


def _member(kind: type[_Choice], value: object, default: _Choice, label: str) -> _Choice:
    if value is None or value == "":
        return default
    try:
        return kind(str(value).strip().lower())
    except ValueError:
        valid = ", ".join(kind)
        raise StartRequestError(f"{label} desconocido: {str(value)[:30]!r}. Válidos: {valid}.") from None


def _code(value: object) -> str | None:
    return None if value is None or value == "" else normalise_code(value)


def _flag(value: object, name: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise StartRequestError(f"{name} debe ser true o false.")
    return value


def _limit(value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise StartRequestError(f"El límite debe ser un número entero, no {str(value)[:20]!r}.")
    return value
