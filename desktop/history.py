"""The runs this window has seen, in a SQLite file in the data folder, kept across restarts.

A run is keyed by its runId (a resumed run keeps it), else by the requestId that started it. Its mode
comes from the `sync.command` that started it, which every window on the channel also receives (so a run
started from Manager's web monitor or another PC has its mode too), or, when this window did not hear that
command, from the status's `year` seed field; statuses carry the rest.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sync import protocol, protocol_parse
from sync.model import Mode, RunState

FILE_NAME = "control-history.db"

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_key    TEXT PRIMARY KEY,
    request_id TEXT,
    agent      TEXT NOT NULL DEFAULT '',
    mode       TEXT NOT NULL DEFAULT '',
    year       TEXT NOT NULL DEFAULT '',
    target     TEXT NOT NULL DEFAULT '',
    started_at TEXT NOT NULL,
    ended_at   TEXT,
    result     TEXT NOT NULL,
    counts     TEXT NOT NULL DEFAULT '{}',
    origin     TEXT NOT NULL DEFAULT '',
    message    TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS commands_seen (
    request_id TEXT PRIMARY KEY,
    command    TEXT NOT NULL,
    params     TEXT NOT NULL,
    origin     TEXT NOT NULL DEFAULT '',
    seen_at    TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class RunRow:
    run_key: str
    request_id: str | None
    agent: str
    mode: str
    year: str
    target: str
    started_at: str
    ended_at: str | None
    result: RunState  # older files hold the wire's words ("running", "error"): read back with RunState.parse
    counts: dict[str, Any]
    origin: str
    message: str


def origin_text(origin: Any) -> str:
    if not isinstance(origin, Mapping):
        return ""
    host, user = origin.get("hostname"), origin.get("user")
    return " / ".join(str(v) for v in (user, host) if v)


def run_result(status: Mapping[str, Any]) -> RunState | None:
    """The run's state a status tells, or None when the status says nothing about a run (idle heartbeat)."""
    state = RunState.from_wire(status.get("status"), status.get("phase"))
    return None if state is RunState.IDLE else state


def mode_of(command: str, params: Mapping[str, Any]) -> str:
    if command != "start":
        return ""
    try:
        return str(protocol_parse.parse_start_request(params).mode)
    except protocol.ProtocolError:
        return str(params.get("modo") or "")


def mode_from_status(year: Any) -> tuple[str, str]:
    """(mode, year) from a status's `year` seed field, for a run whose command this window never saw: the agent
    fills it as the PHP listener did ("rebuild", "incremental", "nuevas", or a year). A bare year is taken as
    a year run; a specific planilla's run also shows its year there and cannot be told apart."""
    text = str(year or "").strip()
    if text in {str(mode) for mode in Mode}:
        return text, ""
    if len(text) == 4 and text.isdigit():
        return "historico", text
    return "", ""


class HistoryStore:
    """Thread-safe: one connection, used under a lock (statuses arrive on the subscriber thread)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self.closed = False

    def close(self) -> None:
        with self._lock:
            self.closed = True
            self._db.close()

    def record_command(self, wire: Mapping[str, Any]) -> None:
        params = wire.get("params") if isinstance(wire.get("params"), Mapping) else {}
        with self._lock:
            if self.closed:  # a late event after the window closed
                return
            self._db.execute(
                "INSERT OR IGNORE INTO commands_seen VALUES (?, ?, ?, ?, ?)",
                (
                    str(wire.get("requestId")),
                    str(wire.get("command")),
                    json.dumps(params, ensure_ascii=False),
                    origin_text(wire.get("origin")),
                    str(wire.get("timestamp") or protocol.iso_utc(protocol.now_utc())),
                ),
            )

    def _command(self, request_id: str | None) -> tuple[str, dict[str, Any], str] | None:
        if not request_id:
            return None
        row = self._db.execute(
            "SELECT command, params, origin FROM commands_seen WHERE request_id = ?", (request_id,)
        ).fetchone()
        return (row[0], json.loads(row[1]), row[2]) if row else None

    def on_status(self, status: Mapping[str, Any]) -> bool:
        """Update the run a status belongs to; True when the history changed."""
        result = run_result(status)
        key = status.get("runId") or status.get("requestId")
        if result is None or not key:
            return False
        stamp = str(status.get("timestamp") or protocol.iso_utc(protocol.now_utc()))
        with self._lock:
            if self.closed:
                return False
            self._rekey(status)
            existing = self._db.execute("SELECT result, counts FROM runs WHERE run_key = ?", (key,)).fetchone()
            counts = json.dumps(status.get("counts") or {}, ensure_ascii=False)
            ended = stamp if result.ended else None
            if existing is None:
                self._insert(str(key), status, result, counts, stamp, ended)
                return True
            if existing[0] == result and existing[1] == counts:
                return False
            self._db.execute(
                "UPDATE runs SET result = ?, counts = ?, ended_at = ?, message = ?, "
                "request_id = COALESCE(request_id, ?) WHERE run_key = ?",
                (result, counts, ended, str(status.get("message") or ""), status.get("requestId"), key),
            )
            return True

    def _rekey(self, status: Mapping[str, Any]) -> None:
        """The first statuses of a run may come before it has a runId (keyed by requestId): one run, one row."""
        run_id, request_id = status.get("runId"), status.get("requestId")
        if run_id and request_id and run_id != request_id:
            taken = self._db.execute("SELECT 1 FROM runs WHERE run_key = ?", (run_id,)).fetchone()
            if taken is None:
                self._db.execute("UPDATE runs SET run_key = ? WHERE run_key = ?", (run_id, request_id))
            else:
                self._db.execute("DELETE FROM runs WHERE run_key = ?", (request_id,))

    def _insert(
        self, key: str, status: Mapping[str, Any], result: str, counts: str, stamp: str, ended: str | None
    ) -> None:
        command = self._command(status.get("requestId"))
        if command:
            mode = mode_of(command[0], command[1])
            year = str(status.get("year") or command[1].get("anio") or "")
        else:  # started by a sender this window did not hear: the status says what kind of run it is
            mode, year = mode_from_status(status.get("year"))
        origin = origin_text(status.get("origin")) or (command[2] if command else "")
        self._db.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                status.get("requestId"),
                str(status.get("hostname") or status.get("agent") or ""),
                mode,
                year,
                str(status.get("target") or (command[1].get("target") if command else "") or ""),
                str(status.get("startedAt") or stamp),
                ended,
                result,
                counts,
                origin,
                str(status.get("message") or ""),
            ),
        )

    def runs(self, limit: int = 500) -> list[RunRow]:
        with self._lock:
            if self.closed:
                return []
            rows = self._db.execute("SELECT * FROM runs ORDER BY started_at DESC LIMIT ?", (limit,)).fetchall()
        return [
            RunRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], RunState.parse(r[8]), json.loads(r[9] or "{}"),
                   r[10], r[11])
            for r in rows
        ]
