"""The activity log: the lines written for users, in Spanish, that the agent's windows show ("Registro").

The technical logs (`listener-*.log`, `sync-*.log`, agent/logs.py) say everything, in English, for whoever
debugs; this one says what a user needs to know: a run started, how many planillas it found, how it ended,
the remote channel lost or back (and why), this PC becoming the active agent or the standby. It is derived
from the agent's successive snapshots, so every surface that shows a state and this log agree. Written to
`logs/actividad-YYYY-MM-DD.log` in the data folder, kept and pruned like the other daily logs
(docs/decisions.md "The activity log"). Qt-free.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from agent.logs import DailyFileHandler, SecretMask
from agent.snapshot import AgentSnapshot
from agent.ui import model
from agent.ui import strings as S
from sync.model import Connection, LogMark, Role, RunState
from sync.pusher.offline import reason_line

PREFIX = "actividad"
# One mark per kind of line, instead of English level names: the window colours by it (agent/ui/model.py).
OK, INFO, WARN, ERROR = LogMark.OK, LogMark.INFO, LogMark.WARN, LogMark.ERROR
_LEVELS = {OK: logging.INFO, INFO: logging.INFO, WARN: logging.WARNING, ERROR: logging.ERROR}
ENDINGS = {RunState.COMPLETED: OK, RunState.FAILED: ERROR, RunState.REFUSED: ERROR, RunState.PAUSED: WARN,
           RunState.STOPPED: WARN, RunState.INTERRUPTED: WARN}  # fmt: skip

STARTED = "Sincronización iniciada: {mode} → {target}"
STARTED_BY = " (pedida desde {who})"
PLANNED = "{total} planillas por sincronizar"
CONNECTED = "Conectado al canal remoto: este PC recibe órdenes de otros equipos"
OFFLINE = "Sin conexión con el canal remoto; se reintenta solo"
ROLE_ACTIVE = "Este PC es el agente activo: hace las sincronizaciones"
ROLE_STANDBY = "Este PC queda en reserva: {active} está activo"


def lines_for(before: AgentSnapshot | None, after: AgentSnapshot) -> list[tuple[LogMark, str]]:
    """(mark, sentence) for what changed between two snapshots (`before` None: the first one)."""
    lines: list[tuple[LogMark, str]] = []
    lines += _run_lines(before, after)
    lines += _connection_lines(before, after)
    lines += _role_lines(before, after)
    return lines


def _get(snap: Any, name: str, default: Any = None) -> Any:
    return default if snap is None else getattr(snap, name, default)


def _run_lines(before: AgentSnapshot | None, after: AgentSnapshot) -> list[tuple[LogMark, str]]:
    state, previous = after.state, before.state if before is not None else None
    same_run = _get(before, "run_id") == after.run_id
    lines: list[tuple[LogMark, str]] = []
    if state.progressing and not (same_run and previous is not None and previous.busy):
        who = (after.origin or {}).get("hostname") or ""
        target = S.TARGET.get(after.target or "", after.target or "")
        text = STARTED.format(mode=model.mode_text(after.mode or "", {"anio": after.year}), target=target)
        lines.append((INFO, text + (STARTED_BY.format(who=who) if who else "")))
    total = int(after.progress.total or 0)
    if state is RunState.SENDING and total and not (same_run and int(_get(_get(before, "progress"), "total", 0) or 0)):
        lines.append((INFO, PLANNED.format(total=total)))
    if state in ENDINGS and (state != previous or not same_run) and before is not None and after.message:
        lines.append((ENDINGS[state], after.message))
    return lines


def _connection_lines(before: AgentSnapshot | None, after: AgentSnapshot) -> list[tuple[LogMark, str]]:
    connection = after.connection
    offline = after.offline
    was_reason = getattr(_get(before, "offline"), "reason", None)
    if connection == _get(before, "connection") and getattr(offline, "reason", None) == was_reason:
        return []
    if connection is Connection.CONNECTED:
        return [(OK, CONNECTED)]
    if connection in (Connection.DISCONNECTED, Connection.FAILED):
        if offline is not None:
            return [(WARN, reason_line(offline))]  # no countdown: a log line is read later
        if connection != _get(before, "connection"):
            # "failed" without a subscriber's reason is the agent's own sentence (the channel not configured).
            failed = connection is Connection.FAILED and after.connection_detail
            return [(WARN, after.connection_detail if failed else OFFLINE)]
    return []


def _role_lines(before: AgentSnapshot | None, after: AgentSnapshot) -> list[tuple[LogMark, str]]:
    if after.connection is not Connection.CONNECTED:
        return []  # the role is known only on the channel
    role, active = after.role, after.active_agent
    if before is not None and (before.role, before.active_agent, before.connection) == (role, active, after.connection):
        return []
    if role is Role.ACTIVE:
        return [(INFO, ROLE_ACTIVE)]
    return [(INFO, ROLE_STANDBY.format(active=active))] if active else []  # no line until the active one is known


class ActivityLog:
    """Writes the lines for each new snapshot to `logs/actividad-<today>.log`, with every secret masked."""

    def __init__(self, logs: Path, secrets: list[str] | None = None) -> None:
        self._handler = DailyFileHandler(logs, PREFIX)
        self._handler.setFormatter(logging.Formatter("[%(asctime)s] %(message)s", "%Y-%m-%d %H:%M:%S"))
        self._handler.addFilter(SecretMask(secrets or []))
        self._last: AgentSnapshot | None = None
        self._lock = threading.Lock()  # snapshots come from the service thread and the run's worker

    def observe(self, snap: AgentSnapshot) -> None:
        with self._lock:
            for mark, text in lines_for(self._last, snap):
                self.write(mark, text)
            self._last = snap

    def write(self, mark: LogMark, text: str) -> None:
        record = logging.LogRecord("ferrasync.activity", _LEVELS[mark], __file__, 0, f"{mark} {text}", None, None)
        self._handler.handle(record)

    def close(self) -> None:
        self._handler.close()
