"""The Errores tab: failures reported by the agent, classified as Manager's web monitor does.

Timeout (the server took too long), Autenticación (token refused, 401/403), Error servidor (5xx), or a
plain Error; each with the planilla involved ("Cerca de"), taken from the codes in the message or else
the planilla the agent was on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sync.manager import DETAIL
from sync.model import WireStatus

CODE_RE = re.compile(r"\b(\d{4}-\d{1,6})\b")
_TIMEOUT = re.compile(r"timed out|timeout|tard[óo]|no respondi[óo]|tiempo de espera|curl error 28", re.I)
_AUTH = re.compile(r"\b40[13]\b|token|autentica|unauthori[sz]ed|forbidden", re.I)
_SERVER = re.compile(r"\b5\d\d\b|error del servidor|server error", re.I)
_BATCH_ERROR = re.compile(r"error en lote|error en batch|lote con error|fall[óo]", re.I)


def classify(message: str) -> str:
    """'timeout' | 'auth' | 'server' | 'error' (the web monitor's order: timeout first)."""
    if _TIMEOUT.search(message):
        return "timeout"
    if _AUTH.search(message):
        return "auth"
    if _SERVER.search(message):
        return "server"
    return "error"


@dataclass(frozen=True)
class ErrorEntry:
    at: datetime
    kind: str
    planilla: str
    description: str  # the whole message, as the agent reported it
    agent: str

    @property
    def headline(self) -> str:
        """The sentence for users: without the technical tail ("Detalle: 403 en /api/…") and without URLs."""
        return headline(self.description)


_URL = re.compile(r"\b(?:https?|wss?)://\S+")


def headline(message: str) -> str:
    """What the Errores tab shows; the whole message is its tooltip (docs/ui.md rule 5)."""
    text = message.split(" " + DETAIL, 1)[0]
    return _URL.sub("Manager", text).strip()


def is_error_status(status: Mapping[str, Any]) -> bool:
    message = str(status.get("message") or "")
    return status.get("status") == WireStatus.ERROR or bool(message and _BATCH_ERROR.search(message))


def entry_from_status(status: Mapping[str, Any], at: datetime) -> ErrorEntry | None:
    if not is_error_status(status):
        return None
    message = str(status.get("message") or "Error en sincronización")
    codes = CODE_RE.findall(message)
    planilla = codes[0] if codes else str(status.get("lastPlanilla") or "")
    who = str(status.get("hostname") or status.get("agent") or "")
    return ErrorEntry(at, classify(message), planilla, message, who)


class ErrorList:
    def __init__(self, keep: int = 200) -> None:
        self.keep = keep
        self._entries: list[ErrorEntry] = []

    def on_status(self, status: Mapping[str, Any], at: datetime) -> ErrorEntry | None:
        entry = entry_from_status(status, at)
        if entry is None:
            return None
        last = self._entries[-1] if self._entries else None
        if last is not None and (last.description, last.planilla) == (entry.description, entry.planilla):
            return None  # the same error repeated by heartbeats is one error
        self._entries.append(entry)
        del self._entries[: -self.keep]
        return entry

    def entries(self) -> list[ErrorEntry]:
        """Newest first, as the web monitor shows them."""
        return list(reversed(self._entries))
