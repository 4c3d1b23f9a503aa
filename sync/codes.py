"""Planilla codes: `ZCONTA-ZCODIGO` with ZCODIGO padded to 6 digits, as Manager stores them."""

from __future__ import annotations

import re

from sync.errors import FerraSyncError

USER_CODE_RE = re.compile(r"^(\d{4})-(\d{1,6})$")


def pad_code(zconta: str, zcodigo: str) -> str:
    """`ZCONTA + '-' + RIGHT('000000' + ZCODIGO, 6)`, exactly as the SQL computes it."""
    return f"{zconta}-{('000000' + zcodigo)[-6:]}"


def parse_user_code(text: object) -> str | None:
    """A code a person typed (`2026-886`) as Manager stores it (`2026-000886`); None if it is not one."""
    match = USER_CODE_RE.match(text.strip()) if isinstance(text, str) else None
    return pad_code(match.group(1), match.group(2)) if match else None


class CodeError(FerraSyncError):
    """Text that is not a planilla code; the message says the expected form."""


def normalise_code(text: object) -> str:
    """`2026-886` → `2026-000886`; CodeError (Spanish, for the user) for anything that is not YYYY-N."""
    code = parse_user_code(text)
    if code is None:
        shown = str(text)[:40] if text is not None else ""
        raise CodeError(f"Código de planilla no válido: {shown!r}. Use el formato AAAA-NNNNNN, p. ej. 2026-000886.")
    return code
