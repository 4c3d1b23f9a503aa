"""What a person types in the command forms, checked before anything is sent.

Each function returns the normalised value or raises InputError with the sentence to show next to the
field; nothing is sent while an input is wrong.
"""

from __future__ import annotations

import re

from desktop import strings
from sync import protocol
from sync.codes import parse_user_code
from sync.errors import FerraSyncError


class InputError(FerraSyncError):
    """A value typed in a form is not valid; `message` says how to write it."""


def planilla_code(text: str) -> str:
    """`2026-886` → `2026-000886` (the web monitor's normalisation)."""
    if not text or not text.strip():
        raise InputError(strings.CODE_EMPTY)
    code = parse_user_code(text)
    if code is None:
        raise InputError(strings.CODE_BAD)
    return code


def year(text: str | int) -> int:
    value = str(text).strip()
    if not re.fullmatch(r"\d{4}", value) or not protocol.MIN_YEAR <= int(value) <= protocol.MAX_YEAR:
        raise InputError(strings.YEAR_BAD)
    return int(value)


def start_params(
    modo: str,
    target: str,
    *,
    anio: str | int | None = None,
    codigo: str | None = None,
    desde: str | None = None,
    force: bool = False,
) -> protocol.StartParams:
    """The params of a `start`, validated by the form rules first, then by the agent's own rules."""
    raw: dict[str, object] = {"modo": modo, "target": target}
    if modo == "historico":
        raw["anio"] = year(anio if anio is not None else "")
    if modo == "especifica":
        raw["codigo_especifico"] = planilla_code(codigo or "")
    if desde is not None:
        raw["desde_codigo"] = planilla_code(desde)
    if force:
        raw["force"] = True
    try:
        return protocol.parse_start_params(raw)
    except protocol.ProtocolError as exc:
        raise InputError(exc.reason) from None
