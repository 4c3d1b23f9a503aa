"""What a person types in the command forms, checked before anything is sent (docs/ui.md).

Each function returns the normalised value or raises InputError with the sentence to show next to the
field; nothing is sent while an input is wrong. The rules are the core's (`sync.request`, `sync.codes`):
only the sentences are the window's.
"""

from __future__ import annotations

from desktop import strings
from sync.codes import CodeError, normalise_code
from sync.errors import FerraSyncError
from sync.model import Target
from sync.request import StartRequest, StartRequestError, parse_target, parse_year


class InputError(FerraSyncError):
    """A value typed in a form is not valid; `message` says how to write it."""


def planilla_code(text: str) -> str:
    """`2026-886` → `2026-000886` (the web monitor's normalisation)."""
    if not text or not text.strip():
        raise InputError(strings.CODE_EMPTY)
    try:
        return normalise_code(text)
    except CodeError:
        raise InputError(strings.CODE_BAD) from None


def year(text: str | int) -> int:
    try:
        value = parse_year(text)
    except StartRequestError:
        value = None
    if value is None:
        raise InputError(strings.YEAR_BAD)
    return value


def target(text: str) -> Target:
    """The Manager a command is for (the form's choice, always one of them; the request's sentence otherwise)."""
    try:
        return parse_target(text)
    except StartRequestError as exc:
        raise InputError(exc.message) from None


def start_request(
    modo: str,
    target: str,
    *,
    anio: str | int | None = None,
    codigo: str | None = None,
    desde: str | None = None,
    force: bool = False,
) -> StartRequest:
    """The `start` the form asks for: each field in the form's words first, then the request's own rules."""
    fields: dict[str, object] = {"mode": modo, "target": target, "force": force}
    if modo == "historico":
        fields["year"] = year(anio if anio is not None else "")
    if modo == "especifica":
        fields["code"] = planilla_code(codigo or "")
    if desde is not None:
        fields["from_code"] = planilla_code(desde)
    try:
        return StartRequest.parse(**fields)
    except StartRequestError as exc:
        raise InputError(exc.message) from None
